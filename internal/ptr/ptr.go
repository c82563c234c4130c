// Package ptr holds the two pointer helpers the domains share for optional fields.
package ptr

import "strings"

// To returns a pointer to a copy of v, for optional fields set from a literal.
func To[T any](v T) *T { return &v }

// Trim returns s without surrounding white space, or nil when s is nil or blank: an optional
// text field sent blank is stored as absent.
func Trim(s *string) *string {
	if s == nil {
		return nil
	}
	v := strings.TrimSpace(*s)
	if v == "" {
		return nil
	}
	return &v
}
