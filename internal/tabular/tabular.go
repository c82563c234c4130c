// Package tabular writes the server's spreadsheet files: every CSV and XLSX the server produces
// (case export, analytics exports, the import template) goes through its writers, so that one
// rule keeps user text from running as a spreadsheet formula.
//
// The rule (OWASP's advice on CSV injection): a text cell that starts with '=', '+', '-', '@',
// a tab or a carriage return is written with a single quote in front, which spreadsheet programs
// read as "this is text". It applies to text cells only, whatever the text looks like: a title
// "-5" is written as "'-5". Numbers, booleans and dates are typed cells (Number, Int, Bool,
// Month), written as values and never prefixed, so a negative figure stays a number a
// spreadsheet can add up. Money (Cents) is whole cents written with exactly two decimals, so an
// amount reads the same in the file as in the JSON of the API.
package tabular

import (
	"strconv"
	"time"
)

// Neutralize returns s as a spreadsheet program should read it: as text. Text starting with a
// character that starts a formula ('=', '+', '-', '@') or with a tab or carriage return (which
// some programs skip before looking for one) gets a single quote in front.
func Neutralize(s string) string {
	if s != "" {
		switch s[0] {
		case '=', '+', '-', '@', '\t', '\r':
			return "'" + s
		}
	}
	return s
}

type kind uint8

const (
	kindEmpty kind = iota
	kindText
	kindNumber
	kindInt
	kindBool
	kindMonth
	kindCents
	kindDate
)

// Cell is one cell of a row. The zero Cell is empty.
type Cell struct {
	kind kind
	text string
	num  float64
	n    int64
	flag bool
	at   time.Time
}

// Text is a text cell; writers neutralize it.
func Text(s string) Cell { return Cell{kind: kindText, text: s} }

// TextPtr is a text cell, or an empty one for nil.
func TextPtr(s *string) Cell {
	if s == nil {
		return Cell{}
	}
	return Text(*s)
}

// Number is a numeric cell.
func Number(v float64) Cell { return Cell{kind: kindNumber, num: v} }

// Int is a whole-number cell.
func Int(v int64) Cell { return Cell{kind: kindInt, n: v} }

// IntPtr is a whole-number cell, or an empty one for nil.
func IntPtr(v *int) Cell {
	if v == nil {
		return Cell{}
	}
	return Int(int64(*v))
}

// Bool is a true/false cell.
func Bool(v bool) Cell { return Cell{kind: kindBool, flag: v} }

// Month is a calendar month (the day of t is ignored): a date cell shown as yyyy-mm in XLSX,
// the first day as YYYY-MM-DD in CSV.
func Month(t time.Time) Cell {
	return Cell{kind: kindMonth, at: time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)}
}

// Cents is an amount of money in whole cents: a number with two decimals ("1234.50" in CSV; a
// number cell shown as 0.00 in XLSX). For amounts below 2^53 cents the XLSX value, cents/100 as a
// float64 written in its shortest form, is the same decimal.
func Cents(c int64) Cell { return Cell{kind: kindCents, n: c} }

// CentsPtr is a money cell, or an empty one for nil.
func CentsPtr(c *int64) Cell {
	if c == nil {
		return Cell{}
	}
	return Cents(*c)
}

// Date is a calendar day (the time of t is ignored): YYYY-MM-DD in CSV, a date cell shown as
// yyyy-mm-dd in XLSX.
func Date(t time.Time) Cell {
	return Cell{kind: kindDate, at: time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)}
}

// DatePtr is a date cell, or an empty one for nil.
func DatePtr(t *time.Time) Cell {
	if t == nil {
		return Cell{}
	}
	return Date(*t)
}

// FormatCents writes cents as a decimal with exactly two decimals ("-12.05").
func FormatCents(c int64) string {
	sign := ""
	u := uint64(c)
	if c < 0 {
		sign, u = "-", uint64(-c)
	}
	frac := strconv.FormatUint(u%100, 10)
	if len(frac) < 2 {
		frac = "0" + frac
	}
	return sign + strconv.FormatUint(u/100, 10) + "." + frac
}

// Empty is an empty cell.
func Empty() Cell { return Cell{} }

// Texts turns strings into text cells (a header row).
func Texts(ss []string) []Cell {
	out := make([]Cell, len(ss))
	for i, s := range ss {
		out[i] = Text(s)
	}
	return out
}
