package idempotency

import "github.com/casexchange/server/gen/db"

func responseFromRow(r db.IdempotencyKey) *Response {
	out := &Response{Body: orEmpty(r.Body)}
	if r.StatusCode != nil {
		out.Status = int(*r.StatusCode)
	}
	if r.ContentType != nil {
		out.ContentType = *r.ContentType
	}
	if r.Location != nil {
		out.Location = *r.Location
	}
	return out
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// orEmpty keeps an empty body non-NULL (the table requires a body once done).
func orEmpty(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
