package jwt

import (
	"fmt"
	"strings"
	"time"
)

// MaxTokenBytes is the longest token Verify reads.
const MaxTokenBytes = 16 << 10

// parsed is a token split and decoded, its signature not yet checked.
type parsed struct {
	alg    *algorithm
	kid    string
	input  []byte // header.payload, the signing input
	sig    []byte
	claims Claims // Provider and Consumer not set yet
	hasExp bool
	hasIss bool
	hasAud bool
}

// b64strict decodes base64url without padding and refuses non-zero trailing
// bits, so that one token has one encoding.
var b64strict = b64.Strict()

// parseToken splits a compact JWS and decodes its header and claims. It
// checks everything that needs no key: size, form, alg (supported, not
// none), crit, typ, and the types of the registered claims.
func parseToken(tok string) (*parsed, error) {
	if len(tok) > MaxTokenBytes {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrMalformed, MaxTokenBytes)
	}
	// Only the base64url alphabet and two dots: base64 decoders skip
	// newlines, and "=" padding is not allowed in JWS.
	dots := [2]int{}
	n := 0
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
		case c == '.':
			if n == 2 {
				return nil, fmt.Errorf("%w: more than 3 parts", ErrMalformed)
			}
			dots[n] = i
			n++
		default:
			return nil, fmt.Errorf("%w: character outside base64url", ErrMalformed)
		}
	}
	if n != 2 {
		return nil, fmt.Errorf("%w: not 3 parts", ErrMalformed)
	}
	hdr, err := b64strict.DecodeString(tok[:dots[0]])
	if err != nil {
		return nil, fmt.Errorf("%w: header: bad base64url", ErrMalformed)
	}
	payload, err := b64strict.DecodeString(tok[dots[0]+1 : dots[1]])
	if err != nil {
		return nil, fmt.Errorf("%w: claims: bad base64url", ErrMalformed)
	}
	sig, err := b64strict.DecodeString(tok[dots[1]+1:])
	if err != nil {
		return nil, fmt.Errorf("%w: signature: bad base64url", ErrMalformed)
	}
	p := &parsed{input: []byte(tok[:dots[1]]), sig: sig}
	if err := p.readHeader(hdr); err != nil {
		return nil, err
	}
	if len(sig) == 0 {
		return nil, fmt.Errorf("%w: no signature", ErrMalformed)
	}
	if err := p.readClaims(payload); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *parsed) readHeader(hdr []byte) error {
	var algName string
	err := eachMember(hdr, func(name, v []byte) error {
		var ok bool
		switch string(name) {
		case "alg":
			algName, ok = jsonString(v)
		case "kid":
			p.kid, ok = jsonString(v)
		case "typ":
			var typ string
			if typ, ok = jsonString(v); ok && !strings.EqualFold(typ, "JWT") && !strings.EqualFold(typ, "at+jwt") {
				return fmt.Errorf("%w: typ %q", ErrMalformed, typ)
			}
		case "crit":
			// No extension is understood, so any critical one is refused
			// (RFC 7515 section 4.1.11); b64=false needs crit too.
			return fmt.Errorf("%w: crit header", ErrMalformed)
		default:
			ok = true // jku, x5u, jwk, x5c...: never used to find keys
		}
		if !ok {
			return fmt.Errorf("%w: header %s has the wrong type", ErrMalformed, name)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if algName == "" {
		return fmt.Errorf("%w: no alg", ErrMalformed)
	}
	if p.alg = algorithms[algName]; p.alg == nil {
		return fmt.Errorf("%w: %q", ErrAlgorithm, algName)
	}
	return nil
}

func (p *parsed) readClaims(payload []byte) error {
	c := &p.claims
	c.Raw = payload
	return eachMember(payload, func(name, v []byte) error {
		ok := true
		switch string(name) {
		case "iss":
			c.Issuer, ok = jsonString(v)
			p.hasIss = ok
		case "sub":
			c.Subject, ok = jsonString(v)
		case "aud":
			c.Audience, ok = jsonStrings(v)
			p.hasAud = ok
		case "exp":
			c.ExpiresAt, ok = jsonTime(v)
			p.hasExp = ok
		case "nbf":
			c.NotBefore, ok = jsonTime(v)
		case "iat":
			c.IssuedAt, ok = jsonTime(v)
		case "scope":
			var s string
			if s, ok = jsonString(v); ok {
				c.Scopes = append(strings.Fields(s), c.Scopes...)
			}
		case "scp":
			var l []string
			if l, ok = jsonStrings(v); ok {
				c.Scopes = append(c.Scopes, l...)
			}
		case "roles":
			c.Roles, ok = jsonStrings(v)
		case "groups":
			c.Groups, ok = jsonStrings(v)
		}
		if !ok {
			return fmt.Errorf("%w: claim %s has the wrong type", ErrMalformed, name)
		}
		return nil
	})
}

// checkTimes applies exp (required), nbf, iat and the lifetime bound at now.
func (p *parsed) checkTimes(now time.Time, leeway, maxLifetime time.Duration) error {
	return p.claims.checkTimes(p.hasExp, now, leeway, maxLifetime)
}

// checkTimes applies exp (required: hasExp says whether the token had one),
// nbf, iat and the lifetime bound at now.
func (c *Claims) checkTimes(hasExp bool, now time.Time, leeway, maxLifetime time.Duration) error {
	if !hasExp {
		return fmt.Errorf("%w: exp", ErrMissingClaim)
	}
	if !now.Before(c.ExpiresAt.Add(leeway)) {
		return ErrExpired
	}
	if !c.NotBefore.IsZero() && now.Add(leeway).Before(c.NotBefore) {
		return fmt.Errorf("%w: nbf", ErrNotYetValid)
	}
	if !c.IssuedAt.IsZero() && now.Add(leeway).Before(c.IssuedAt) {
		return fmt.Errorf("%w: iat", ErrNotYetValid)
	}
	if maxLifetime > 0 {
		from := c.IssuedAt
		if from.IsZero() {
			from = now
		}
		if c.ExpiresAt.Sub(from) > maxLifetime {
			return ErrLifetime
		}
	}
	return nil
}
