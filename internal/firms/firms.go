// Package firms is the firm profile and the public directory of firms.
package firms

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/casexchange/server/gen/db"
	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/postgres"
	"github.com/casexchange/server/internal/refdata"
)

// Firm is a law firm.
type Firm struct {
	ID          uuid.UUID
	Name        string
	Slug        *string
	Description *string
	Website     *string
	Phone       *string
	Email       *string
	// Postal address; Address is the street line.
	Address *string
	City    *string
	State   *string
	Zip     *string
	Country *string
	LogoURL *string
	// Jurisdiction codes and case type ids the firm accepts referrals for.
	Jurisdictions               []string
	CaseTypeIDs                 []uuid.UUID
	Specialties                 []string
	GeneralReferralInstructions *string
	IsPublic                    bool // listed in the directory
	IsInternal                  bool
	IsActive                    bool
	CanSendReferrals            bool
	ReferencePrefix             *string
	LastCaseReferenceSequence   int
	CreatedAt                   time.Time
	UpdatedAt                   time.Time
}

// Service reads and edits firms.
type Service struct {
	pool *pgxpool.Pool
	q    *db.Queries
	ref  *refdata.Service
}

// New returns a Service on pool.
func New(pool *pgxpool.Pool) *Service {
	return &Service{pool: pool, q: db.New(pool), ref: refdata.NewService(pool)}
}

// Get returns a firm by id. Errors: ErrNotFound.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (Firm, error) {
	row, err := s.q.FirmGetByID(ctx, id)
	if err != nil {
		return Firm{}, notFound(err)
	}
	return firmFromRow(row), nil
}

// Directory paging defaults.
const (
	DefaultLimit = 20
	MaxLimit     = 100
	maxPage      = 1_000_000
)

// DirectoryQuery selects a page of the directory. Search is a case-insensitive partial match
// on the firm name. Jurisdiction, when not blank, is a jurisdiction code the firm must accept.
// Each non-blank entry of CaseTypes (a case type id, machine name or display name) must name an
// active case type the firm accepts; one that names no such type matches no firm.
type DirectoryQuery struct {
	Search       string
	Jurisdiction string
	CaseTypes    []string
	Page         int // 1-based; 0 means 1
	Limit        int // 0 means DefaultLimit
}

// Page is one page of firms and the number of matches over all pages.
type Page struct {
	Firms []Firm
	Page  int
	Limit int
	Total int
}

// TotalPages returns the number of pages of p.Limit firms.
func (p Page) TotalPages() int {
	if p.Limit <= 0 {
		return 0
	}
	return (p.Total + p.Limit - 1) / p.Limit
}

// Directory lists the active firms listed in the public directory that match in, by name. The
// page and its total come from one statement (filters, order, limit and count together), so
// they agree; a page past the end is counted in the same snapshot.
// Errors: ErrValidation for a page or limit out of range (fields page, limit).
func (s *Service) Directory(ctx context.Context, in DirectoryQuery) (Page, error) {
	if in.Page == 0 {
		in.Page = 1
	}
	if in.Limit == 0 {
		in.Limit = DefaultLimit
	}
	if in.Page < 1 || in.Page > maxPage {
		return Page{}, apperr.Field("page", fmt.Sprintf("must be between 1 and %d", maxPage))
	}
	if in.Limit < 1 || in.Limit > MaxLimit {
		return Page{}, apperr.Field("limit", fmt.Sprintf("must be between 1 and %d", MaxLimit))
	}
	p := db.FirmDirectoryPageParams{
		Search:       LikePattern(in.Search),
		Jurisdiction: strings.ToUpper(strings.TrimSpace(in.Jurisdiction)),
		CaseTypes:    []string{},
		RowLimit:     int32(in.Limit),
		RowOffset:    int32((in.Page - 1) * in.Limit),
	}
	for _, c := range in.CaseTypes {
		if c = strings.TrimSpace(c); c != "" {
			p.CaseTypes = append(p.CaseTypes, c)
		}
	}
	out := Page{Firms: []Firm{}, Page: in.Page, Limit: in.Limit}
	err := postgres.RunTx(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		q := db.New(tx)
		rows, err := q.FirmDirectoryPage(ctx, p)
		if err != nil {
			return fmt.Errorf("list directory: %w", postgres.InterpretError(err))
		}
		for _, r := range rows {
			out.Firms = append(out.Firms, firmFromRow(r.Firm))
			out.Total = int(r.Total)
		}
		if len(rows) > 0 || p.RowOffset == 0 {
			return nil
		}
		// A page past the end has no row to carry the total.
		n, err := q.FirmDirectoryCount(ctx, db.FirmDirectoryCountParams{Search: p.Search, Jurisdiction: p.Jurisdiction, CaseTypes: p.CaseTypes})
		if err != nil {
			return fmt.Errorf("count directory: %w", postgres.InterpretError(err))
		}
		out.Total = int(n)
		return nil
	})
	if err != nil {
		return Page{}, err
	}
	return out, nil
}

