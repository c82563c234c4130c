package httpapi

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/referrals"
	"github.com/casexchange/server/internal/tabular"
)

// exportColumns are the columns of GET /cases/export, in order.
var exportColumns = []string{
	"perspective", "id", "referenceNumber", "cmsId", "salesforceId", "title", "caseType", "jurisdiction",
	"county", "status", "closingStatus", "sendingFirmName", "receivingFirmName", "clientFirstName",
	"clientLastName", "tier", "ratedTier", "source", "isRetainerSigned", "createdAt", "updatedAt",
}

func exportTimeCell(t time.Time) tabular.Cell { return tabular.Text(t.UTC().Format(time.RFC3339)) }

// exportRow lays out one export row as the caller's firm sees it. A sent row is about the case
// (with its latest referral); a received row is about one referral addressed to the caller (a
// case referred to it twice has two), with the client names masked as that referral's view
// masks them and without the sender's record ids.
func exportRow(v referrals.CaseView) []tabular.Cell {
	c, r := v.Case, v.Current
	perspective, id, ref := "sent", c.ID.String(), c.ReferenceNumber
	cmsID, sfID := c.CMSID(), c.SalesforceID
	if v.Side == referrals.SideReceiving && r != nil {
		perspective, id, ref = "received", r.ID.String(), r.ReferenceNumber
		cmsID, sfID = nil, nil
	}
	var closing, receiving *string
	var rated *int
	if r != nil {
		if r.ClosingStatus != nil {
			cs := string(*r.ClosingStatus)
			closing = &cs
		}
		receiving, rated = r.ReferentFirmName, r.RatedTier
	}
	signed := v.IsRetainerSigned()
	T, TP := tabular.Text, tabular.TextPtr
	return []tabular.Cell{
		T(perspective), T(id), T(ref), TP(cmsID), TP(sfID), T(c.Title),
		T(c.CaseType), T(c.Jurisdiction), TP(c.County), T(string(v.Status())),
		TP(closing), T(c.OwnerFirmName), TP(receiving), TP(c.ClientFirstName),
		TP(c.ClientLastName), tabular.IntPtr(c.Tier), tabular.IntPtr(rated), TP(c.Source), tabular.Bool(signed),
		exportTimeCell(c.CreatedAt), exportTimeCell(c.UpdatedAt),
	}
}

// exportWriter writes the rows of an export in one format (tabular's writers, which neutralize
// text against formulas).
type exportWriter interface {
	row([]tabular.Cell) error
	close() error // writes what remains of the file
	discard()     // releases the writer after a failure
}

type csvExport struct{ w *tabular.CSV }

func newCSVExport(w io.Writer, columns []string) (*csvExport, error) {
	e := &csvExport{w: tabular.NewCSV(w, true)}
	return e, e.w.Row(tabular.Texts(columns))
}

func (e *csvExport) row(cells []tabular.Cell) error { return e.w.Row(cells) }
func (e *csvExport) close() error                   { return e.w.Close() }
func (e *csvExport) discard()                       {}

// xlsxExport fills one worksheet and writes the workbook when closed. Not deterministic: the
// workbook of 50,000 rows is not held in memory.
type xlsxExport struct {
	out io.Writer
	b   *tabular.Workbook
	s   *tabular.Sheet
}

func newXLSXExport(out io.Writer, columns []string) (*xlsxExport, error) {
	b, err := tabular.NewWorkbook()
	if err != nil {
		return nil, err
	}
	s, err := b.AddSheet("Sheet1", columns, tabular.SheetOptions{})
	if err != nil {
		b.Close()
		return nil, err
	}
	return &xlsxExport{out: out, b: b, s: s}, nil
}

func (e *xlsxExport) row(cells []tabular.Cell) error { return e.s.Row(cells) }

func (e *xlsxExport) discard() { e.b.Close() }

func (e *xlsxExport) close() error {
	defer e.b.Close()
	return e.b.Write(e.out, false)
}

// ExportCases streams the caller's cases as CSV or XLSX. The rows are produced by a goroutine
// writing into a pipe the response body reads from; the handler waits only until the export knows
// whether it is truncated (a response header), or until it fails before writing anything (an
// ordinary error response).
func (s *Server) ExportCases(ctx context.Context, req api.ExportCasesRequestObject) (api.ExportCasesResponseObject, error) {
	p := req.Params
	from, before := caseDayRange(p.DateFrom, p.DateTo)
	cq := referrals.CaseQuery{
		View: strOf(p.View), Status: lifecycleQuery(p.Status), Search: strOf(p.Search),
		CreatedFrom: from, CreatedBefore: before, Sort: strOf(p.Sort), Ascending: strOf(p.Order) == "asc",
	}
	if cq.Sort == "" {
		cq.Sort = referrals.SortUpdatedAt
	}
	xlsx := strOf(p.Format) == "xlsx"
	a := actorOf(ctx)
	pr, truncated, err := streamExport(xlsx, exportColumns, func(begin func(bool) error, row func([]tabular.Cell) error) error {
		return s.Referrals.Export(ctx, a, cq, begin, func(v referrals.CaseView) error { return row(exportRow(v)) })
	})
	if err != nil {
		return nil, err
	}
	name := "cases-" + time.Now().UTC().Format(time.DateOnly)
	headers := api.ExportCases200ResponseHeaders{XExportTruncated: &truncated}
	headers.ContentDisposition = exportDisposition(name, xlsx)
	if xlsx {
		return api.ExportCases200ApplicationvndOpenxmlformatsOfficedocumentSpreadsheetmlSheetResponse{Body: pr, Headers: headers}, nil
	}
	return api.ExportCases200TextcsvResponse{Body: pr, Headers: headers}, nil
}

// exportDisposition is the Content-Disposition of an export file named name (.csv, or .xlsx
// when xlsx).
func exportDisposition(name string, xlsx bool) *string {
	ext := ".csv"
	if xlsx {
		ext = ".xlsx"
	}
	cd := fmt.Sprintf("attachment; filename=%q", name+ext)
	return &cd
}

// streamExport runs walk in a goroutine that writes the file (CSV, or XLSX when xlsx) with its
// header row of columns into a pipe the response body reads from. walk calls begin once, with
// whether the export is truncated, before its first row. streamExport returns once the export
// knows that (a response header), or the error of a walk that failed before writing anything
// (an ordinary error response); a later failure cuts the body short.
func streamExport(xlsx bool, columns []string, walk func(begin func(truncated bool) error, row func([]tabular.Cell) error) error) (io.ReadCloser, bool, error) {
	pr, pw := io.Pipe()
	started := make(chan bool, 1)
	done := make(chan error, 1)
	go func() {
		var w exportWriter
		begin := func(truncated bool) error {
			started <- truncated
			if xlsx {
				x, err := newXLSXExport(pw, columns)
				if err != nil {
					return err
				}
				w = x
				return nil
			}
			c, err := newCSVExport(pw, columns)
			w = c
			return err
		}
		err := walk(begin, func(cells []tabular.Cell) error { return w.row(cells) })
		switch {
		case w == nil:
		case err != nil:
			w.discard()
		default:
			err = w.close()
		}
		pw.CloseWithError(err)
		done <- err
	}()
	select {
	case truncated := <-started:
		return pr, truncated, nil
	case err := <-done:
		if err != nil {
			_ = pr.Close() // the writer failed first; its error is the one returned
			return nil, false, err
		}
		return pr, <-started, nil
	}
}
