// Package documents attaches files to cases. The bytes go to an object store
// (internal/storage), the metadata to the documents table.
//
// Who may reach a case's documents: the firm that owns the case always; a receiving firm only
// after it acknowledged its referral and while that referral is in a working status
// (under_evaluation, investigating, signed, in_litigation, closing). A firm that is a party to
// the case outside those times gets apperr.ErrPermission; any other firm apperr.ErrNotFound.
// Within a case a firm sees what it uploaded and the partner's documents marked public.
package documents

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/casexchange/server/gen/db"
	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/lifecycle"
	"github.com/casexchange/server/internal/notify"
	"github.com/casexchange/server/internal/postgres"
	"github.com/casexchange/server/internal/storage"
)

// Limits of the contract.
const (
	MaxFileSize       = 50 << 20 // 52,428,800 bytes of file content
	MaxDescriptionLen = 1000
	LinkTTL           = 15 * time.Minute
)

// Document is a file attached to a case.
type Document struct {
	ID                 uuid.UUID
	CaseID             uuid.UUID
	FileName           string
	MimeType           string
	SizeBytes          int64
	UploadedBy         string // the user's e-mail address or the API key's name
	UploadedByFirmID   uuid.UUID
	UploadedByFirmName string
	Description        *string
	IsPublic           bool
	CreatedAt          time.Time
}

// Link is a temporary download URL.
type Link struct {
	URL       string
	FileName  string
	MimeType  string
	SizeBytes int64
	ExpiresAt time.Time
}

// Content is an open document body for the signed download route. The caller closes Body.
type Content struct {
	Body     io.ReadCloser
	Size     int64
	MimeType string
	FileName string
}

// Notifier enqueues e-mail inside the caller's transaction (internal/notify.Service).
type Notifier interface {
	EnqueueTx(ctx context.Context, tx pgx.Tx, ev notify.Event) error
}

// Service runs the document operations.
type Service struct {
	pool   *pgxpool.Pool
	store  storage.Store
	log    *slog.Logger
	notify Notifier
	// webhooks (may be nil) records document.uploaded and document.deleted (WithWebhooks).
	webhooks Webhooks
}

