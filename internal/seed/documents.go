package seed

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/textproto"

	"github.com/casexchange/server/internal/app"
	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/referrals"
)

func init() { demoSteps["documents"] = demoDocuments }

// demoNote is the text file attached to the demo cases that have a receiving firm at work.
const demoNote = "Intake summary (demo data)\n\nClient interview completed; police report and photos requested.\n"

// demoDocuments attaches a shared intake note to each case its owner sent that the receiver has
// acknowledged, so the receiving firm has a document to list and download.
func demoDocuments(ctx context.Context, a *app.App, res Result) error {
	for _, f := range DemoFirms {
		owner := res.Firms[f.Slug].ID
		page, err := a.Server.Referrals.ListCases(ctx, auth.Actor{FirmID: owner},
			referrals.CaseQuery{View: referrals.ViewSent, Page: referrals.Page{Page: 1, Limit: 100}})
		if err != nil {
			return fmt.Errorf("seed documents: %w", err)
		}
		for _, cv := range page.Items {
			if cv.Current == nil || cv.Current.AcknowledgedAt == nil {
				continue
			}
			actor := auth.Actor{FirmID: owner}
			existing, err := a.Server.Documents.List(ctx, actor, cv.Case.ID)
			if err != nil {
				return fmt.Errorf("seed documents: %w", err)
			}
			if len(existing) > 0 {
				continue
			}
			body, boundary, err := textForm("intake-summary.txt", demoNote)
			if err != nil {
				return err
			}
			if _, err := a.Server.Documents.Upload(ctx, actor, cv.Case.ID, multipart.NewReader(bytes.NewReader(body), boundary)); err != nil {
				return fmt.Errorf("seed document for %s: %w", cv.Case.ReferenceNumber, err)
			}
		}
	}
	return nil
}

// textForm builds a multipart body with one text file part; it returns the body and boundary.
func textForm(name, text string) ([]byte, string, error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, name))
	h.Set("Content-Type", "text/plain")
	part, err := w.CreatePart(h)
	if err != nil {
		return nil, "", err
	}
	if _, err := part.Write([]byte(text)); err != nil {
		return nil, "", err
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), w.Boundary(), nil
}
