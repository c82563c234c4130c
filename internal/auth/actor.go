package auth

import "github.com/google/uuid"

// Actor is who performs an operation: a firm, through one of its API keys or signed-in users.
// The domains take it as their caller and record it in history rows and webhook envelopes.
type Actor struct {
	FirmID uuid.UUID
	KeyID  *uuid.UUID // API key callers
	UserID *uuid.UUID // signed-in users
	// Source is recorded on status updates and webhook envelopes ("api", "manual", "system",
	// or an integration's name); empty lets the domain pick its default.
	Source string
}