// LikePattern turns a search term into an ILIKE pattern matching names that contain it, with
// the LIKE metacharacters escaped so that "50%" means the text "50%". A blank term gives "",
// which the queries read as "no filter".
func LikePattern(search string) string {
	search = strings.TrimSpace(search)
	if search == "" {
		return ""
	}
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(search) + "%"
}

// Update is a partial update of a firm. A nil field is left alone. For the nullable text
// fields a pointer to a blank string clears the value; Name cannot be cleared.
type Update struct {
	Name                        *string
	Description                 *string
	Website                     *string
	Phone                       *string
	Email                       *string
	Address                     *string
	City                        *string
	State                       *string
	Zip                         *string
	Country                     *string
	LogoURL                     *string
	GeneralReferralInstructions *string
	Jurisdictions               *[]string
	CaseTypeIDs                 *[]uuid.UUID
	Specialties                 *[]string
	IsPublic                    *bool
}

// UpdateOwn applies u to the caller's own firm (firmID comes from the caller's credentials,
// never from the request) and returns the result.
// Errors: ErrValidation naming each bad field (API field names: name, phone, address, city,
// state, zip, website, ...); ErrNotFound if the firm is gone.
func (s *Service) UpdateOwn(ctx context.Context, firmID uuid.UUID, u Update) (Firm, error) {
	p, err := u.params()
	if err != nil {
		return Firm{}, err
	}
	p.ID = firmID
	row, err := s.q.FirmUpdate(ctx, p)
	if err != nil {
		return Firm{}, notFound(err)
	}
	return firmFromRow(row), nil
}

// Bounds of a firm's own profile edit.
const (
	MaxNameLength    = 200
	MaxWebsiteLength = 500
)

// ProfileChange is a firm's edit of its own profile as its users ask for it: the fields of
// Update that are set change, jurisdictions are codes (any case, blanks dropped) and case
// types are given by name, display name or id. Update.Jurisdictions and Update.CaseTypeIDs
// are ignored.
type ProfileChange struct {
	Update
	JurisdictionCodes *[]string
	CaseTypes         *[]string
}

// UpdateOwnProfile checks and resolves c and applies it to firmID (UpdateOwn).
//
// Errors: ErrValidation naming every bad field at once (name, website, jurisdictions,
// caseTypes.N, and those of UpdateOwn); ErrNotFound.
func (s *Service) UpdateOwnProfile(ctx context.Context, firmID uuid.UUID, c ProfileChange) (Firm, error) {
	u := c.Update
	u.Jurisdictions, u.CaseTypeIDs = nil, nil
	var details []apperr.FieldError
	if u.Name != nil && utf8.RuneCountInString(strings.TrimSpace(*u.Name)) > MaxNameLength {
		details = append(details, apperr.FieldError{Field: "name", Message: fmt.Sprintf("must be at most %d characters", MaxNameLength)})
	}
	if u.Website != nil && utf8.RuneCountInString(strings.TrimSpace(*u.Website)) > MaxWebsiteLength {
		details = append(details, apperr.FieldError{Field: "website", Message: fmt.Sprintf("must be at most %d characters", MaxWebsiteLength)})
	}
	if c.JurisdictionCodes != nil {
		unknown, err := s.ref.UnknownJurisdictionCodes(ctx, *c.JurisdictionCodes)
		if err != nil {
			return Firm{}, err
		}
		for _, code := range unknown {
			details = append(details, apperr.FieldError{Field: "jurisdictions", Message: fmt.Sprintf("%q is not a known jurisdiction code", code)})
		}
		codes := make([]string, 0, len(*c.JurisdictionCodes))
		for _, code := range *c.JurisdictionCodes {
			if code = strings.ToUpper(strings.TrimSpace(code)); code != "" {
				codes = append(codes, code)
			}
		}
		u.Jurisdictions = &codes
	}
	if c.CaseTypes != nil {
		ids := make([]uuid.UUID, 0, len(*c.CaseTypes))
		for i, name := range *c.CaseTypes {
			ct, err := s.ref.ResolveCaseType(ctx, name)
			if errors.Is(err, apperr.ErrNotFound) {
				details = append(details, apperr.FieldError{Field: fmt.Sprintf("caseTypes.%d", i), Message: fmt.Sprintf("%q is not a known case type", name)})
				continue
			}
			if err != nil {
				return Firm{}, err
			}
			ids = append(ids, ct.ID)
		}
		u.CaseTypeIDs = &ids
	}
	if len(details) > 0 {
		return Firm{}, apperr.Validation("", details...)
	}
	return s.UpdateOwn(ctx, firmID, u)
}

