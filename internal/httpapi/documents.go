package httpapi

import (
	"context"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/documents"
	"github.com/casexchange/server/internal/storage"
)

func apiDocument(d documents.Document) api.Document {
	firmID, firmName, public := d.UploadedByFirmID, d.UploadedByFirmName, d.IsPublic
	return api.Document{
		Id: d.ID, CaseId: d.CaseID, FileName: d.FileName, MimeType: d.MimeType, SizeBytes: d.SizeBytes,
		UploadedBy: d.UploadedBy, UploadedByFirmId: &firmID, UploadedByFirmName: &firmName,
		Description: d.Description, IsPublic: &public, CreatedAt: d.CreatedAt,
	}
}

// ListDocuments lists the case's documents the caller sees, newest first.
func (s *Server) ListDocuments(ctx context.Context, req api.ListDocumentsRequestObject) (api.ListDocumentsResponseObject, error) {
	a, err := requireActor(ctx)
	if err != nil {
		return nil, err
	}
	docs, err := s.Documents.List(ctx, a, req.CaseId)
	if err != nil {
		return nil, err
	}
	out := make([]api.Document, 0, len(docs))
	for _, d := range docs {
		out = append(out, apiDocument(d))
	}
	return api.ListDocuments200JSONResponse{Body: api.DocumentListResponse{Data: out, Meta: meta(ctx)}}, nil
}

// UploadDocument streams the multipart file to storage and records it.
func (s *Server) UploadDocument(ctx context.Context, req api.UploadDocumentRequestObject) (api.UploadDocumentResponseObject, error) {
	a, err := requireActor(ctx)
	if err != nil {
		return nil, err
	}
	if req.Body == nil {
		return nil, apperr.Field("body.file", "is required")
	}
	d, err := s.Documents.Upload(ctx, a, req.CaseId, req.Body)
	if err != nil {
		return nil, err
	}
	return api.UploadDocument201JSONResponse{Body: api.DocumentResponse{Data: apiDocument(d), Meta: meta(ctx)}}, nil
}

// DeleteDocument removes a document the caller's firm uploaded.
func (s *Server) DeleteDocument(ctx context.Context, req api.DeleteDocumentRequestObject) (api.DeleteDocumentResponseObject, error) {
	a, err := requireActor(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.Documents.Delete(ctx, a, req.CaseId, req.DocId); err != nil {
		return nil, err
	}
	return api.DeleteDocument204Response{}, nil
}

// GetDocumentDownloadUrl issues a temporary link to the document's content.
func (s *Server) GetDocumentDownloadUrl(ctx context.Context, req api.GetDocumentDownloadUrlRequestObject) (api.GetDocumentDownloadUrlResponseObject, error) {
	a, err := requireActor(ctx)
	if err != nil {
		return nil, err
	}
	l, err := s.Documents.DownloadLink(ctx, a, req.CaseId, req.DocId)
	if err != nil {
		return nil, err
	}
	mimeType, size := l.MimeType, l.SizeBytes
	return api.GetDocumentDownloadUrl200JSONResponse{Body: api.DocumentDownloadLinkResponse{
		Data: api.DocumentDownloadLink{
			Url: l.URL, DownloadUrl: l.URL, FileName: l.FileName, MimeType: &mimeType, SizeBytes: &size,
			ExpiresAt: l.ExpiresAt.UTC(),
		},
		Meta: meta(ctx),
	}}, nil
}

// DownloadDocumentContent serves a signed link of the local storage backend. It needs no API
// key: the token is the credential.
func (s *Server) DownloadDocumentContent(ctx context.Context, req api.DownloadDocumentContentRequestObject) (api.DownloadDocumentContentResponseObject, error) {
	c, err := s.Documents.OpenLink(ctx, req.Token)
	if err != nil {
		return nil, err
	}
	cd, cc := storage.ContentDisposition(c.FileName), "private, no-store"
	return api.DownloadDocumentContent200AsteriskResponse{
		Body: c.Body, ContentType: c.MimeType, ContentLength: c.Size,
		Headers: api.DownloadDocumentContent200ResponseHeaders{ContentDisposition: &cd, CacheControl: &cc},
	}, nil
}
