package httpapi

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/referrals"
)

// exportColumns are the columns of GET /cases/export, in order.
var exportColumns = []string{
	"perspective", "id", "referenceNumber", "cmsId", "salesforceId", "title", "caseType", "jurisdiction",
	"county", "status", "closingStatus", "sendingFirmName", "receivingFirmName", "clientFirstName",
	"clientLastName", "tier", "ratedTier", "source", "isRetainerSigned", "createdAt", "updatedAt",
}

// exportCell is one cell: text (neutralized against formula injection), a number, a boolean, or
// empty for null.
type exportCell struct {
	text  *string
	num   *int
	flag  *bool
	empty bool
}

func exportTextCell(s *string) exportCell {
	if s == nil {
		return exportCell{empty: true}
	}
	v := exportNeutralize(*s)
	return exportCell{text: &v}
}

func exportTextOf(s string) exportCell { return exportTextCell(&s) }

func exportNumCell(n *int) exportCell {
	if n == nil {
		return exportCell{empty: true}
	}
	return exportCell{num: n}
}

func exportTimeCell(t time.Time) exportCell { return exportTextOf(t.UTC().Format(time.RFC3339)) }

// neutralize prefixes text that a spreadsheet program would read as a formula with a quote.
func exportNeutralize(s string) string {
	if s != "" {
		switch s[0] {
		case '=', '+', '-', '@':
			return "'" + s
		}
	}
	return s
}

// exportRow lays out one export row as the caller's firm sees it. A sent row is about the case
// (with its latest referral); a received row is about one referral addressed to the caller (a
// case referred to it twice has two), with the client names masked as that referral's view
// masks them and without the sender's record ids.
func exportRow(v referrals.CaseView) []exportCell {
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
	return []exportCell{
		exportTextOf(perspective), exportTextOf(id), exportTextOf(ref), exportTextCell(cmsID), exportTextCell(sfID), exportTextOf(c.Title),
		exportTextOf(c.CaseType), exportTextOf(c.Jurisdiction), exportTextCell(c.County), exportTextOf(string(v.Status())),
		exportTextCell(closing), exportTextOf(c.OwnerFirmName), exportTextCell(receiving), exportTextCell(c.ClientFirstName),
		exportTextCell(c.ClientLastName), exportNumCell(c.Tier), exportNumCell(rated), exportTextCell(c.Source), {flag: &signed},
		exportTimeCell(c.CreatedAt), exportTimeCell(c.UpdatedAt),
	}
}

// exportWriter writes the rows of an export in one format.
type exportWriter interface {
	header() error
	row([]exportCell) error
	close() error
}

type csvExport struct{ w *csv.Writer }

func newCSVExport(w io.Writer) *csvExport {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	return &csvExport{w: cw}
}

func (e *csvExport) header() error { return e.w.Write(exportColumns) }

func (e *csvExport) row(cells []exportCell) error {
	rec := make([]string, len(cells))
	for i, c := range cells {
		switch {
		case c.text != nil:
			rec[i] = *c.text
		case c.num != nil:
			rec[i] = strconv.Itoa(*c.num)
		case c.flag != nil:
			rec[i] = strconv.FormatBool(*c.flag)
		}
	}
	return e.w.Write(rec)
}

func (e *csvExport) close() error {
	e.w.Flush()
	return e.w.Error()
}

// xlsxExport fills one worksheet through excelize's stream writer (rows go to a temporary
// file, not memory) and writes the workbook when closed.
type xlsxExport struct {
	out  io.Writer
	f    *excelize.File
	sw   *excelize.StreamWriter
	next int
}

func newXLSXExport(out io.Writer) (*xlsxExport, error) {
	f := excelize.NewFile()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		return nil, err
	}
	return &xlsxExport{out: out, f: f, sw: sw, next: 1}, nil
}

func (e *xlsxExport) write(values []interface{}) error {
	cell, err := excelize.CoordinatesToCellName(1, e.next)
	if err != nil {
		return err
	}
	e.next++
	return e.sw.SetRow(cell, values)
}

func (e *xlsxExport) header() error {
	values := make([]interface{}, len(exportColumns))
	for i, c := range exportColumns {
		values[i] = c
	}
	return e.write(values)
}

func (e *xlsxExport) row(cells []exportCell) error {
	values := make([]interface{}, len(cells))
	for i, c := range cells {
		switch {
		case c.text != nil:
			values[i] = *c.text
		case c.num != nil:
			values[i] = *c.num
		case c.flag != nil:
			values[i] = *c.flag
		default:
			values[i] = nil
		}
	}
	return e.write(values)
}

func (e *xlsxExport) close() error {
	defer e.f.Close()
	if err := e.sw.Flush(); err != nil {
		return err
	}
	return e.f.Write(e.out)
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
	a := refActor(ctx)

	pr, pw := io.Pipe()
	started := make(chan bool, 1)
	done := make(chan error, 1)
	go func() {
		var w exportWriter
		var err error
		if xlsx {
			w, err = newXLSXExport(pw)
		} else {
			w = newCSVExport(pw)
		}
		if err == nil {
			err = s.Referrals.Export(ctx, a, cq,
				func(truncated bool) error { started <- truncated; return w.header() },
				func(v referrals.CaseView) error { return w.row(exportRow(v)) })
		}
		if err == nil {
			err = w.close()
		}
		pw.CloseWithError(err)
		done <- err
	}()

	var truncated bool
	select {
	case truncated = <-started:
	case err := <-done:
		if err != nil {
			return nil, err
		}
		truncated = <-started
	}
	name := "cases-" + time.Now().UTC().Format(time.DateOnly)
	headers := api.ExportCases200ResponseHeaders{XExportTruncated: &truncated}
	if xlsx {
		cd := fmt.Sprintf("attachment; filename=%q", name+".xlsx")
		headers.ContentDisposition = &cd
		return api.ExportCases200ApplicationvndOpenxmlformatsOfficedocumentSpreadsheetmlSheetResponse{Body: pr, Headers: headers}, nil
	}
	cd := fmt.Sprintf("attachment; filename=%q", name+".csv")
	headers.ContentDisposition = &cd
	return api.ExportCases200TextcsvResponse{Body: pr, Headers: headers}, nil
}
