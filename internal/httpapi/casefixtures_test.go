package httpapi_test

// Fixtures shared by the documents, medical referral and import tests: cases and referrals are
// made through the lifecycle operations, as a client would.

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/httpapi/apitest"
)

// partyFixture is a case owned by one firm and referred to another, plus an outsider.
type partyFixture struct {
	h                 *apitest.Harness
	owner, recv, out  *apitest.Firm
	ownerStd, recvStd string
	ownerFull         string
	recvFull          string
	outStd            string
	ownerRO           string
	caseID            uuid.UUID
}

// connectFirms makes an active relationship in which from may send cases to to.
func connectFirms(t *testing.T, h *apitest.Harness, from, to *apitest.Firm) {
	t.Helper()
	r := h.Do("PUT", apitest.Path("/api/public/v1/network/outbound", to.ID.String()), apitest.APIKey(h.Key(from, apitest.Standard)))
	require.Contains(t, []int{http.StatusCreated, http.StatusOK}, r.StatusCode, string(r.Body))
	r = h.Do("PATCH", apitest.Path("/api/public/v1/network/inbound", from.ID.String()),
		apitest.APIKey(h.Key(to, apitest.Standard)), apitest.JSON(map[string]any{"status": "active"}))
	require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
}

// newCase creates a case through POST /sent-cases, referred at once when referent is set.
func newCase(t *testing.T, h *apitest.Harness, key string, referent *uuid.UUID, extra map[string]any) uuid.UUID {
	t.Helper()
	body := map[string]any{
		"title": "Rear-end collision on I-5", "caseType": "Personal Injury", "jurisdiction": "WA",
		"clientFirstName": "Marcus", "clientLastName": "Delgado",
	}
	if referent != nil {
		body["referentFirmId"] = referent.String()
	}
	for k, v := range extra {
		body[k] = v
	}
	r := h.Do("POST", "/api/public/v1/sent-cases", apitest.APIKey(key), apitest.JSON(body))
	require.Equal(t, http.StatusCreated, r.StatusCode, string(r.Body))
	var out struct {
		Data struct {
			ID              uuid.UUID `json:"id"`
			ReferenceNumber string    `json:"referenceNumber"`
		} `json:"data"`
	}
	r.Decode(&out)
	return out.Data.ID
}

// receivedAction applies a received-referral action (acknowledge, reject, ...) to the case's
// referral as the receiving firm.
func receivedAction(t *testing.T, h *apitest.Harness, key string, caseID uuid.UUID, action string, body any) {
	t.Helper()
	opts := []apitest.Opt{apitest.APIKey(key)}
	if body != nil {
		opts = append(opts, apitest.JSON(body))
	}
	r := h.Do("POST", apitest.Path("/api/public/v1/received-referrals", caseID.String(), action), opts...)
	require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
}

// newParties builds owner -> recv with a sent (not yet acknowledged) case, and an outsider.
func newParties(t *testing.T, opts ...apitest.Options) *partyFixture {
	t.Helper()
	h := apitest.New(t, opts...)
	f := &partyFixture{h: h}
	f.owner = h.NewFirm(apitest.FirmOpts{Name: "Harborview Law Group"})
	f.recv = h.NewFirm(apitest.FirmOpts{Name: "Lakeshore Trial Lawyers", Jurisdictions: []string{"WA"}})
	f.out = h.NewFirm(apitest.FirmOpts{Name: "Outsider Legal"})
	f.ownerStd, f.ownerFull, f.ownerRO = h.Key(f.owner, apitest.Standard), h.Key(f.owner, apitest.Full), h.Key(f.owner, apitest.ReadOnly)
	f.recvStd, f.recvFull = h.Key(f.recv, apitest.Standard), h.Key(f.recv, apitest.Full)
	f.outStd = h.Key(f.out, apitest.Standard)
	connectFirms(t, h, f.owner, f.recv)
	f.caseID = newCase(t, h, f.ownerStd, &f.recv.ID, nil)
	return f
}

// formPart is one part of a multipart body.
type formPart struct {
	name, fileName, contentType string
	data                        []byte
}

// quoteEscaper escapes a quoted-string as mime/multipart's writer does.
var quoteEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// multipartForm encodes parts and returns the Content-Type and the body.
func multipartForm(t *testing.T, parts ...formPart) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, p := range parts {
		hdr := textproto.MIMEHeader{}
		if p.fileName != "" {
			hdr.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"; filename="%s"`, p.name, quoteEscaper.Replace(p.fileName)))
		} else {
			hdr.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q`, p.name))
		}
		if p.contentType != "" {
			hdr.Set("Content-Type", p.contentType)
		}
		pw, err := w.CreatePart(hdr)
		require.NoError(t, err)
		_, err = pw.Write(p.data)
		require.NoError(t, err)
	}
	require.NoError(t, w.Close())
	return w.FormDataContentType(), buf.Bytes()
}

// fileForm is a form with one file part (declared as application/octet-stream) and optional
// text fields.
func fileForm(t *testing.T, fileName string, data []byte, fields ...string) apitest.Opt {
	t.Helper()
	parts := []formPart{{name: "file", fileName: fileName, contentType: "application/octet-stream", data: data}}
	for i := 0; i+1 < len(fields); i += 2 {
		parts = append(parts, formPart{name: fields[i], data: []byte(fields[i+1])})
	}
	ct, body := multipartForm(t, parts...)
	return apitest.Body(ct, body)
}

// errorFields returns the field names of an error envelope's details.
func errorFields(t *testing.T, r *apitest.Response) []string {
	t.Helper()
	var env struct {
		Error struct {
			Details []struct {
				Field string `json:"field"`
			} `json:"details"`
		} `json:"error"`
	}
	r.Decode(&env)
	var out []string
	for _, d := range env.Error.Details {
		out = append(out, d.Field)
	}
	return out
}
