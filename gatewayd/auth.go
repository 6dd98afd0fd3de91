package gatewayd

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"cairn.dev/cairn/gatewayd/apikey"
	"cairn.dev/cairn/gatewayd/gwconfig"
	"cairn.dev/cairn/gatewayd/jwt"
	"cairn.dev/cairn/node/httpproxy"
)

// Headers the gateway sets on proxied requests to say who called; the same
// headers from a client are removed first, so an upstream can trust them.
const (
	headerConsumer = "X-Consumer"
	headerGroups   = "X-Consumer-Groups"
)

// caller is an authenticated request's identity.
type caller struct {
	consumer string
	groups   []string
	scopes   []string
	roles    []string
	via      string // "jwt" or "api_key"
}

// Authentication failures. They become 401 with a WWW-Authenticate
// challenge; the message is safe to show.
var (
	errNoCredentials = errors.New("no credentials: send Authorization: Bearer <token> or an API key")
	errUnknownKey    = errors.New("the API key is not valid")
	errNoConsumer    = errors.New("the token names no known consumer")
)

// authenticate identifies the caller of a request on lr: nil, nil for a
// route without auth (or an anonymous request on an optional one).
func (s *Server) authenticate(rt *runtime, lr *liveRoute, r *http.Request) (*caller, error) {
	a := lr.spec.Auth
	if a == nil {
		return nil, nil
	}
	if a.APIKey {
		if key, ok := apikey.FromRequest(r.Header); ok {
			if s.keys == nil {
				return nil, errUnknownKey
			}
			k, err := s.keys.Lookup(key)
			if err != nil {
				return nil, errUnknownKey
			}
			c := rt.consumers[k.Consumer]
			if c == nil {
				return nil, errUnknownKey
			}
			return &caller{consumer: c.Name, groups: c.Groups, scopes: c.Scopes, via: "api_key"}, nil
		}
	}
	if len(a.JWT) > 0 {
		if tok, ok := jwt.BearerToken(r.Header); ok {
			if rt.verifier == nil {
				return nil, jwt.ErrUnknownKey
			}
			cl, err := rt.verifier.Verify(r.Context(), tok, a.JWT)
			if err != nil {
				return nil, err
			}
			c := rt.consumers[cl.Consumer]
			if c == nil {
				return nil, errNoConsumer
			}
			return &caller{
				consumer: c.Name,
				groups:   union(c.Groups, cl.Groups),
				scopes:   union(c.Scopes, cl.Scopes),
				roles:    cl.Roles,
				via:      "jwt",
			}, nil
		}
	}
	if a.Optional {
		return nil, nil
	}
	return nil, errNoCredentials
}

// challenge answers 401 with the WWW-Authenticate header of RFC 6750 (and
// the ApiKey scheme when the route takes keys).
func (s *Server) challenge(w http.ResponseWriter, r *http.Request, lr *liveRoute, err error) {
	realm := `realm="cairn-gateway"`
	var schemes []string
	if a := lr.spec.Auth; a != nil && len(a.JWT) > 0 {
		if errors.Is(err, errNoCredentials) {
			schemes = append(schemes, "Bearer "+realm)
		} else {
			desc := err.Error()
			if !errors.Is(err, errNoConsumer) {
				desc = jwt.Description(err)
			}
			schemes = append(schemes, fmt.Sprintf(`Bearer %s, error="invalid_token", error_description=%q`, realm, desc))
		}
	}
	if a := lr.spec.Auth; a != nil && a.APIKey {
		schemes = append(schemes, "ApiKey "+realm)
	}
	for _, sc := range schemes {
		w.Header().Add("WWW-Authenticate", sc)
	}
	msg := err.Error()
	if !errors.Is(err, errNoCredentials) && !errors.Is(err, errUnknownKey) && !errors.Is(err, errNoConsumer) {
		msg = "invalid token: " + jwt.Description(err)
	}
	httpproxy.WriteError(w, r, http.StatusUnauthorized, "unauthorized", msg)
}

// authorize checks an authenticated caller against the route's
// requirements: every scope, one of the roles, one of the groups.
func authorize(a *gwconfig.Authorize, c *caller) error {
	if a == nil {
		return nil
	}
	if c == nil {
		return errors.New("the route needs an authenticated caller")
	}
	for _, sc := range a.Scopes {
		if !slices.Contains(c.scopes, sc) {
			return fmt.Errorf("missing scope %q", sc)
		}
	}
	if len(a.Roles) > 0 && !slices.ContainsFunc(a.Roles, func(r string) bool { return slices.Contains(c.roles, r) }) {
		return fmt.Errorf("needs one of the roles %s", strings.Join(a.Roles, ", "))
	}
	if len(a.Groups) > 0 && !slices.ContainsFunc(a.Groups, func(g string) bool { return slices.Contains(c.groups, g) }) {
		return fmt.Errorf("needs one of the groups %s", strings.Join(a.Groups, ", "))
	}
	return nil
}

// stripIdentity removes identity headers a client may have forged.
func stripIdentity(h http.Header) {
	h.Del(headerConsumer)
	h.Del(headerGroups)
}

// union returns a ∪ b, a's order first.
func union(a, b []string) []string {
	if len(b) == 0 {
		return a
	}
	out := slices.Clone(a)
	for _, x := range b {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}
