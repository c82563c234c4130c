package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/casexchange/server/gen/db"
	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/postgres"
)

// Salesforce integration tokens let the CaseXchange package of a firm's Salesforce organisation
// call the Public API for the firm. They are API keys of their own kind (api_keys.kind =
// 'salesforce', secret "cxsf_..."): AuthenticateKey accepts them with SalesforceTokenTier, the
// key cache, rate limits and usage counting treat them as keys, and they count towards the
// firm's cap of active keys. They are listed and managed apart from the Public API keys and
// rotate in place: the id stays, the secret changes.

// SalesforceToken is a stored Salesforce integration token; the plaintext is never kept.
type SalesforceToken struct {
	APIKey
	ConnectionID *uuid.UUID
	RotatedAt    *time.Time
}

// CreatedSalesforceToken is a token with its plaintext, shown once (on creation or rotation).
type CreatedSalesforceToken struct {
	SalesforceToken
	Token string
}

// SalesforceTokenInput describes a token to create.
type SalesforceTokenInput struct {
	Name         string
	ConnectionID *uuid.UUID // optional, stored as given
}

func salesforceTokenFromRow(r db.ApiKey) SalesforceToken {
	return SalesforceToken{APIKey: keyFromRow(r), ConnectionID: r.SalesforceConnectionID, RotatedAt: r.RotatedAt}
}

func canManageTokens(p UserPrincipal) error {
	if !p.Role.CanManageFirm() {
		return apperr.Permission("Only firm administrators can manage Salesforce integration tokens")
	}
	return nil
}

// CreateSalesforceToken issues a token for the caller's firm, created by the caller (so it is
// revoked when the caller is deactivated or demoted, like a key).
//
// Errors: ErrPermission unless the caller administers the firm; ErrValidation for a blank or
// long name (field name); ErrConflict (CodeAPIKeyLimitReached) at the firm's cap of active keys.
func (s *Service) CreateSalesforceToken(ctx context.Context, p UserPrincipal, in SalesforceTokenInput) (CreatedSalesforceToken, error) {
	if err := canManageTokens(p); err != nil {
		return CreatedSalesforceToken{}, err
	}
	by := p.UserID
	k, err := s.createKeyOfKind(ctx, p.FirmID, &by, KeyInput{Name: in.Name, Tier: SalesforceTokenTier}, kindSalesforce, in.ConnectionID)
	if err != nil {
		return CreatedSalesforceToken{}, err
	}
	row, err := s.q.ApiKeyGetForFirm(ctx, db.ApiKeyGetForFirmParams{ID: k.ID, FirmID: p.FirmID})
	if err != nil {
		return CreatedSalesforceToken{}, fmt.Errorf("reload token: %w", postgres.InterpretError(err))
	}
	return CreatedSalesforceToken{SalesforceToken: salesforceTokenFromRow(row), Token: k.Key}, nil
}

// SalesforceTokens lists the tokens of the caller's firm, revoked ones included, newest first.
// Errors: ErrPermission unless the caller administers the firm.
func (s *Service) SalesforceTokens(ctx context.Context, p UserPrincipal) ([]SalesforceToken, error) {
	if err := canManageTokens(p); err != nil {
		return nil, err
	}
	rows, err := s.q.ApiKeyListSalesforceByFirm(ctx, p.FirmID)
	if err != nil {
		return nil, fmt.Errorf("list salesforce tokens: %w", postgres.InterpretError(err))
	}
	out := make([]SalesforceToken, 0, len(rows))
	for _, r := range rows {
		out = append(out, salesforceTokenFromRow(r))
	}
	return out, nil
}

// salesforceToken loads a token of firm; any other key, or another firm's, is not found.
func (s *Service) salesforceToken(ctx context.Context, firm, id uuid.UUID) (db.ApiKey, error) {
	row, err := s.q.ApiKeyGetForFirm(ctx, db.ApiKeyGetForFirmParams{ID: id, FirmID: firm})
	if err != nil {
		if err = postgres.InterpretError(err); errors.Is(err, apperr.ErrNotFound) {
			return db.ApiKey{}, apperr.NotFound("Salesforce integration token")
		}
		return db.ApiKey{}, fmt.Errorf("load salesforce token: %w", err)
	}
	if row.Kind != kindSalesforce {
		return db.ApiKey{}, apperr.NotFound("Salesforce integration token")
	}
	return row, nil
}

