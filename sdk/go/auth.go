package casexchange

// The only hand-written file of the package: everything else is generated from the contract
// (casexchange.gen.go, by make sdk). These options add the credentials of each API layer to
// every request a client sends.

import (
	"context"
	"net/http"
)

// WithAPIKey makes every request of the client carry key as X-API-Key, the credential of the
// Public API (/api/public/v1). A key is minted by a firm admin with CreatePublicApiKey, or by an
// operator with `casexchange keys create`.
func WithAPIKey(key string) ClientOption {
	return WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
		req.Header.Set("X-API-Key", key)
		return nil
	})
}

// WithBearerToken makes every request of the client carry token as `Authorization: Bearer`,
// the credential of the Internal API (/api/v1): the accessToken that LoginUser answers.
func WithBearerToken(token string) ClientOption {
	return WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+token)
		return nil
	})
}
