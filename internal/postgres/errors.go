package postgres

import (
	"context"
	"errors"
	"net"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/casexchange/server/internal/apperr"
)

// SQLSTATE codes this package acts on.
const (
	codeUniqueViolation      = "23505"
	codeForeignKeyViolation  = "23503"
	codeCheckViolation       = "23514"
	codeNotNullViolation     = "23502"
	codeInvalidTextRepr      = "22P02"
	codeStringTooLong        = "22001"
	codeNumericOutOfRange    = "22003"
	codeInvalidDatetime      = "22007"
	codeDatetimeOverflow     = "22008"
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
	codeTooManyConnections   = "53300"
	codeAdminShutdown        = "57P01"
	codeCrashShutdown        = "57P02"
	codeCannotConnectNow     = "57P03"
)

// InterpretError maps a database error to an apperr kind, keeping err as the Cause so that
// errors.Is/As still see pgx.ErrNoRows or the *pgconn.PgError:
//
//   - pgx.ErrNoRows: apperr.ErrNotFound.
//   - 23505 unique violation, and 40001/40P01 (when retries are exhausted): apperr.ErrConflict.
//   - 23503, 23514, 23502, 22P02, 22001, 22003, 22007, 22008 (bad input that reached the
//     database): apperr.ErrValidation.
//   - failures to reach the server (connect errors, errors pgconn marks safe to retry, lost
//     connections, class 08, 53300, 57P01-57P03): apperr.ErrUnavailable.
//
// nil, *apperr.Error values and anything else are returned unchanged. Public messages are
// generic: constraint and column names stay in the Cause, for the log.
func InterpretError(err error) error {
	if err == nil {
		return nil
	}
	var appErr *apperr.Error
	if errors.As(err, &appErr) {
		return err
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return &apperr.Error{Kind: apperr.ErrNotFound, Message: "Resource not found", Cause: err}
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return interpretPgError(pgErr, err)
	}
	if isConnectionError(err) {
		return unavailable(err)
	}
	return err
}

func interpretPgError(pgErr *pgconn.PgError, err error) error {
	validation := func(msg string) error {
		return &apperr.Error{Kind: apperr.ErrValidation, Message: msg, Cause: err}
	}
	switch code := pgErr.Code; {
	case code == codeUniqueViolation:
		return &apperr.Error{Kind: apperr.ErrConflict, Message: "A resource with the same unique value already exists", Cause: err}
	case code == codeSerializationFailure || code == codeDeadlockDetected:
		return &apperr.Error{Kind: apperr.ErrConflict, Message: "The request conflicted with a concurrent change; retry it", Cause: err}
	case code == codeForeignKeyViolation:
		return validation("A referenced resource does not exist")
	case code == codeCheckViolation || code == codeNotNullViolation:
		return validation("A value is missing or not allowed")
	case code == codeInvalidTextRepr || code == codeInvalidDatetime:
		return validation("A value has an invalid format")
	case code == codeStringTooLong:
		return validation("A value is too long")
	case code == codeNumericOutOfRange || code == codeDatetimeOverflow:
		return validation("A value is out of range")
	case strings.HasPrefix(code, "08"), code == codeTooManyConnections,
		code == codeAdminShutdown, code == codeCrashShutdown, code == codeCannotConnectNow:
		return unavailable(err)
	}
	return err
}

// isConnectionError reports failures to reach or keep a connection, as opposed to errors in
// a statement. A deadline or cancellation while connecting arrives wrapped in a ConnectError.
func isConnectionError(err error) bool {
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) || pgconn.SafeToRetry(err) || errors.Is(err, pgconn.ErrConnClosed) {
		return true
	}
	// A connection lost mid-statement surfaces as a network error (reset, EOF on the socket).
	// The caller's own deadline is not an outage.
	var netErr net.Error
	return errors.As(err, &netErr) && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled)
}

func unavailable(err error) error {
	return &apperr.Error{Kind: apperr.ErrUnavailable, Message: "The database is unavailable; retry later", Cause: err}
}

// isRetryable reports errors after which the whole transaction may be run again.
func isRetryable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == codeSerializationFailure || pgErr.Code == codeDeadlockDetected)
}
