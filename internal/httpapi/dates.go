package httpapi

import (
	"time"

	openapi_types "github.com/oapi-codegen/runtime/types"
)

// dateOf is the calendar day of an optional spec date as the domains take it (midnight UTC).
func dateOf(d *openapi_types.Date) *time.Time {
	if d == nil {
		return nil
	}
	t := d.Time
	return &t
}

// apiDate is an optional domain day as a spec date.
func apiDate(t *time.Time) *openapi_types.Date {
	if t == nil {
		return nil
	}
	return &openapi_types.Date{Time: *t}
}
