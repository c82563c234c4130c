package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/importer"
	"github.com/casexchange/server/internal/referrals"
	"github.com/casexchange/server/internal/seed"
)

// importResult compares the CSV import with a raw COPY of the same rows.
type importResult struct {
	Rows, WithExternalID int
	TemplateDB           string
	TemplateCases        int64
	Importer, Copy       time.Duration
	ImporterRowsPerSec   float64
	CopyRowsPerSec       float64
	Created, Failed      int
	FirstFailure         string `json:",omitempty"`
	Workers              int
}

// Databases of the import comparison: a small seeded template and one copy per contestant.
const (
	importTemplateDB = "cx_bench_import_tpl"
	importRunDB      = "cx_bench_import_run"
	importCopyDB     = "cx_bench_import_copy"
	importScale      = 3
)

// copyColumns maps the import file's columns to the base_cases columns the importer sets
// from them; caseType is resolved to case_type_id.
var copyColumns = map[string]string{
	"title": "title", "description": "description", "caseType": "case_type_id", "jurisdiction": "jurisdiction_code",
	"county": "county", "clientFirstName": "client_first_name", "clientLastName": "client_last_name",
	"clientEmail": "client_email", "clientPhone": "client_phone", "clientDateOfBirth": "client_date_of_birth",
	"incidentDate": "incident_date", "notes": "notes", "tier": "tier", "source": "source",
	"salesforceId": "salesforce_id", "cmsId": "salesforce_id", "salesforceObjectType": "salesforce_object_type",
	"isRetainerSigned": "is_retainer_signed",
}

// importBench seeds a small template database, generates an o.importRows-row file with
// importer.GenerateCSV for its first scale firm, then imports them as `casexchange import cases` does (importer.Service.Run, default
// workers) into one fresh copy of the template, and COPYs the same rows (reference data
// resolved to ids) into base_cases of another copy.
func importBench(ctx context.Context, o options) (importResult, error) {
	res := importResult{Rows: o.importRows, TemplateDB: importTemplateDB, Workers: importer.DefaultWorkers}
	for _, n := range []string{importRunDB, importCopyDB, importTemplateDB} {
		if err := dropDatabase(ctx, o.dsn, n); err != nil {
			return res, err
		}
	}
	defer func() {
		for _, n := range []string{importRunDB, importCopyDB, importTemplateDB} {
			_ = dropDatabase(context.WithoutCancel(ctx), o.dsn, n)
		}
	}()
	tpl, err := openScale(ctx, o, importTemplateDB, importScale)
	if err != nil {
		return res, err
	}
	firm, err := tpl.app.Firms.Lookup(ctx, seed.ScaleSlug(0))
	if err != nil {
		tpl.close()
		return res, err
	}
	res.TemplateCases = tpl.info.BaseCases
	dir, err := os.MkdirTemp("", "cx-bench-import-")
	if err != nil {
		tpl.close()
		return res, err
	}
	defer os.RemoveAll(dir)
	csvPath, copyPath := filepath.Join(dir, "import.csv"), filepath.Join(dir, "copy.csv")
	file := importer.GenerateCSV(o.importRows, o.seed)
	if err := os.WriteFile(csvPath, file, 0o600); err != nil {
		tpl.close()
		return res, err
	}
	var copyCols []string
	copyCols, res.WithExternalID, err = toCopyRows(ctx, tpl.pool, firm.ID, file, copyPath)
	tpl.close()
	if err != nil {
		return res, fmt.Errorf("convert the file for COPY: %w", err)
	}
	for _, n := range []string{importRunDB, importCopyDB} {
		if err := createFrom(ctx, o.dsn, n, importTemplateDB); err != nil {
			return res, err
		}
	}

	// The importer.
	run, err := openScale(ctx, o, importRunDB, importScale)
	if err != nil {
		return res, err
	}
	f, err := os.Open(csvPath)
	if err != nil {
		run.close()
		return res, err
	}
	fmt.Fprintf(os.Stderr, "importing %d rows through the importer\n", o.importRows)
	t0 := time.Now()
	ir, err := run.app.Server.Importer.Run(ctx, auth.Actor{FirmID: firm.ID, Source: referrals.SourceSystem},
		importer.Upsert, f, importer.Options{}, importer.ProgressBar(os.Stderr, 40))
	res.Importer = time.Since(t0)
	fmt.Fprintln(os.Stderr)
	_ = f.Close() // read only
	run.close()
	if err != nil {
		return res, fmt.Errorf("import: %w", err)
	}
	res.Created, res.Failed = ir.Created, ir.Failed
	if len(ir.Errors) > 0 {
		e := ir.Errors[0]
		res.FirstFailure = fmt.Sprintf("row %d: %s", e.Row, e.Message)
		if e.Column != nil {
			res.FirstFailure = fmt.Sprintf("row %d, %s: %s", e.Row, *e.Column, e.Message)
		}
	}

	// The raw COPY.
	dsn, err := dsnFor(o.dsn, importCopyDB)
	if err != nil {
		return res, err
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return res, err
	}
	defer conn.Close(ctx)
	cf, err := os.Open(copyPath)
	if err != nil {
		return res, err
	}
	defer cf.Close() //nolint:errcheck // read only
	fmt.Fprintf(os.Stderr, "copying the same %d rows with COPY\n", o.importRows)
	// Dates as the importer reads them: ISO, or month first.
	if _, err := conn.Exec(ctx, "SET DateStyle = 'ISO, MDY'"); err != nil {
		return res, err
	}
	t0 = time.Now()
	tag, err := conn.PgConn().CopyFrom(ctx, bufio.NewReaderSize(cf, 1<<16),
		"COPY base_cases ("+strings.Join(copyCols, ", ")+") FROM STDIN WITH (FORMAT csv)")
	res.Copy = time.Since(t0)
	if err != nil {
		return res, fmt.Errorf("copy: %w", err)
	}
	if tag.RowsAffected() != int64(o.importRows) {
		return res, fmt.Errorf("copy wrote %d rows, not %d", tag.RowsAffected(), o.importRows)
	}
	res.ImporterRowsPerSec = float64(res.Created) / res.Importer.Seconds()
	res.CopyRowsPerSec = float64(o.importRows) / res.Copy.Seconds()
	fmt.Fprintf(os.Stderr, "import: %.0f rows/s (%d created, %d failed); COPY: %.0f rows/s\n",
		res.ImporterRowsPerSec, res.Created, res.Failed, res.CopyRowsPerSec)
	return res, nil
}