// New returns a Service keeping files in store. notifier (may be nil) hears about public
// uploads, so the partner firm gets its document_uploaded e-mail.
func New(pool *pgxpool.Pool, store storage.Store, log *slog.Logger, notifier Notifier, opts ...Option) *Service {
	if log == nil {
		log = slog.Default()
	}
	s := &Service{pool: pool, store: store, log: log, notify: notifier}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Store returns the object store (tests and tools).
func (s *Service) Store() storage.Store { return s.store }

// access is the caller's standing on a case.
type access struct {
	ownerFirmID uuid.UUID
	isOwner     bool
}

// caseAccess resolves the caller's right to the documents of a case: apperr.ErrNotFound for a
// case that does not exist or to which the firm is no party, apperr.ErrPermission for a
// receiving firm outside the acknowledged working period.
func (s *Service) caseAccess(ctx context.Context, q *db.Queries, firmID, caseID uuid.UUID) (access, error) {
	row, err := q.DocumentCaseAccess(ctx, db.DocumentCaseAccessParams{FirmID: firmID, CaseID: caseID, WorkingStatuses: lifecycle.Working})
	if err != nil {
		if errors.Is(postgres.InterpretError(err), apperr.ErrNotFound) {
			return access{}, apperr.NotFound("case")
		}
		return access{}, postgres.InterpretError(err)
	}
	return standing(firmID, row.OwnerFirmID, row.Working, row.Party)
}

// standing is the documents rule for a firm on a case owned by owner: the owner sees them; a
// receiving firm sees them while it works an acknowledged referral of the case (working), and
// is refused (apperr.ErrPermission) while it is a party otherwise (party: a non-draft referral
// is addressed to it); any other firm learns nothing (apperr.ErrNotFound).
func standing(firm, owner uuid.UUID, working, party bool) (access, error) {
	switch {
	case owner == firm:
		return access{ownerFirmID: owner, isOwner: true}, nil
	case working:
		return access{ownerFirmID: owner}, nil
	case party:
		return access{}, apperr.Permission("Documents of a received case are available once the referral is acknowledged and while it is being worked")
	}
	return access{}, apperr.NotFound("case")
}

// List returns the documents of the case the caller sees, newest first. Errors: as for access.
func (s *Service) List(ctx context.Context, actor auth.Actor, caseID uuid.UUID) ([]Document, error) {
	q := db.New(s.pool)
	acc, err := s.caseAccess(ctx, q, actor.FirmID, caseID)
	if err != nil {
		return nil, err
	}
	rows, err := q.DocumentListForCase(ctx, db.DocumentListForCaseParams{
		CaseID: caseID, FirmID: actor.FirmID, IsOwner: acc.isOwner, OwnerFirmID: acc.ownerFirmID,
	})
	if err != nil {
		return nil, postgres.InterpretError(err)
	}
	out := make([]Document, 0, len(rows))
	for _, r := range rows {
		out = append(out, fromRow(r.Document, r.UploadedByFirmName))
	}
	return out, nil
}

// get returns one document the caller sees (apperr.ErrNotFound otherwise).
func (s *Service) get(ctx context.Context, q *db.Queries, actor auth.Actor, caseID, docID uuid.UUID) (db.Document, string, error) {
	acc, err := s.caseAccess(ctx, q, actor.FirmID, caseID)
	if err != nil {
		return db.Document{}, "", err
	}
	row, err := q.DocumentGetVisible(ctx, db.DocumentGetVisibleParams{
		ID: docID, CaseID: caseID, FirmID: actor.FirmID, IsOwner: acc.isOwner, OwnerFirmID: acc.ownerFirmID,
	})
	if err != nil {
		if errors.Is(postgres.InterpretError(err), apperr.ErrNotFound) {
			return db.Document{}, "", apperr.NotFound("document")
		}
		return db.Document{}, "", postgres.InterpretError(err)
	}
	return row.Document, row.UploadedByFirmName, nil
}

// DownloadLink issues a temporary URL for one document (LinkTTL). Errors: apperr.ErrNotFound,
// apperr.ErrPermission as for List; apperr.ErrUnavailable when the store fails.
func (s *Service) DownloadLink(ctx context.Context, actor auth.Actor, caseID, docID uuid.UUID) (Link, error) {
	d, _, err := s.get(ctx, db.New(s.pool), actor, caseID, docID)
	if err != nil {
		return Link{}, err
	}
	url, exp, err := s.store.PresignGet(ctx, d.StorageKey, d.FileName, d.MimeType, LinkTTL)
	if err != nil {
		return Link{}, storeFailed(err)
	}
	return Link{URL: url, FileName: d.FileName, MimeType: d.MimeType, SizeBytes: d.SizeBytes, ExpiresAt: exp}, nil
}

// Delete removes a document and its stored file. Only the uploading firm may (apperr.ErrPermission
// for the partner); apperr.ErrNotFound for documents the caller does not see. The file is removed
// before the row is committed, so a link issued earlier stops working; if the store fails the
// row stays (apperr.ErrUnavailable).
func (s *Service) Delete(ctx context.Context, actor auth.Actor, caseID, docID uuid.UUID) error {
	return postgres.RunTx(ctx, s.pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
		q := db.New(tx)
		d, _, err := s.get(ctx, q, actor, caseID, docID)
		if err != nil {
			return err
		}
		if d.UploadedByFirmID != actor.FirmID {
			return apperr.Permission("Only the firm that uploaded a document may delete it")
		}
		key, err := q.DocumentDelete(ctx, d.ID)
		if err != nil {
			if errors.Is(postgres.InterpretError(err), apperr.ErrNotFound) {
				return apperr.NotFound("document")
			}
			return postgres.InterpretError(err)
		}
		// The event is recorded before the file goes, so a failure here leaves both in place.
		if err := s.deletedTx(ctx, tx, actor, d, time.Now().UTC()); err != nil {
			return err
		}
		if err := s.store.Delete(ctx, key); err != nil {
			return storeFailed(err)
		}
		return nil
	})
}

