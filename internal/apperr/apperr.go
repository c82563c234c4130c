// Package apperr defines the error kinds shared by the domain packages. The HTTP layer maps each
// kind to one status and one default code; domain code adds a specific code and public message
// where the contract names one.
package apperr

import (
	"errors"
	"fmt"
)

// Kinds. Match them with errors.Is; an *Error matches its Kind.
var (
	ErrNotFound          = errors.New("not found")
	ErrValidation        = errors.New("validation failed")
	ErrInvalidTransition = errors.New("invalid state transition")
	ErrPermission        = errors.New("permission denied")
	ErrInsufficientTier  = errors.New("insufficient tier")
	ErrConflict          = errors.New("conflict")
	ErrUnauthenticated   = errors.New("unauthenticated")
	ErrRateLimited       = errors.New("rate limited")
	ErrNotImplemented    = errors.New("not implemented")
	ErrUnavailable       = errors.New("service unavailable")
	ErrTooLarge          = errors.New("payload too large")
)

// FieldError names one invalid input and what is wrong with it.
type FieldError struct {
	Field   string
	Message string
}

// Error is an error with public text: Code and Message are safe to show to the caller.
type Error struct {
	Kind    error
	Code    string // specific code; empty means the default code of Kind
	Message string
	Details []FieldError
	Cause   error // internal cause, logged but never shown
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Kind, e.Message, e.Cause)
	}
	return fmt.Sprintf("%s: %s", e.Kind, e.Message)
}

// Is reports whether target is the error's Kind.
func (e *Error) Is(target error) bool { return e.Kind == target }

// Unwrap returns the internal cause.
func (e *Error) Unwrap() error { return e.Cause }

// New returns an *Error of kind with a specific code (may be empty) and a public message.
func New(kind error, code, message string) *Error {
	return &Error{Kind: kind, Code: code, Message: message}
}

// NotFound reports a missing (or invisible) resource, e.g. NotFound("referral").
func NotFound(what string) *Error {
	return &Error{Kind: ErrNotFound, Message: what + " not found"}
}

// Validation reports invalid input, one FieldError per field.
func Validation(message string, details ...FieldError) *Error {
	if message == "" {
		message = "Request validation failed"
	}
	return &Error{Kind: ErrValidation, Message: message, Details: details}
}

// Field reports one invalid field.
func Field(field, message string) *Error {
	return Validation("Request validation failed", FieldError{Field: field, Message: message})
}

// Permission reports an action the caller's firm or role may not take.
func Permission(message string) *Error {
	return &Error{Kind: ErrPermission, Message: message}
}

// Conflict reports a duplicate or a lost race.
func Conflict(message string) *Error {
	return &Error{Kind: ErrConflict, Message: message}
}

// Transition reports an action not allowed from the current status.
func Transition(message string) *Error {
	return &Error{Kind: ErrInvalidTransition, Message: message}
}

// Unauthenticated reports missing or bad credentials with a specific code.
func Unauthenticated(code, message string) *Error {
	return &Error{Kind: ErrUnauthenticated, Code: code, Message: message}
}

// Unavailable reports a dependency that is down.
func Unavailable(message string, cause error) *Error {
	return &Error{Kind: ErrUnavailable, Message: message, Cause: cause}
}

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
