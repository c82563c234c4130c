package httpapi

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"

	"github.com/google/uuid"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/importer"
	"github.com/casexchange/server/internal/referrals"
)

// importActor is the caller as the importer (and so the referrals service) sees it.
func importActor(ctx context.Context) (referrals.Actor, error) {
	p, err := requirePrincipal(ctx)
	if err != nil {
		return referrals.Actor{}, err
	}
	a := referrals.Actor{FirmID: p.FirmID, Source: referrals.SourceAPI}
	if p.KeyID != uuid.Nil {
		k := p.KeyID
		a.KeyID = &k
	}
	if p.UserID != uuid.Nil {
		u := p.UserID
		a.UserID = &u
	}
	return a, nil
}

// runImport finds the `file` part of the form and imports it; other parts are ignored.
func (s *Server) runImport(ctx context.Context, form *multipart.Reader, mode importer.Mode) (api.CaseImportResponse, error) {
	a, err := importActor(ctx)
	if err != nil {
		return api.CaseImportResponse{}, err
	}
	if form == nil {
		return api.CaseImportResponse{}, apperr.Field("body.file", "is required")
	}
	for {
		part, err := form.NextPart()
		if err == io.EOF {
			return api.CaseImportResponse{}, apperr.Field("body.file", "is required")
		}
		if err != nil {
			return api.CaseImportResponse{}, apperr.Field("body", "malformed multipart body: "+err.Error())
		}
		if part.FormName() != "file" {
			_, _ = io.Copy(io.Discard, part)
			_ = part.Close()
			continue
		}
		res, err := s.Importer.Run(ctx, a, mode, part, importer.HTTPOptions, nil)
		_ = part.Close()
		if err != nil {
			return api.CaseImportResponse{}, err
		}
		return api.CaseImportResponse{Data: apiImportResult(res), Meta: meta(ctx)}, nil
	}
}

func apiImportResult(r importer.Result) api.CaseImportResult {
	out := api.CaseImportResult{
		TotalRows: r.TotalRows, Created: r.Created, Updated: r.Updated, Skipped: r.Skipped, Failed: r.Failed,
		Errors: make([]api.CaseImportRowError, 0, len(r.Errors)),
	}
	for _, e := range r.Errors {
		out.Errors = append(out.Errors, api.CaseImportRowError{Row: e.Row, Column: e.Column, Message: e.Message})
	}
	return out
}

// ImportCases creates (or upserts by external id) cases from a CSV upload, row by row.
func (s *Server) ImportCases(ctx context.Context, req api.ImportCasesRequestObject) (api.ImportCasesResponseObject, error) {
	body, err := s.runImport(ctx, req.Body, importer.Upsert)
	if err != nil {
		return nil, err
	}
	return api.ImportCases200JSONResponse{Body: body}, nil
}

// ImportCasesUpdate updates existing cases from a CSV upload; it never creates one.
func (s *Server) ImportCasesUpdate(ctx context.Context, req api.ImportCasesUpdateRequestObject) (api.ImportCasesUpdateResponseObject, error) {
	body, err := s.runImport(ctx, req.Body, importer.UpdateOnly)
	if err != nil {
		return nil, err
	}
	return api.ImportCasesUpdate200JSONResponse{Body: body}, nil
}

// GetCaseImportTemplate serves the header row the importer understands.
func (s *Server) GetCaseImportTemplate(ctx context.Context, _ api.GetCaseImportTemplateRequestObject) (api.GetCaseImportTemplateResponseObject, error) {
	tpl := importer.Template()
	cd := `attachment; filename="case-import-template.csv"`
	return api.GetCaseImportTemplate200TextcsvResponse{
		Body: bytes.NewReader(tpl), ContentLength: int64(len(tpl)),
		Headers: api.GetCaseImportTemplate200ResponseHeaders{ContentDisposition: &cd},
	}, nil
}
