package main

import (
	"bytes"
	"os"
	"testing"
)

// TestMigrationIsUpToDate fails when db/migrations/0002_reference_data.up.sql differs from what
// the generator writes, i.e. someone edited one without the other. Fix: go run ./scripts/gen-refdata
func TestMigrationIsUpToDate(t *testing.T) {
	t.Parallel()
	f, err := os.Open("fips-counties.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close() //nolint:errcheck // read only
	want, err := generate(f)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../" + defaultOut)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is stale: run `go run ./scripts/gen-refdata` from the repository root", defaultOut)
	}
}

func TestShortName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Kings County":            "Kings",
		"Orleans Parish":          "Orleans",
		"Juneau City and Borough": "Juneau",
		"Bethel Census Area":      "Bethel",
		"Richmond city":           "Richmond city",
		"Carson City":             "Carson City",
		"District of Columbia":    "District of Columbia",
		"San Juan Municipio":      "San Juan",
		"St. Croix Island":        "St. Croix",
	} {
		if got := shortName(in); got != want {
			t.Errorf("shortName(%q) = %q, want %q", in, got, want)
		}
	}
}