// CreateInput describes a new firm (seeds, the CLI and administration).
type CreateInput struct {
	Name            string
	Slug            string
	Profile         Update // Name inside is ignored
	IsPublic        bool   // listed in the directory (so is Profile.IsPublic = true)
	IsInternal      bool
	Inactive        bool
	CannotSend      bool // the firm may receive but not send referrals
	ReferencePrefix string
}

// Create inserts a firm. Errors: ErrValidation for bad fields; ErrConflict for a taken slug.
func (s *Service) Create(ctx context.Context, in CreateInput) (Firm, error) {
	prof := in.Profile
	name := in.Name
	prof.Name = &name
	p, err := prof.params()
	if err != nil {
		return Firm{}, err
	}
	var details []apperr.FieldError
	slug := strings.TrimSpace(in.Slug)
	if slug != "" && !slugRE.MatchString(slug) {
		details = append(details, apperr.FieldError{Field: "slug", Message: "must be lower-case letters, digits and dashes"})
	}
	prefix := strings.TrimSpace(in.ReferencePrefix)
	if prefix != "" && !prefixRE.MatchString(prefix) {
		details = append(details, apperr.FieldError{Field: "referencePrefix", Message: "must be 1 to 10 of A-Z, 0-9, _ and -"})
	}
	if len(details) > 0 {
		return Firm{}, apperr.Validation("", details...)
	}
	row, err := s.q.FirmCreate(ctx, db.FirmCreateParams{
		Name:                        p.Name,
		Slug:                        nonEmpty(slug),
		Description:                 p.Description,
		Website:                     p.Website,
		Phone:                       p.Phone,
		Email:                       p.Email,
		Address:                     p.Address,
		City:                        p.City,
		State:                       p.State,
		Zip:                         p.Zip,
		Country:                     p.Country,
		LogoUrl:                     p.LogoUrl,
		Jurisdictions:               orEmpty(p.Jurisdictions),
		CaseTypeIds:                 orEmpty(p.CaseTypeIds),
		Specialties:                 orEmpty(p.Specialties),
		GeneralReferralInstructions: p.GeneralReferralInstructions,
		IsPublic:                    in.IsPublic || (in.Profile.IsPublic != nil && *in.Profile.IsPublic),
		IsInternal:                  in.IsInternal,
		IsActive:                    !in.Inactive,
		CanSendReferrals:            !in.CannotSend,
		ReferencePrefix:             nonEmpty(prefix),
	})
	if err != nil {
		return Firm{}, fmt.Errorf("create firm: %w", postgres.InterpretError(err))
	}
	return firmFromRow(row), nil
}

var (
	slugRE         = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	prefixRE       = regexp.MustCompile(`^[A-Z0-9_-]{1,10}$`)
	jurisdictionRE = regexp.MustCompile(`^[A-Z0-9-]{1,10}$`)
)

// Length limits of the profile fields, in characters.
const (
	maxName         = 255
	maxDescription  = 5000
	maxURL          = 2048
	maxPhone        = 50
	maxEmail        = 254
	maxAddress      = 500
	maxCity         = 100
	maxState        = 100
	maxZip          = 20
	maxCountry      = 100
	maxInstructions = 10000
	maxListItems    = 200
)