// RotateSalesforceToken gives a live token of the caller's firm a new secret and returns it,
// once. The old secret is refused by every process when this returns (the key cache is
// notified in the same transaction and the notice awaited, as for a revocation).
//
// Errors: ErrPermission unless the caller administers the firm; ErrNotFound for another
// firm's token or none; ErrConflict for a revoked token.
func (s *Service) RotateSalesforceToken(ctx context.Context, p UserPrincipal, id uuid.UUID) (CreatedSalesforceToken, error) {
	if err := canManageTokens(p); err != nil {
		return CreatedSalesforceToken{}, err
	}
	cur, err := s.salesforceToken(ctx, p.FirmID, id)
	if err != nil {
		return CreatedSalesforceToken{}, err
	}
	if cur.RevokedAt != nil {
		return CreatedSalesforceToken{}, apperr.Conflict("This token is revoked; create a new one")
	}
	plain, err := GenerateSalesforceToken()
	if err != nil {
		return CreatedSalesforceToken{}, err
	}
	var notice *KeyNotice
	row, err := postgres.WithTxV(ctx, s.pool, func(q *db.Queries) (db.ApiKey, error) {
		row, err := q.ApiKeyRotate(ctx, db.ApiKeyRotateParams{ID: id, FirmID: p.FirmID, KeyHash: HashKey(plain), KeyPrefix: DisplayPrefix(plain)})
		if err != nil {
			return row, err
		}
		notice, err = s.NotifyKeysChangedTx(ctx, q, KeyChanged(row.ID))
		return row, err
	})
	if err != nil {
		if err = postgres.InterpretError(err); errors.Is(err, apperr.ErrNotFound) {
			// Revoked between our read and our write.
			return CreatedSalesforceToken{}, apperr.Conflict("This token is revoked; create a new one")
		}
		return CreatedSalesforceToken{}, fmt.Errorf("rotate salesforce token: %w", err)
	}
	notice.Await(ctx)
	return CreatedSalesforceToken{SalesforceToken: salesforceTokenFromRow(row), Token: plain}, nil
}

// RevokeSalesforceToken revokes a token of the caller's firm, effective on every process when
// it returns. Revoking a revoked token succeeds.
// Errors: ErrPermission unless the caller administers the firm; ErrNotFound for another firm's
// token or none.
func (s *Service) RevokeSalesforceToken(ctx context.Context, p UserPrincipal, id uuid.UUID) error {
	if err := canManageTokens(p); err != nil {
		return err
	}
	if _, err := s.salesforceToken(ctx, p.FirmID, id); err != nil {
		return err
	}
	by := p.UserID
	_, err := s.revokeKey(ctx, p.FirmID, id, &by)
	return err
}

// OpenSessionTx signs a user in inside the caller's transaction, as a successful login does
// (last sign-in time, a new session family, tokens), for flows that prove the user by other
// means than a password (a completed invitation). The caller has checked that the user may
// sign in. Errors: ErrNotFound when the user is gone.
func (s *Service) OpenSessionTx(ctx context.Context, q *db.Queries, userID uuid.UUID, ip, userAgent string) (LoginResult, error) {
	row, err := q.UserGetByID(ctx, userID)
	if err != nil {
		return LoginResult{}, postgres.InterpretError(err)
	}
	if err := q.UserTouchLogin(ctx, userID); err != nil {
		return LoginResult{}, fmt.Errorf("touch login: %w", err)
	}
	user := userFromRow(row)
	tokens, err := s.openSessionTx(ctx, q, user, uuid.New(), nil, ip, userAgent)
	if err != nil {
		return LoginResult{}, err
	}
	now := time.Now()
	user.LastLoginAt = &now
	return LoginResult{User: user, Tokens: tokens}, nil
}
