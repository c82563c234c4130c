package httpapi

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/auth"
)

// fieldTier is an operation's x-access-tier-by-field rule: a request whose body field has one
// of the listed values needs a key of at least that value's tier. The operation's own
// x-access-tier still applies to every request; the rule only raises it.
type fieldTier struct {
	field string               // the body property, by its JSON name
	tiers map[string]auth.Tier // value -> tier it needs
}

// parseFieldTier reads an x-access-tier-by-field extension ({field, tiers: {value: tier}}).
func parseFieldTier(v any) (*fieldTier, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("x-access-tier-by-field: an object is expected")
	}
	field, _ := m["field"].(string)
	tiers, _ := m["tiers"].(map[string]any)
	if field == "" || len(tiers) == 0 {
		return nil, fmt.Errorf("x-access-tier-by-field: field and tiers are required")
	}
	out := &fieldTier{field: field, tiers: map[string]auth.Tier{}}
	for val, t := range tiers {
		s, _ := t.(string)
		tier := auth.ParseTier(s)
		if tier == "" {
			return nil, fmt.Errorf("x-access-tier-by-field: %s: unknown tier %q", val, s)
		}
		out.tiers[val] = tier
	}
	return out, nil
}

// fieldTierMiddleware enforces the x-access-tier-by-field rules of the spec on the decoded
// request object, after validation and before the handler. Only API keys have tiers; a
// signed-in user is judged by the operation's own rules.
func (s *Server) fieldTierMiddleware(f api.StrictHandlerFunc, operationID string) api.StrictHandlerFunc {
	rule := s.fieldTiers[operationID]
	if rule == nil {
		return f
	}
	return func(c echo.Context, request any) (any, error) {
		p := PrincipalFrom(c.Request().Context())
		if p != nil && p.KeyID != uuid.Nil {
			if val, ok := bodyField(request, rule.field); ok {
				if need, ok := rule.tiers[val]; ok && !p.Tier.Allows(need) {
					return nil, apperr.New(apperr.ErrInsufficientTier, "insufficient_tier",
						fmt.Sprintf("Setting %s to %s requires a %s key; this key is %s", rule.field, val, need.Label(), p.Tier.Label()))
				}
			}
		}
		return f(c, request)
	}
}

// bodyField returns the string value of the request object's body property named by its JSON
// name, and whether the body has it set.
func bodyField(request any, name string) (string, bool) {
	rv := reflect.ValueOf(request)
	if rv.Kind() != reflect.Struct {
		return "", false
	}
	body := rv.FieldByName("Body")
	if !body.IsValid() || body.Kind() != reflect.Pointer || body.IsNil() {
		return "", false
	}
	b := body.Elem()
	if b.Kind() != reflect.Struct {
		return "", false
	}
	for i := range b.NumField() {
		tag, _, _ := strings.Cut(b.Type().Field(i).Tag.Get("json"), ",")
		if tag != name {
			continue
		}
		v := b.Field(i)
		for v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return "", false
			}
			v = v.Elem()
		}
		if v.Kind() != reflect.String {
			return "", false
		}
		return v.String(), true
	}
	return "", false
}
