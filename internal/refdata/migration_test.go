package refdata

import (
	"bufio"
	"fmt"
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/db"
)

// These tests read the seed rows straight from the migration file, so they run without a database.

var insertRe = regexp.MustCompile(`^INSERT INTO (\w+) \(([^)]*)\) VALUES$`)

// seedRows parses the multi-row INSERTs of migration 0002 into table -> rows of column -> value.
// NULL becomes the empty string.
func seedRows(t *testing.T) map[string][]map[string]string {
	t.Helper()
	b, err := fs.ReadFile(db.Migrations, "migrations/0002_reference_data.up.sql")
	require.NoError(t, err)

	out := map[string][]map[string]string{}
	var table string
	var cols []string
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := insertRe.FindStringSubmatch(line); m != nil {
			table, cols = m[1], strings.Split(m[2], ", ")
			continue
		}
		if table == "" || !strings.HasPrefix(line, "    (") {
			table = ""
			continue
		}
		vals, err := parseTuple(strings.TrimSpace(line))
		require.NoError(t, err, line)
		require.Len(t, vals, len(cols), line)
		row := map[string]string{}
		for i, c := range cols {
			row[c] = vals[i]
		}
		out[table] = append(out[table], row)
		if strings.HasSuffix(line, ";") {
			table = ""
		}
	}
	require.NoError(t, sc.Err())
	return out
}

// parseTuple parses one row of a VALUES list, such as ('a', 3, NULL), into its values, undoing
// the doubling of quotes inside strings.
func parseTuple(s string) ([]string, error) {
	s = strings.TrimRight(s, ",;")
	if !strings.HasPrefix(s, "(") || !strings.HasSuffix(s, ")") {
		return nil, fmt.Errorf("not a tuple: %s", s)
	}
	s = s[1 : len(s)-1]
	var vals []string
	for len(s) > 0 {
		if s[0] == '\'' {
			var v strings.Builder
			i := 1
			for {
				if i >= len(s) {
					return nil, fmt.Errorf("unterminated string in %s", s)
				}
				if s[i] == '\'' {
					if i+1 < len(s) && s[i+1] == '\'' {
						v.WriteByte('\'')
						i += 2
						continue
					}
					i++
					break
				}
				v.WriteByte(s[i])
				i++
			}
			vals = append(vals, v.String())
			s = s[i:]
		} else {
			end := strings.Index(s, ",")
			if end < 0 {
				end = len(s)
			}
			v := strings.TrimSpace(s[:end])
			if v == "NULL" {
				v = ""
			}
			vals = append(vals, v)
			s = s[end:]
		}
		s = strings.TrimPrefix(strings.TrimPrefix(s, ","), " ")
	}
	return vals, nil
}

func TestSeedData(t *testing.T) {
	t.Parallel()
	seeds := seedRows(t)

	t.Run("JurisdictionsCoverStatesDCAndTerritories", func(t *testing.T) {
		t.Parallel()
		js := seeds["jurisdictions"]
		require.GreaterOrEqual(t, len(js), 56)
		kinds := map[string]int{}
		codes := map[string]bool{}
		for _, j := range js {
			require.Regexp(t, `^[A-Z]{2}$`, j["code"])
			require.False(t, codes[j["code"]], "duplicate code %s", j["code"])
			codes[j["code"]] = true
			kinds[j["kind"]]++
		}
		require.Equal(t, 50, kinds["state"])
		require.Equal(t, 1, kinds["district"])
		for _, c := range []string{"DC", "PR", "GU", "VI", "AS", "MP", "CA", "NY"} {
			require.True(t, codes[c], "missing %s", c)
		}
	})

	t.Run("CountiesAreCompleteAndConsistent", func(t *testing.T) {
		t.Parallel()
		jfips := map[string]string{}
		for _, j := range seeds["jurisdictions"] {
			jfips[j["code"]] = j["fips_code"]
		}
		cs := seeds["counties"]
		require.GreaterOrEqual(t, len(cs), 3200)
		fips := map[string]bool{}
		ids := map[string]bool{}
		perState := map[string]int{}
		for _, c := range cs {
			code := c["jurisdiction_code"]
			st, ok := jfips[code]
			require.True(t, ok, "county %s has unknown jurisdiction %s", c["name"], code)
			require.Regexp(t, `^[0-9]{5}$`, c["fips_code"])
			require.True(t, strings.HasPrefix(c["fips_code"], st), "county %s FIPS %s outside %s", c["name"], c["fips_code"], code)
			require.False(t, fips[c["fips_code"]], "duplicate FIPS %s", c["fips_code"])
			require.False(t, ids[c["id"]], "duplicate id %s", c["id"])
			fips[c["fips_code"]] = true
			ids[c["id"]] = true
			perState[code]++
		}
		for code := range jfips {
			require.Positive(t, perState[code], "jurisdiction %s has no county", code)
		}
		require.Equal(t, 254, perState["TX"])
		require.Equal(t, 62, perState["NY"])
		t.Logf("%d jurisdictions, %d counties", len(jfips), len(cs))
	})

	t.Run("CaseTypesIncludeTheDocumentedOnes", func(t *testing.T) {
		t.Parallel()
		names := map[string]string{}
		for _, ct := range seeds["case_types"] {
			names[ct["name"]] = ct["id"]
		}
		for _, n := range []string{"personal_injury", "medical_malpractice", "workers_compensation", "mass_tort",
			"premises_liability", "product_liability", "nursing_home_abuse", "wrongful_death"} {
			require.Contains(t, names, n)
		}
		require.Equal(t, PersonalInjuryID.String(), names["personal_injury"])
		require.Equal(t, MedicalMalpracticeID.String(), names["medical_malpractice"])
		require.Equal(t, WorkersCompensationID.String(), names["workers_compensation"])
		require.Equal(t, MassTortID.String(), names["mass_tort"])

		ctIDs := map[string]bool{}
		for _, id := range names {
			ctIDs[id] = true
		}
		for _, f := range seeds["case_type_fields"] {
			require.True(t, ctIDs[f["case_type_id"]], "field %s has unknown case type", f["name"])
			require.Equal(t, f["field_type"] == FieldEnum, f["enum_options"] != "", "field %s", f["name"])
		}
	})
}

func TestNormalizeCodes(t *testing.T) {
	t.Parallel()
	require.Nil(t, normalizeCodes(nil))
	require.Nil(t, normalizeCodes(SplitCodes("")))
	require.Nil(t, normalizeCodes([]string{" ", ""}))
	require.Equal(t, []string{"NY", "NJ"}, normalizeCodes(SplitCodes("ny, NJ,,NY")))
}

func TestEscapeLike(t *testing.T) {
	t.Parallel()
	require.Equal(t, `st\_ 100\% a\\b`, escapeLike(`st_ 100% a\b`))
}
