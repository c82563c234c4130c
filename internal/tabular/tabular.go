// Package tabular writes the server's spreadsheet files: every CSV and XLSX the server produces
// (case export, analytics exports, the import template) goes through its writers, so that one
// rule keeps user text from running as a spreadsheet formula.
//
// The rule (OWASP's advice on CSV injection): a text cell that starts with '=', '+', '-', '@',
// a tab or a carriage return is written with a single quote in front, which spreadsheet programs
// read as "this is text". It applies to text cells only, whatever the text looks like: a title
// "-5" is written as "'-5". Numbers, booleans and dates are typed cells (Number, Int, Bool,
// Month), written as values and never prefixed, so a negative figure stays a number a
// spreadsheet can add up.
package tabular

import (
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