// createFrom creates database name as a copy of template (which must have no connections).
func createFrom(ctx context.Context, dsn, name, template string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" TEMPLATE "+pgx.Identifier{template}.Sanitize())
	return err
}

// toCopyRows converts an import file for firm into base_cases rows for COPY, written to
// copyPath: the same cells, with the owner firm added and the case type resolved to its id as
// the importer does (by name or display name). An empty cell becomes NULL (the importer leaves
// the column unset). It returns the COPY's column list and the rows carrying an external id.
func toCopyRows(ctx context.Context, pool *pgxpool.Pool, firm uuid.UUID, file []byte, copyPath string) ([]string, int, error) {
	types := map[string]string{}
	rows, err := pool.Query(ctx, `SELECT id::text, name, display_name FROM case_types`)
	if err != nil {
		return nil, 0, err
	}
	for rows.Next() {
		var id, name string
		var display *string
		if err := rows.Scan(&id, &name, &display); err != nil {
			return nil, 0, err
		}
		types[strings.ToLower(name)] = id
		if display != nil {
			types[strings.ToLower(*display)] = id
		}
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	r := csv.NewReader(bytes.NewReader(file))
	header, err := r.Read()
	if err != nil {
		return nil, 0, err
	}
	cols := []string{"owner_firm_id"}
	var idx []int // file column of each COPY column after the first
	caseType, ext := -1, -1
	for i, h := range header {
		c, ok := copyColumns[h]
		if !ok {
			return nil, 0, fmt.Errorf("column %q has no base_cases column here", h)
		}
		if contains(cols, c) {
			return nil, 0, fmt.Errorf("column %q given twice", c)
		}
		switch h {
		case "caseType":
			caseType = i
		case "salesforceId", "cmsId":
			ext = i
		}
		cols = append(cols, c)
		idx = append(idx, i)
	}
	f, err := os.Create(copyPath)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()       //nolint:errcheck // an early return already has an error; the last one closes below
	w := csv.NewWriter(f) // it buffers
	withExt := 0
	out := make([]string, len(cols))
	out[0] = firm.String()
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, 0, err
		}
		for j, i := range idx {
			out[j+1] = rec[i]
		}
		if caseType >= 0 {
			id, ok := types[strings.ToLower(rec[caseType])]
			if !ok {
				return nil, 0, fmt.Errorf("unknown case type %q", rec[caseType])
			}
			out[1+caseType] = id
		}
		if ext >= 0 && rec[ext] != "" {
			withExt++
		}
		if err := w.Write(out); err != nil {
			return nil, 0, err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, 0, err
	}
	return cols, withExt, f.Close()
}
