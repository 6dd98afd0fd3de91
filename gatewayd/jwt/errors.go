package jwt

import "errors"

// Sentinel errors. Verify's errors match exactly one of the first ten with
// errors.Is (the wrapped text may add detail for logs, never for clients: use
// Description for those).
var (
	// ErrMalformed: not a well-formed compact JWS (size, parts, base64url,
	// JSON, duplicate members, crit, typ, claim types).
	ErrMalformed = errors.New("jwt: malformed token")
	// ErrAlgorithm: alg is "none", unsupported, or not allowed by the provider.
	ErrAlgorithm = errors.New("jwt: algorithm not allowed")
	// ErrUnknownKey: no key of the provider matches the token's kid and alg.
	ErrUnknownKey = errors.New("jwt: unknown signing key")
	// ErrSignature: no candidate key verifies the signature.
	ErrSignature = errors.New("jwt: invalid signature")
	// ErrExpired: exp is past, beyond the leeway.
	ErrExpired = errors.New("jwt: token expired")
	// ErrNotYetValid: nbf or iat is in the future, beyond the leeway.
	ErrNotYetValid = errors.New("jwt: token not yet valid")
	// ErrIssuer: iss matches none of the providers Verify was given.
	ErrIssuer = errors.New("jwt: unknown issuer")
	// ErrAudience: the provider has audiences and aud holds none of them.
	ErrAudience = errors.New("jwt: audience not accepted")
	// ErrMissingClaim: a required claim (exp, iss, the consumer claim) is absent.
	ErrMissingClaim = errors.New("jwt: missing claim")
	// ErrLifetime: exp-iat exceeds the provider's max_lifetime.
	ErrLifetime = errors.New("jwt: token lifetime too long")

	// ErrConfig is returned by NewVerifier for a provider it cannot use.
	ErrConfig = errors.New("jwt: invalid provider")
	// ErrKey is returned for a key that cannot be parsed or used (a file, a
	// PEM block, a JWK, a secret, or a key of the wrong type for Sign).
	ErrKey = errors.New("jwt: invalid key")
	// ErrClosed is returned by Verify after Close.
	ErrClosed = errors.New("jwt: verifier closed")
)

// Description returns a short text about err that is safe to send to the
// client in `WWW-Authenticate: Bearer error="invalid_token",
// error_description="..."`: it names the rule the token broke, never a key, a
// claim value or an internal detail. It returns "invalid token" for errors it
// does not know.
func Description(err error) string {
	switch {
	case errors.Is(err, ErrMalformed):
		return "malformed token"
	case errors.Is(err, ErrAlgorithm):
		return "signing algorithm not accepted"
	case errors.Is(err, ErrUnknownKey):
		return "unknown signing key"
	case errors.Is(err, ErrSignature):
		return "invalid signature"
	case errors.Is(err, ErrExpired):
		return "token expired"
	case errors.Is(err, ErrNotYetValid):
		return "token not yet valid"
	case errors.Is(err, ErrIssuer):
		return "issuer not accepted"
	case errors.Is(err, ErrAudience):
		return "audience not accepted"
	case errors.Is(err, ErrMissingClaim):
		return "required claim missing"
	case errors.Is(err, ErrLifetime):
		return "token lifetime too long"
	}
	return "invalid token"
}
