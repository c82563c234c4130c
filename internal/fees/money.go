package fees

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Money is kept in integer cents and percentages in integer hundredths of a percent (basis
// points), so no amount is ever a binary fraction. Amounts travel over the API as decimal strings
// with at most two decimals ("1234.56").

// MaxCents bounds every amount the fee API accepts: 999,999,999,999.99 (twelve integer digits).
const MaxCents int64 = 99_999_999_999_999

// ParseAmount reads a decimal string with at most two decimals into cents. It refuses signs,
// exponents, more than two decimals and amounts above MaxCents.
func ParseAmount(s string) (int64, error) {
	intPart, frac, hasDot := strings.Cut(s, ".")
	if intPart == "" || len(intPart) > 12 || !digits(intPart) || (hasDot && (len(frac) < 1 || len(frac) > 2 || !digits(frac))) {
		return 0, fmt.Errorf("must be a decimal amount such as 1234.56 (at most 12 digits before the point and 2 after)")
	}
	for len(frac) < 2 {
		frac += "0"
	}
	n, err := strconv.ParseInt(intPart+frac, 10, 64)
	if err != nil || n > MaxCents {
		return 0, fmt.Errorf("must be at most 999999999999.99")
	}
	return n, nil
}

func digits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// FormatCents writes cents as a decimal string with exactly two decimals.
func FormatCents(c int64) string {
	sign := ""
	if c < 0 {
		sign, c = "-", -c
	}
	return fmt.Sprintf("%s%d.%02d", sign, c/100, c%100)
}

// CentsOfFloat converts an amount the referral stores as a float (attorneyFees) to cents. It
// reads the float's shortest decimal form, so 1234.565 is the decimal 1234.565, and rounds it
// half-up to the cent: 1234.57.
func CentsOfFloat(f float64) (int64, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > float64(MaxCents)/100 {
		return 0, fmt.Errorf("amount %v out of range", f)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	intPart, frac, _ := strings.Cut(s, ".")
	for len(frac) < 3 {
		frac += "0"
	}
	n, err := strconv.ParseInt(intPart+frac[:2], 10, 64)
	if err != nil {
		return 0, err
	}
	if frac[2] >= '5' {
		n++
	}
	return n, nil
}

// BasisPoints converts a percentage given over the API (0 to 100, at most two decimals) to
// hundredths of a percent.
func BasisPoints(p float64) (int64, error) {
	if math.IsNaN(p) || p < 0 || p > 100 {
		return 0, fmt.Errorf("must be between 0 and 100")
	}
	bp := math.Round(p * 100)
	if math.Abs(p*100-bp) > 1e-6 {
		return 0, fmt.Errorf("must have at most two decimals")
	}
	return int64(bp), nil
}

// Allocate divides total cents in proportion to weights, exactly: each share is first rounded
// down to the cent, then the cents left over go one each to the shares with the largest
// remainders (ties to the earlier share). The shares always add up to total. For two shares
// this is the same as rounding the first share half-up.
func Allocate(total int64, weights []int64) []int64 {
	out := make([]int64, len(weights))
	var sum int64
	for _, w := range weights {
		sum += w
	}
	if sum <= 0 || total <= 0 {
		return out
	}
	rem := make([]int64, len(weights))
	left := total
	for i, w := range weights {
		// total <= MaxCents (~1e14) and w <= sum; split to avoid overflowing int64.
		q, r := mulDiv(total, w, sum)
		out[i], rem[i] = q, r
		left -= q
	}
	for ; left > 0; left-- {
		best := -1
		for i := range rem {
			if rem[i] >= 0 && (best < 0 || rem[i] > rem[best]) {
				best = i
			}
		}
		out[best]++
		rem[best] = -1 // each share gets at most one extra cent
	}
	return out
}

// mulDiv returns a*b/c and a*b%c for non-negative a, b and positive c, without overflow for the
// ranges used here (a <= MaxCents, b <= c <= 2^31).
func mulDiv(a, b, c int64) (int64, int64) {
	q1, r1 := a/c, a%c
	// a*b/c = q1*b + r1*b/c, with r1*b < c*b <= 2^62.
	p := r1 * b
	return q1*b + p/c, p % c
}
