package httpapi_test

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/httpapi/apitest"
	"github.com/casexchange/server/internal/notify/notifytest"
	"github.com/casexchange/server/internal/storage"
)

// Sample files of each accepted type, as small as the detectors allow.
var (
	samplePDF  = []byte("%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")
	samplePNG  = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), make([]byte, 40)...)
	sampleJPEG = append([]byte("\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01"), make([]byte, 40)...)
	sampleText = []byte("Client called on 4/2 about the ER bill. Follow up with Dr. Núñez.\n")
	sampleDOC  = append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 504)...)
	sampleHEIC = append([]byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"), make([]byte, 64)...)
)

// officeZip builds an Office Open XML package with the given part names.
func officeZip(t *testing.T, names ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		w, err := zw.Create(n)
		require.NoError(t, err)
		_, err = w.Write([]byte("<?xml version=\"1.0\"?><x/>"))
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func docsPath(caseID uuid.UUID, rest ...string) string {
	return apitest.Path("/api/public/v1/cases", append([]string{caseID.String(), "documents"}, rest...)...)
}

// upload posts a file and returns the response.
func upload(t *testing.T, h *apitest.Harness, key string, caseID uuid.UUID, name string, data []byte, fields ...string) *apitest.Response {
	t.Helper()
	return h.Do("POST", docsPath(caseID), apitest.APIKey(key), fileForm(t, name, data, fields...))
}

func uploadOK(t *testing.T, h *apitest.Harness, key string, caseID uuid.UUID, name string, data []byte, fields ...string) api.Document {
	t.Helper()
	r := upload(t, h, key, caseID, name, data, fields...)
	require.Equal(t, http.StatusCreated, r.StatusCode, string(r.Body))
	var out api.DocumentResponse
	r.Decode(&out)
	return out.Data
}

func listDocs(t *testing.T, h *apitest.Harness, key string, caseID uuid.UUID) []api.Document {
	t.Helper()
	r := h.Do("GET", docsPath(caseID), apitest.APIKey(key))
	require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
	var out api.DocumentListResponse
	r.Decode(&out)
	return out.Data
}

func docNames(docs []api.Document) []string {
	var out []string
	for _, d := range docs {
		out = append(out, d.FileName)
	}
	return out
}

func downloadLink(t *testing.T, h *apitest.Harness, key string, caseID, docID uuid.UUID) api.DocumentDownloadLink {
	t.Helper()
	r := h.Do("GET", docsPath(caseID, docID.String(), "download"), apitest.APIKey(key))
	require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
	var out api.DocumentDownloadLinkResponse
	r.Decode(&out)
	return out.Data
}

// storedFiles counts the regular files in the local object store (objects, metadata and
// temporary files alike).
func storedFiles(t *testing.T, h *apitest.Harness) int {
	t.Helper()
	n := 0
	root := filepath.Join(h.App.Config.DataDir, "objects")
	err := filepath.WalkDir(root, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			n++
		}
		return nil
	})
	if os.IsNotExist(err) {
		return 0
	}
	require.NoError(t, err)
	return n
}

// docMailServer points the harness's e-mail at an in-process SMTP server and starts the job
// workers that deliver it.
func docMailServer(t *testing.T, h *apitest.Harness) *notifytest.Server {
	t.Helper()
	srv := notifytest.Start(t)
	h.App.Server.Notify.Mailer().Use(srv.Sender())
	require.NoError(t, h.App.Jobs.Start(context.WithoutCancel(t.Context())))
	return srv
}

// uploadMails returns the document-upload e-mails received so far, by recipient.
func uploadMails(srv *notifytest.Server) map[string][]notifytest.Mail {
	out := map[string][]notifytest.Mail{}
	for _, m := range srv.Mails() {
		if strings.HasPrefix(m.Subject, "New document") {
			for _, to := range m.To {
				out[to] = append(out[to], m)
			}
		}
	}
	return out
}