// OpenLink serves a token of the local backend's download links. A token that is malformed,
// tampered with, signed with another secret or expired is apperr.ErrPermission; a valid token
// for a document deleted since is apperr.ErrNotFound.
func (s *Service) OpenLink(ctx context.Context, token string) (Content, error) {
	v, ok := s.store.(storage.LinkVerifier)
	if !ok {
		return Content{}, apperr.Permission("This download link is not valid; request a new one")
	}
	key, err := v.VerifyLink(token)
	if err != nil {
		return Content{}, apperr.Permission("This download link is invalid or has expired; request a new one")
	}
	d, err := db.New(s.pool).DocumentGetByStorageKey(ctx, key)
	if err != nil {
		if errors.Is(postgres.InterpretError(err), apperr.ErrNotFound) {
			return Content{}, apperr.NotFound("document")
		}
		return Content{}, postgres.InterpretError(err)
	}
	rc, info, err := s.store.Get(ctx, key)
	if errors.Is(err, storage.ErrNotExist) {
		return Content{}, apperr.NotFound("document")
	}
	if err != nil {
		return Content{}, storeFailed(err)
	}
	return Content{Body: rc, Size: info.Size, MimeType: d.MimeType, FileName: d.FileName}, nil
}

// Upload reads a multipart form (parts `file`, `description`, `isPublic`, in any order),
// streams the file to the store under a fresh key and then records it. Errors:
//   - apperr.ErrNotFound / apperr.ErrPermission as for List (checked before any byte is read);
//   - apperr.ErrValidation naming body.file (missing, empty, type not accepted, text not UTF-8),
//     body.description or body.isPublic;
//   - apperr.ErrTooLarge beyond MaxFileSize;
//   - apperr.ErrUnavailable when the store fails.
//
// On any error nothing is left behind: the object is deleted if the row was not written.
func (s *Service) Upload(ctx context.Context, actor auth.Actor, caseID uuid.UUID, form *multipart.Reader) (Document, error) {
	if _, err := s.caseAccess(ctx, db.New(s.pool), actor.FirmID, caseID); err != nil {
		return Document{}, err
	}
	docID := uuid.New()
	key := "cases/" + caseID.String() + "/" + docID.String()
	var (
		haveFile    bool
		stored      bool
		committed   bool
		fileName    string
		mimeType    string
		size        int64
		description *string
		isPublic    = true
	)
	defer func() {
		if stored && !committed {
			if err := s.store.Delete(context.WithoutCancel(ctx), key); err != nil {
				s.log.Error("documents: could not remove the object of a failed upload", "key", key, "error", err.Error())
			}
		}
	}()
	for {
		part, err := form.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Document{}, apperr.Field("body", "malformed multipart body: "+err.Error())
		}
		switch part.FormName() {
		case "file":
			if haveFile {
				_ = part.Close()
				return Document{}, apperr.Field("body.file", "send exactly one file")
			}
			haveFile = true
			fileName = SanitizeFileName(rawFileName(part))
			mimeType, size, err = s.storeFile(ctx, key, fileName, part)
			if err != nil {
				return Document{}, err
			}
			stored = true
		case "description":
			v, err := readSmall(part, 4*MaxDescriptionLen)
			if err != nil {
				return Document{}, apperr.Field("body.description", err.Error())
			}
			if !utf8.ValidString(v) || utf8.RuneCountInString(v) > MaxDescriptionLen {
				return Document{}, apperr.Field("body.description", fmt.Sprintf("must be UTF-8 text of at most %d characters", MaxDescriptionLen))
			}
			if v = strings.TrimSpace(v); v != "" {
				description = &v
			}
		case "isPublic":
			v, err := readSmall(part, 16)
			if err != nil {
				return Document{}, apperr.Field("body.isPublic", err.Error())
			}
			b, err := strconv.ParseBool(strings.TrimSpace(v))
			if err != nil {
				return Document{}, apperr.Field("body.isPublic", "must be true or false")
			}
			isPublic = b
		default:
			// Unknown parts are drained and ignored.
			_, _ = io.Copy(io.Discard, part)
		}
		_ = part.Close()
	}
	if !haveFile {
		return Document{}, apperr.Field("body.file", "is required")
	}
	var doc Document
	err := postgres.RunTx(ctx, s.pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
		q := db.New(tx)
		// Access again inside the transaction: the referral may have moved while the file
		// was streaming.
		acc, err := s.caseAccess(ctx, q, actor.FirmID, caseID)
		if err != nil {
			return err
		}
		id, err := q.DocumentInsert(ctx, db.DocumentInsertParams{
			ID: docID, BaseCaseID: caseID, StorageKey: key, FileName: fileName, MimeType: mimeType,
			SizeBytes: size, Description: description, IsPublic: isPublic,
			UploadedByFirmID: actor.FirmID, UploadedByUserID: actor.UserID, UploadedByKeyID: actor.KeyID,
		})
		if err != nil {
			return postgres.InterpretError(err)
		}
		row, err := q.DocumentGetVisible(ctx, db.DocumentGetVisibleParams{
			ID: id, CaseID: caseID, FirmID: actor.FirmID, IsOwner: true,
		})
		if err != nil {
			return postgres.InterpretError(err)
		}
		doc = fromRow(row.Document, row.UploadedByFirmName)
		if err := s.uploadedTx(ctx, tx, actor, doc); err != nil {
			return err
		}
		if isPublic {
			return s.noticeTx(ctx, tx, q, actor.FirmID, caseID, acc)
		}
		return nil
	})
	if err != nil {
		return Document{}, err
	}
	committed = true
	return doc, nil
}