// params validates u and builds the update statement's parameters.
func (u Update) params() (db.FirmUpdateParams, error) {
	var p db.FirmUpdateParams
	var details []apperr.FieldError
	bad := func(field, msg string) { details = append(details, apperr.FieldError{Field: field, Message: msg}) }

	if u.Name != nil {
		name := strings.TrimSpace(*u.Name)
		switch {
		case name == "":
			bad("name", "must not be blank")
		case utf8.RuneCountInString(name) > maxName:
			bad("name", fmt.Sprintf("must be at most %d characters", maxName))
		}
		p.SetName, p.Name = true, name
	}
	text := func(field string, in *string, limit int, set *bool, out **string, check func(string) string) {
		if in == nil {
			return
		}
		v := strings.TrimSpace(*in)
		*set = true
		if v == "" {
			*out = nil
			return
		}
		if utf8.RuneCountInString(v) > limit {
			bad(field, fmt.Sprintf("must be at most %d characters", limit))
			return
		}
		if check != nil {
			if msg := check(v); msg != "" {
				bad(field, msg)
				return
			}
		}
		*out = &v
	}
	text("description", u.Description, maxDescription, &p.SetDescription, &p.Description, nil)
	text("website", u.Website, maxURL, &p.SetWebsite, &p.Website, checkWebURL)
	text("phone", u.Phone, maxPhone, &p.SetPhone, &p.Phone, nil)
	text("email", u.Email, maxEmail, &p.SetEmail, &p.Email, checkEmail)
	text("address", u.Address, maxAddress, &p.SetAddress, &p.Address, nil)
	text("city", u.City, maxCity, &p.SetCity, &p.City, nil)
	text("state", u.State, maxState, &p.SetState, &p.State, nil)
	text("zip", u.Zip, maxZip, &p.SetZip, &p.Zip, nil)
	text("country", u.Country, maxCountry, &p.SetCountry, &p.Country, nil)
	text("logoUrl", u.LogoURL, maxURL, &p.SetLogoUrl, &p.LogoUrl, checkWebURL)
	text("generalReferralInstructions", u.GeneralReferralInstructions, maxInstructions,
		&p.SetGeneralReferralInstructions, &p.GeneralReferralInstructions, nil)

	if u.Jurisdictions != nil {
		p.SetJurisdictions = true
		p.Jurisdictions = []string{}
		if len(*u.Jurisdictions) > maxListItems {
			bad("jurisdictions", fmt.Sprintf("must have at most %d items", maxListItems))
		}
		for _, j := range *u.Jurisdictions {
			j = strings.ToUpper(strings.TrimSpace(j))
			if !jurisdictionRE.MatchString(j) {
				bad("jurisdictions", fmt.Sprintf("%q is not a jurisdiction code", j))
				continue
			}
			if !slices.Contains(p.Jurisdictions, j) {
				p.Jurisdictions = append(p.Jurisdictions, j)
			}
		}
	}
	if u.CaseTypeIDs != nil {
		p.SetCaseTypeIds = true
		p.CaseTypeIds = []uuid.UUID{}
		if len(*u.CaseTypeIDs) > maxListItems {
			bad("caseTypeIds", fmt.Sprintf("must have at most %d items", maxListItems))
		}
		for _, id := range *u.CaseTypeIDs {
			if !slices.Contains(p.CaseTypeIds, id) {
				p.CaseTypeIds = append(p.CaseTypeIds, id)
			}
		}
	}
	if u.Specialties != nil {
		p.SetSpecialties = true
		p.Specialties = []string{}
		if len(*u.Specialties) > maxListItems {
			bad("specialties", fmt.Sprintf("must have at most %d items", maxListItems))
		}
		for _, sp := range *u.Specialties {
			sp = strings.TrimSpace(sp)
			if sp != "" && !slices.Contains(p.Specialties, sp) {
				p.Specialties = append(p.Specialties, sp)
			}
		}
	}
	if u.IsPublic != nil {
		p.SetIsPublic, p.IsPublic = true, *u.IsPublic
	}
	if len(details) > 0 {
		return p, apperr.Validation("", details...)
	}
	return p, nil
}

func checkWebURL(v string) string {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "must be an absolute http or https URL"
	}
	return ""
}

func checkEmail(v string) string {
	at := strings.LastIndexByte(v, '@')
	if at < 1 || at == len(v)-1 || strings.ContainsAny(v, " \t\r\n") {
		return "must be an e-mail address"
	}
	return ""
}

// notFound interprets a lookup error, naming the firm when it is missing.
func notFound(err error) error {
	err = postgres.InterpretError(err)
	if errors.Is(err, apperr.ErrNotFound) {
		return apperr.NotFound("firm")
	}
	return err
}
