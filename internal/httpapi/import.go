package httpapi

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"time"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/importer"
)

// importJobPath is where an import job is polled.
const importJobPath = "/api/public/v1/import/jobs/"

// runImport finds the `file` part of the form and imports it, or hands it to a background job
// (more than importer.HTTPMaxRows data rows, or async); other parts are ignored. Exactly one
// of the results is set.
func (s *Server) runImport(ctx context.Context, form *multipart.Reader, mode importer.Mode, async bool) (*api.CaseImportResponse, *api.CaseImportJobResponse, error) {
	a, err := importActor(ctx)
	if err != nil {
		return nil, nil, err
	}
	if form == nil {
		return nil, nil, apperr.Field("body.file", "is required")
	}
	for {
		part, err := form.NextPart()
		if err == io.EOF {
			return nil, nil, apperr.Field("body.file", "is required")
		}
		if err != nil {
			return nil, nil, apperr.Field("body", "malformed multipart body: "+err.Error())
		}
		if part.FormName() != "file" {
			_, _ = io.Copy(io.Discard, part)
			_ = part.Close()
			continue
		}
		res, job, err := s.Importer.Submit(ctx, a, mode, part, async)
		_ = part.Close()
		if err != nil {
			return nil, nil, err
		}
		if job != nil {
			return nil, &api.CaseImportJobResponse{Data: apiImportJob(*job), Meta: meta(ctx)}, nil
		}
		return &api.CaseImportResponse{Data: apiImportResult(*res), Meta: meta(ctx)}, nil, nil
	}
}

func apiImportResult(r importer.Result) api.CaseImportResult {
	return api.CaseImportResult{
		TotalRows: r.TotalRows, Created: r.Created, Updated: r.Updated, Skipped: r.Skipped, Failed: r.Failed,
		Errors: apiRowErrors(r.Errors),
	}
}

func apiRowErrors(errs []importer.RowError) []api.CaseImportRowError {
	out := make([]api.CaseImportRowError, 0, len(errs))
	for _, e := range errs {
		out = append(out, api.CaseImportRowError{Row: e.Row, Column: e.Column, Message: e.Message})
	}
	return out
}

func apiImportJob(j importer.Job) api.CaseImportJob {
	mode := api.CaseImportJobModeUpsert
	if j.Mode == importer.UpdateOnly {
		mode = api.CaseImportJobModeUpdate
	}
	utc := func(t *time.Time) *time.Time {
		if t == nil {
			return nil
		}
		u := t.UTC()
		return &u
	}
	return api.CaseImportJob{
		Id: j.ID, Mode: mode, Status: api.CaseImportJobStatus(j.Status),
		TotalRows: j.TotalRows, ProcessedRows: j.ProcessedRows,
		Created: j.Created, Updated: j.Updated, Skipped: j.Skipped, Failed: j.Failed,
		Errors: apiRowErrors(j.Errors), ErrorCount: j.ErrorCount, Failure: j.Failure,
		CreatedAt: j.CreatedAt.UTC(), StartedAt: utc(j.StartedAt), FinishedAt: utc(j.FinishedAt),
	}
}

// ImportCases creates (or upserts by external id) cases from a CSV upload, row by row: at once
// for up to 10,000 rows, else (or with async) in a background job.
func (s *Server) ImportCases(ctx context.Context, req api.ImportCasesRequestObject) (api.ImportCasesResponseObject, error) {
	body, job, err := s.runImport(ctx, req.Body, importer.Upsert, req.Params.Async != nil && *req.Params.Async)
	if err != nil {
		return nil, err
	}
	if job != nil {
		loc := importJobPath + job.Data.Id.String()
		return api.ImportCases202JSONResponse{Body: *job, Headers: api.ImportCases202ResponseHeaders{Location: &loc}}, nil
	}
	return api.ImportCases200JSONResponse{Body: *body}, nil
}

// ImportCasesUpdate updates existing cases from a CSV upload; it never creates one. Large files
// (or async) run as a background job, as for ImportCases.
func (s *Server) ImportCasesUpdate(ctx context.Context, req api.ImportCasesUpdateRequestObject) (api.ImportCasesUpdateResponseObject, error) {
	body, job, err := s.runImport(ctx, req.Body, importer.UpdateOnly, req.Params.Async != nil && *req.Params.Async)
	if err != nil {
		return nil, err
	}
	if job != nil {
		loc := importJobPath + job.Data.Id.String()
		return api.ImportCasesUpdate202JSONResponse{Body: *job, Headers: api.ImportCasesUpdate202ResponseHeaders{Location: &loc}}, nil
	}
	return api.ImportCasesUpdate200JSONResponse{Body: *body}, nil
}

// GetImportJob reports the state and progress of one of the firm's import jobs.
func (s *Server) GetImportJob(ctx context.Context, req api.GetImportJobRequestObject) (api.GetImportJobResponseObject, error) {
	p, err := requirePrincipal(ctx)
	if err != nil {
		return nil, err
	}
	j, err := s.Importer.Job(ctx, p.FirmID, req.JobId)
	if err != nil {
		return nil, err
	}
	return api.GetImportJob200JSONResponse{Body: api.CaseImportJobResponse{Data: apiImportJob(j), Meta: meta(ctx)}}, nil
}

// ListImportJobs lists the firm's import jobs, newest first.
func (s *Server) ListImportJobs(ctx context.Context, req api.ListImportJobsRequestObject) (api.ListImportJobsResponseObject, error) {
	p, err := requirePrincipal(ctx)
	if err != nil {
		return nil, err
	}
	page, limit := pageParams(req.Params.Page, req.Params.Limit)
	js, total, err := s.Importer.Jobs(ctx, p.FirmID, page, limit)
	if err != nil {
		return nil, err
	}
	data := make([]api.CaseImportJob, 0, len(js))
	for _, j := range js {
		data = append(data, apiImportJob(j))
	}
	return api.ListImportJobs200JSONResponse{Body: api.CaseImportJobListResponse{
		Data: data, Pagination: pagination(page, limit, total), Meta: meta(ctx),
	}}, nil
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