// storeFile sniffs the part's first bytes and streams it to the store. It returns the detected
// type and the size. Nothing is left in the store when it fails.
func (s *Service) storeFile(ctx context.Context, key, fileName string, part io.Reader) (string, int64, error) {
	lim := &limitedReader{r: part, left: MaxFileSize}
	br := bufio.NewReaderSize(lim, SniffLen)
	head, err := br.Peek(SniffLen)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		if lim.over {
			return "", 0, tooLarge()
		}
		return "", 0, apperr.Field("body.file", "could not read the file: "+err.Error())
	}
	if len(head) == 0 {
		return "", 0, apperr.Field("body.file", "is empty")
	}
	mimeType := Sniff(head, fileName)
	if mimeType == "" {
		return "", 0, apperr.Field("body.file", "file type not accepted: send one of "+strings.Join(AcceptedTypes, ", "))
	}
	counter := &countingReader{r: br}
	var body io.Reader = counter
	var text *utf8Checker
	if mimeType == MimeText {
		text = &utf8Checker{r: counter}
		body = text
	}
	// A failed Put leaves no object (the Store contract), so there is nothing to delete here;
	// deleting anyway would make the answer wait on a store that is down.
	if err := s.store.Put(ctx, key, body, -1, mimeType); err != nil {
		switch {
		case lim.over:
			return "", 0, tooLarge()
		case text != nil && text.bad:
			return "", 0, apperr.Field("body.file", "plain text files must be UTF-8")
		case counter.readErr != nil:
			// The client's body broke off: report it as its problem, not ours.
			return "", 0, apperr.Field("body.file", "the upload was interrupted: "+counter.readErr.Error())
		case ctx.Err() != nil:
			return "", 0, ctx.Err()
		}
		return "", 0, storeFailed(err)
	}
	return mimeType, counter.n, nil
}

// noticeTx enqueues the document_uploaded e-mail for the partner firm of a public upload: the
// owner when a receiving firm uploaded, every receiving firm that sees the documents when the
// owner did. The e-mail names only the referral's reference number and the uploading firm.
func (s *Service) noticeTx(ctx context.Context, tx pgx.Tx, q *db.Queries, uploader, caseID uuid.UUID, acc access) error {
	if s.notify == nil {
		return nil
	}
	name, err := q.DocumentUploaderName(ctx, uploader)
	if err != nil {
		return postgres.InterpretError(err)
	}
	ev := notify.Event{Kind: notify.DocumentUploaded, PartnerFirmName: name}
	if !acc.isOwner {
		r, err := q.DocumentReferralOfFirm(ctx, db.DocumentReferralOfFirmParams{CaseID: caseID, FirmID: uploader})
		if err != nil {
			return postgres.InterpretError(err)
		}
		ev.FirmID, ev.ReferralID, ev.ReferenceNumber = acc.ownerFirmID, r.ID, r.ReferenceNumber
		return s.notify.EnqueueTx(ctx, tx, ev)
	}
	refs, err := q.DocumentWorkingReferrals(ctx, db.DocumentWorkingReferralsParams{CaseID: caseID, WorkingStatuses: lifecycle.Working})
	if err != nil {
		return postgres.InterpretError(err)
	}
	for _, r := range refs {
		ev.FirmID, ev.ReferralID, ev.ReferenceNumber = r.ReferentFirmID, r.ID, r.ReferenceNumber
		if err := s.notify.EnqueueTx(ctx, tx, ev); err != nil {
			return err
		}
	}
	return nil
}

