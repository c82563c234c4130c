package importer

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"strconv"
)

// GenerateCSV returns a create-mode import file of n valid rows, the same for the same seed:
// reference data present in every database (case types, jurisdictions and counties of the
// seeded reference data), every optional column filled, and an external id (salesforceId,
// unique per file and seed) on every other row, as a CMS export has. Benchmarks use it.
func GenerateCSV(n int, seed int64) []byte {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))
	types := []string{"Personal Injury", "Auto Accident", "Premises Liability", "personal_injury"}
	places := [][2]string{{"WA", "King"}, {"OR", "Multnomah"}, {"CA", "Los Angeles"}, {"WA", ""}}
	first := []string{"Ana", "Ben", "Cy", "Dana", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun"}
	last := []string{"Ruiz", "Ode", "Park", "Fox", "Nguyen", "Smith", "Kowalski", "Haddad", "Okafor", "Berg"}
	var b bytes.Buffer
	b.Grow(n * 260)
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"title", "caseType", "jurisdiction", "county", "clientFirstName", "clientLastName",
		"clientEmail", "clientPhone", "clientDateOfBirth", "incidentDate", "tier", "source", "description",
		"salesforceId", "salesforceObjectType", "isRetainerSigned"})
	rec := make([]string, 16)
	for i := range n {
		p := places[rng.IntN(len(places))]
		fn, ln := first[rng.IntN(len(first))], last[rng.IntN(len(last))]
		rec[0] = fmt.Sprintf("%s v. %s Holdings #%d", ln, last[rng.IntN(len(last))], i)
		rec[1] = types[rng.IntN(len(types))]
		rec[2], rec[3] = p[0], p[1]
		rec[4], rec[5] = fn, ln
		rec[6] = fmt.Sprintf("%s.%s%d@example.org", fn, ln, i)
		rec[7] = fmt.Sprintf("+1 206 555 %04d", rng.IntN(10000))
		rec[8] = fmt.Sprintf("%d-%02d-%02d", 1950+rng.IntN(55), 1+rng.IntN(12), 1+rng.IntN(28))
		rec[9] = fmt.Sprintf("%d/%d/2025", 1+rng.IntN(12), 1+rng.IntN(28))
		rec[10] = strconv.Itoa(1 + rng.IntN(5))
		rec[11] = "bulk import"
		rec[12] = "Client reports an incident; intake notes to follow."
		rec[13], rec[14], rec[15] = "", "", "no"
		if i%2 == 0 {
			rec[13] = fmt.Sprintf("SF-%d-%08d", seed, i)
			rec[14] = "Lead"
		}
		if rng.IntN(10) == 0 {
			rec[15] = "yes"
		}
		_ = w.Write(rec)
	}
	w.Flush()
	return b.Bytes()
}