func TestDocuments(t *testing.T) {
	t.Parallel()

	// acknowledged: the receiving firm acknowledged, so both firms reach the documents.
	acknowledged := func(t *testing.T) *partyFixture {
		t.Helper()
		f := newParties(t)
		receivedAction(t, f.h, f.recvStd, f.caseID, "acknowledge", nil)
		return f
	}

	t.Run("UploadStoresTheFileWithDetectedTypeAndDefaults", func(t *testing.T) {
		t.Parallel()
		f := newParties(t)
		d := uploadOK(t, f.h, f.ownerStd, f.caseID, "er-discharge.pdf", samplePDF, "description", "Discharge paperwork")
		require.Equal(t, f.caseID, d.CaseId)
		require.Equal(t, "er-discharge.pdf", d.FileName)
		require.Equal(t, "application/pdf", d.MimeType)
		require.Equal(t, int64(len(samplePDF)), d.SizeBytes)
		require.Equal(t, "test STANDARD", d.UploadedBy, "API key uploads name the key")
		require.Equal(t, f.owner.ID, *d.UploadedByFirmId)
		require.Equal(t, f.owner.Name, *d.UploadedByFirmName)
		require.Equal(t, "Discharge paperwork", *d.Description)
		require.True(t, *d.IsPublic, "isPublic defaults to true")

		got := listDocs(t, f.h, f.ownerRO, f.caseID)
		require.Len(t, got, 1)
		require.Equal(t, d.Id, got[0].Id)
	})

	t.Run("ContentTypeComesFromTheBytesNotTheClient", func(t *testing.T) {
		t.Parallel()
		f := newParties(t)
		for name, tc := range map[string]struct {
			file string
			data []byte
			want string
		}{
			"pdf":           {"a.bin", samplePDF, "application/pdf"},
			"png named pdf": {"scan.pdf", samplePNG, "image/png"},
			"jpeg":          {"photo.jpg", sampleJPEG, "image/jpeg"},
			"text":          {"notes", sampleText, "text/plain"},
			"doc":           {"old.doc", sampleDOC, "application/msword"},
			"heic":          {"IMG_0001.HEIC", sampleHEIC, "image/heic"},
			"docx": {"brief.docx", officeZip(t, "[Content_Types].xml", "_rels/.rels", "word/document.xml"),
				"application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
			"xlsx": {"bills.xlsx", officeZip(t, "[Content_Types].xml", "_rels/.rels", "xl/workbook.xml"),
				"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
		} {
			d := uploadOK(t, f.h, f.ownerStd, f.caseID, tc.file, tc.data)
			require.Equal(t, tc.want, d.MimeType, name)
		}
	})

	t.Run("UnacceptedTypesAreRejectedAndNothingIsStored", func(t *testing.T) {
		t.Parallel()
		f := newParties(t)
		bigBadText := append(bytes.Repeat([]byte("valid text line\n"), 8192), 0xff, 0xfe, '\n')
		for name, data := range map[string][]byte{
			"plain zip":        officeZip(t, "readme.txt"),
			"pptx":             officeZip(t, "[Content_Types].xml", "ppt/presentation.xml"),
			"windows exe":      append([]byte("MZ\x90\x00\x03\x00\x00\x00"), make([]byte, 100)...),
			"html":             []byte("<!DOCTYPE html><html><body>hi</body></html>"),
			"gif":              []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00"),
			"utf-16 text":      []byte("\xff\xfeh\x00i\x00"),
			"latin-1 text":     []byte("caf\xe9 au lait\n"),
			"bad utf-8 later":  bigBadText,
			"empty":            {},
			"control chars":    []byte("abc\x01\x02def"),
			"avif is not heic": append([]byte("\x00\x00\x00\x1cftypavif\x00\x00\x00\x00mif1miafavif"), make([]byte, 64)...),
		} {
			r := upload(t, f.h, f.ownerStd, f.caseID, "file.pdf", data)
			require.Equal(t, http.StatusBadRequest, r.StatusCode, "%s: %s", name, r.Body)
			require.Equal(t, "validation_error", r.ErrorCode(), name)
			require.Equal(t, []string{"body.file"}, errorFields(t, r), name)
		}
		require.Empty(t, listDocs(t, f.h, f.ownerStd, f.caseID))
		require.Zero(t, storedFiles(t, f.h))
	})

	t.Run("FileNameIsSanitized", func(t *testing.T) {
		t.Parallel()
		f := newParties(t)
		for in, want := range map[string]string{
			"../../etc/pass\twd.pdf":          "passwd.pdf",
			`C:\Users\pat\Desktop\bill.pdf`:   "bill.pdf",
			"  spaced name.pdf  ":             "spaced name.pdf",
			"..":                              "document",
			strings.Repeat("x", 300) + ".pdf": strings.Repeat("x", 251) + ".pdf",
		} {
			d := uploadOK(t, f.h, f.ownerStd, f.caseID, in, samplePDF)
			require.Equal(t, want, d.FileName, "%q", in)
		}
	})

	t.Run("MissingFileAndBadFieldsAreValidationErrors", func(t *testing.T) {
		t.Parallel()
		f := newParties(t)
		ct, body := multipartForm(t, formPart{name: "description", data: []byte("no file")})
		r := f.h.Do("POST", docsPath(f.caseID), apitest.APIKey(f.ownerStd), apitest.Body(ct, body))
		require.Equal(t, http.StatusBadRequest, r.StatusCode, string(r.Body))
		require.Contains(t, errorFields(t, r), "body.file")

		r = upload(t, f.h, f.ownerStd, f.caseID, "a.pdf", samplePDF, "description", strings.Repeat("d", 1001))
		require.Equal(t, http.StatusBadRequest, r.StatusCode, string(r.Body))
		require.Contains(t, errorFields(t, r)[0], "description")
		require.Zero(t, storedFiles(t, f.h), "the file streamed before the bad field is removed")
	})

	t.Run("FileOver50MBIs413AndNothingIsStored", func(t *testing.T) {
		t.Parallel()
		f := newParties(t)
		big := make([]byte, 50<<20+1)
		copy(big, samplePDF)
		r := upload(t, f.h, f.ownerStd, f.caseID, "huge.pdf", big)
		require.Equal(t, http.StatusRequestEntityTooLarge, r.StatusCode, string(r.Body))
		require.Equal(t, "validation_error", r.ErrorCode())
		require.Empty(t, listDocs(t, f.h, f.ownerStd, f.caseID))
		require.Zero(t, storedFiles(t, f.h))
	})

	t.Run("TierAndCaseVisibilityAreEnforced", func(t *testing.T) {
		t.Parallel()
		f := newParties(t)
		r := upload(t, f.h, f.ownerRO, f.caseID, "a.pdf", samplePDF)
		require.Equal(t, http.StatusForbidden, r.StatusCode)
		require.Equal(t, "insufficient_tier", r.ErrorCode())

		r = upload(t, f.h, f.outStd, f.caseID, "a.pdf", samplePDF)
		require.Equal(t, http.StatusNotFound, r.StatusCode, "outsiders learn nothing")
		r = f.h.Do("GET", docsPath(f.caseID), apitest.APIKey(f.outStd))
		require.Equal(t, http.StatusNotFound, r.StatusCode)
		r = f.h.Do("GET", docsPath(uuid.New()), apitest.APIKey(f.ownerStd))
		require.Equal(t, http.StatusNotFound, r.StatusCode)
		require.Zero(t, storedFiles(t, f.h))
	})

	t.Run("ReceivingFirmWaitsForAcknowledgementAndLosesAccessWhenTheReferralEnds", func(t *testing.T) {
		t.Parallel()
		f := newParties(t)
		uploadOK(t, f.h, f.ownerStd, f.caseID, "intake.pdf", samplePDF)

		r := f.h.Do("GET", docsPath(f.caseID), apitest.APIKey(f.recvStd))
		require.Equal(t, http.StatusForbidden, r.StatusCode, string(r.Body))
		require.Equal(t, "permission_denied", r.ErrorCode())
		r = upload(t, f.h, f.recvStd, f.caseID, "early.pdf", samplePDF)
		require.Equal(t, http.StatusForbidden, r.StatusCode)

		receivedAction(t, f.h, f.recvStd, f.caseID, "acknowledge", nil)
		require.Equal(t, []string{"intake.pdf"}, docNames(listDocs(t, f.h, f.recvStd, f.caseID)))
		uploadOK(t, f.h, f.recvStd, f.caseID, "evaluation.pdf", samplePDF)

		receivedAction(t, f.h, f.recvStd, f.caseID, "reject", map[string]any{"reason": "Outside our practice area"})
		r = f.h.Do("GET", docsPath(f.caseID), apitest.APIKey(f.recvStd))
		require.Equal(t, http.StatusForbidden, r.StatusCode)
		require.ElementsMatch(t, []string{"intake.pdf", "evaluation.pdf"}, docNames(listDocs(t, f.h, f.ownerStd, f.caseID)))
	})

	t.Run("PrivateDocumentsStayWithTheirFirm", func(t *testing.T) {
		t.Parallel()
		f := acknowledged(t)
		uploadOK(t, f.h, f.ownerStd, f.caseID, "owner-public.pdf", samplePDF)
		ownerPrivate := uploadOK(t, f.h, f.ownerStd, f.caseID, "owner-private.pdf", samplePDF, "isPublic", "false")
		require.False(t, *ownerPrivate.IsPublic)
		uploadOK(t, f.h, f.recvStd, f.caseID, "recv-public.pdf", samplePDF, "isPublic", "true")
		uploadOK(t, f.h, f.recvStd, f.caseID, "recv-private.pdf", samplePDF, "isPublic", "false")

		require.ElementsMatch(t, []string{"owner-public.pdf", "owner-private.pdf", "recv-public.pdf"},
			docNames(listDocs(t, f.h, f.ownerStd, f.caseID)))
		require.ElementsMatch(t, []string{"owner-public.pdf", "recv-public.pdf", "recv-private.pdf"},
			docNames(listDocs(t, f.h, f.recvStd, f.caseID)))

		r := f.h.Do("GET", docsPath(f.caseID, ownerPrivate.Id.String(), "download"), apitest.APIKey(f.recvStd))
		require.Equal(t, http.StatusNotFound, r.StatusCode, "a private document of the partner does not exist for it")

		r = upload(t, f.h, f.ownerStd, f.caseID, "a.pdf", samplePDF, "isPublic", "maybe")
		require.Equal(t, http.StatusBadRequest, r.StatusCode)
	})

	t.Run("ListIsNewestFirst", func(t *testing.T) {
		t.Parallel()
		f := newParties(t)
		for _, n := range []string{"one.pdf", "two.pdf", "three.pdf"} {
			uploadOK(t, f.h, f.ownerStd, f.caseID, n, samplePDF)
		}
		require.Equal(t, []string{"three.pdf", "two.pdf", "one.pdf"}, docNames(listDocs(t, f.h, f.ownerStd, f.caseID)))
	})

	t.Run("SignedLinkServesTheFileWithoutAnAPIKey", func(t *testing.T) {
		t.Parallel()
		f := acknowledged(t)
		d := uploadOK(t, f.h, f.ownerStd, f.caseID, "Notes für Dr. Ñ.txt", sampleText)
		before := time.Now()
		l := downloadLink(t, f.h, f.recvStd, f.caseID, d.Id)
		require.Equal(t, l.Url, l.DownloadUrl)
		require.Equal(t, "Notes für Dr. Ñ.txt", l.FileName)
		require.Equal(t, "text/plain", *l.MimeType)
		require.Equal(t, int64(len(sampleText)), *l.SizeBytes)
		require.WithinDuration(t, before.Add(15*time.Minute), l.ExpiresAt, 5*time.Second)
		require.True(t, strings.HasPrefix(l.Url, f.h.URL+"/api/public/v1/documents/download/"), l.Url)

		r := f.h.Do("GET", strings.TrimPrefix(l.Url, f.h.URL))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		require.Equal(t, sampleText, r.Body)
		require.Equal(t, "text/plain", r.Header.Get("Content-Type"))
		require.Equal(t, "private, no-store", r.Header.Get("Cache-Control"))
		require.Equal(t, `attachment; filename="Notes f_r Dr. _.txt"; filename*=UTF-8''Notes%20f%C3%BCr%20Dr.%20%C3%91.txt`,
			r.Header.Get("Content-Disposition"))
		require.Empty(t, r.Header.Get("X-RateLimit-Limit"))
	})

	t.Run("TamperedExpiredAndForeignLinksAre403", func(t *testing.T) {
		t.Parallel()
		f := newParties(t)
		d := uploadOK(t, f.h, f.ownerStd, f.caseID, "report.pdf", samplePDF)
		l := downloadLink(t, f.h, f.ownerStd, f.caseID, d.Id)
		token := strings.TrimPrefix(l.Url, f.h.URL+storage.DownloadPath)
		payload, sig, ok := strings.Cut(token, ".")
		require.True(t, ok)

		secret, err := os.ReadFile(filepath.Join(f.h.App.Config.DataDir, "download-secret"))
		require.NoError(t, err)
		sameSecret, err := storage.NewLocal(t.TempDir(), bytes.TrimSpace(secret), nil)
		require.NoError(t, err)
		otherSecret, err := storage.NewLocal(t.TempDir(), bytes.Repeat([]byte("z"), 64), nil)
		require.NoError(t, err)
		key := "cases/" + f.caseID.String() + "/" + d.Id.String()
		forgedPayload, _, _ := strings.Cut(sameSecret.Token("cases/"+f.caseID.String()+"/"+uuid.NewString(), time.Now().Add(time.Hour)), ".")

		for name, tok := range map[string]string{
			"expired":           sameSecret.Token(key, time.Now().Add(-time.Second)),
			"other secret":      otherSecret.Token(key, time.Now().Add(time.Hour)),
			"swapped payload":   forgedPayload + "." + sig,
			"altered signature": payload + "." + strings.ToUpper(sig[:4]) + sig[4:] + "A",
			"no signature":      payload,
			"garbage":           "definitely-not-a-token",
		} {
			r := f.h.Do("GET", storage.DownloadPath+tok)
			require.Equal(t, http.StatusForbidden, r.StatusCode, "%s: %s", name, r.Body)
			require.Equal(t, "permission_denied", r.ErrorCode(), name)
		}
		// A fresh token signed with the server's secret works, which shows the forgeries
		// above failed only for what they changed.
		r := f.h.Do("GET", storage.DownloadPath+sameSecret.Token(key, time.Now().Add(time.Minute)))
		require.Equal(t, http.StatusOK, r.StatusCode)
		require.Equal(t, samplePDF, r.Body)
	})

	t.Run("DeleteNeedsFullTierAndOwnership", func(t *testing.T) {
		t.Parallel()
		f := acknowledged(t)
		ownerDoc := uploadOK(t, f.h, f.ownerStd, f.caseID, "owner.pdf", samplePDF)
		recvDoc := uploadOK(t, f.h, f.recvStd, f.caseID, "recv.pdf", samplePDF)
		link := downloadLink(t, f.h, f.ownerStd, f.caseID, ownerDoc.Id)
		before := storedFiles(t, f.h)

		r := f.h.Do("DELETE", docsPath(f.caseID, ownerDoc.Id.String()), apitest.APIKey(f.ownerStd))
		require.Equal(t, http.StatusForbidden, r.StatusCode)
		require.Equal(t, "insufficient_tier", r.ErrorCode())

		r = f.h.Do("DELETE", docsPath(f.caseID, ownerDoc.Id.String()), apitest.APIKey(f.recvFull))
		require.Equal(t, http.StatusForbidden, r.StatusCode, string(r.Body))
		require.Equal(t, "permission_denied", r.ErrorCode())

		r = f.h.Do("DELETE", docsPath(f.caseID, ownerDoc.Id.String()), apitest.APIKey(f.h.Key(f.out, apitest.Full)))
		require.Equal(t, http.StatusNotFound, r.StatusCode)

		r = f.h.Do("DELETE", docsPath(f.caseID, ownerDoc.Id.String()), apitest.APIKey(f.ownerFull))
		require.Equal(t, http.StatusNoContent, r.StatusCode, string(r.Body))
		require.Equal(t, before-2, storedFiles(t, f.h), "the object and its metadata are gone")
		require.Equal(t, []string{"recv.pdf"}, docNames(listDocs(t, f.h, f.ownerStd, f.caseID)))

		r = f.h.Do("GET", strings.TrimPrefix(link.Url, f.h.URL))
		require.Equal(t, http.StatusNotFound, r.StatusCode, "links issued earlier stop working")
		r = f.h.Do("DELETE", docsPath(f.caseID, ownerDoc.Id.String()), apitest.APIKey(f.ownerFull))
		require.Equal(t, http.StatusNotFound, r.StatusCode)

		r = f.h.Do("DELETE", docsPath(f.caseID, recvDoc.Id.String()), apitest.APIKey(f.recvFull))
		require.Equal(t, http.StatusNoContent, r.StatusCode)
	})

	t.Run("PublicUploadsEmailThePartnerFirmAsItsPreferencesAllow", func(t *testing.T) {
		t.Parallel()
		f := acknowledged(t)
		mail := docMailServer(t, f.h)
		ownerAdmin, recvAdmin := f.owner.Admin.Email, f.recv.Admin.Email

		uploadOK(t, f.h, f.ownerStd, f.caseID, "private.pdf", samplePDF, "isPublic", "false")
		uploadOK(t, f.h, f.ownerStd, f.caseID, "public.pdf", samplePDF)
		require.Eventually(t, func() bool { return len(uploadMails(mail)[recvAdmin]) == 1 }, 20*time.Second, 50*time.Millisecond)
		m := uploadMails(mail)[recvAdmin][0]
		require.Contains(t, m.Text, f.owner.Name+" attached a document to referral ")
		require.NotContains(t, m.Text, "Marcus", "no client details in e-mail")
		require.NotContains(t, m.Text, "public.pdf")

		uploadOK(t, f.h, f.recvStd, f.caseID, "from-receiver.pdf", samplePDF)
		require.Eventually(t, func() bool { return len(uploadMails(mail)[ownerAdmin]) == 1 }, 20*time.Second, 50*time.Millisecond)

		r := f.h.Do("PUT", "/api/public/v1/notifications/preferences", apitest.APIKey(f.recvFull),
			apitest.JSON(map[string]any{"emailOnDocumentUpload": false}))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		uploadOK(t, f.h, f.ownerStd, f.caseID, "unannounced.pdf", samplePDF)
		uploadOK(t, f.h, f.recvStd, f.caseID, "barrier.pdf", samplePDF)
		require.Eventually(t, func() bool { return len(uploadMails(mail)[ownerAdmin]) == 2 }, 20*time.Second, 50*time.Millisecond)
		require.Len(t, uploadMails(mail)[recvAdmin], 1, "the receiving firm switched upload e-mail off")
	})

	t.Run("GeneratedClientRoundTrip", func(t *testing.T) {
		t.Parallel()
		f := newParties(t)
		ct, body := multipartForm(t, formPart{name: "file", fileName: "client.png", data: samplePNG})
		up, err := f.h.Client.UploadDocumentWithBodyWithResponse(t.Context(), f.caseID, nil, ct, bytes.NewReader(body), apitest.WithKey(f.ownerStd))
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, up.StatusCode(), string(up.Body))
		list, err := f.h.Client.ListDocumentsWithResponse(t.Context(), f.caseID, nil, apitest.WithKey(f.ownerRO))
		require.NoError(t, err)
		require.Len(t, list.JSON200.Data, 1)
		link, err := f.h.Client.GetDocumentDownloadUrlWithResponse(t.Context(), f.caseID, up.JSON201.Data.Id, nil, apitest.WithKey(f.ownerRO))
		require.NoError(t, err)
		resp, err := http.Get(link.JSON200.Data.Url)
		require.NoError(t, err)
		defer resp.Body.Close()
		got, _ := io.ReadAll(resp.Body)
		require.Equal(t, samplePNG, got)
		require.Equal(t, "image/png", resp.Header.Get("Content-Type"))
	})
}