// storeFailed is the error of a failed store operation: the store's own apperr.ErrUnavailable
// when it says so, else one made here (any other failure of the store is ours to retry too).
func storeFailed(err error) error {
	if errors.Is(err, apperr.ErrUnavailable) {
		return err
	}
	return apperr.Unavailable("The document store is unavailable; retry later", err)
}

func tooLarge() error {
	return &apperr.Error{
		Kind: apperr.ErrTooLarge, Message: "The file is larger than 50 MB",
		Details: []apperr.FieldError{{Field: "body.file", Message: fmt.Sprintf("must be at most %d bytes", MaxFileSize)}},
	}
}

// rawFileName is the filename parameter of the part's Content-Disposition, before
// Part.FileName strips it (we sanitize it ourselves, for both kinds of slashes).
func rawFileName(p *multipart.Part) string {
	_, params, err := mime.ParseMediaType(p.Header.Get("Content-Disposition"))
	if err != nil {
		return p.FileName()
	}
	return params["filename"]
}

func readSmall(r io.Reader, max int) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, int64(max)+1))
	if err != nil {
		return "", err
	}
	if len(b) > max {
		return "", fmt.Errorf("is too long")
	}
	return string(b), nil
}

// limitedReader fails once more than left bytes have been read.
type limitedReader struct {
	r    io.Reader
	left int64
	over bool
}

var errTooLarge = errors.New("file too large")

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.over {
		return 0, errTooLarge
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		l.over = true
		return 0, errTooLarge
	}
	return n, err
}

// countingReader counts bytes and remembers a read error of the client's body.
type countingReader struct {
	r       io.Reader
	n       int64
	readErr error
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil && err != io.EOF && !errors.Is(err, errTooLarge) {
		c.readErr = err
	}
	return n, err
}

// utf8Checker fails the stream at the first invalid UTF-8 sequence; runes cut between reads
// are carried over.
type utf8Checker struct {
	r     io.Reader
	carry []byte
	bad   bool
}

var errNotUTF8 = errors.New("not UTF-8")

func (u *utf8Checker) Read(p []byte) (int, error) {
	n, err := u.r.Read(p)
	if n > 0 {
		buf := make([]byte, 0, len(u.carry)+n)
		buf = append(append(buf, u.carry...), p[:n]...)
		// Keep an incomplete trailing rune for the next read.
		cut := len(buf)
		for i := 1; i <= utf8.UTFMax-1 && i <= len(buf); i++ {
			c := buf[len(buf)-i]
			if c < 0x80 {
				break
			}
			if utf8.RuneStart(c) {
				if !utf8.FullRune(buf[len(buf)-i:]) {
					cut = len(buf) - i
				}
				break
			}
		}
		if !utf8.Valid(buf[:cut]) {
			u.bad = true
			return 0, errNotUTF8
		}
		u.carry = append(u.carry[:0], buf[cut:]...)
	}
	if err == io.EOF && len(u.carry) > 0 {
		u.bad = true
		return n, errNotUTF8
	}
	return n, err
}

func fromRow(d db.Document, firmName string) Document {
	return Document{
		ID: d.ID, CaseID: d.BaseCaseID, FileName: d.FileName, MimeType: d.MimeType, SizeBytes: d.SizeBytes,
		UploadedBy: d.UploadedBy, UploadedByFirmID: d.UploadedByFirmID, UploadedByFirmName: firmName,
		Description: d.Description, IsPublic: d.IsPublic, CreatedAt: d.CreatedAt,
	}
}
