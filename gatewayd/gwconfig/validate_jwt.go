package gwconfig

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net/url"
	"slices"
	"strings"
	"time"

	"cairn.dev/cairn/node/yamldoc"
)

// Algorithms lists the JWT algorithms a provider may allow.
var (
	HMACAlgorithms      = []string{"HS256", "HS384", "HS512"}
	PublicKeyAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)

// MinSecretBytes is the shortest HMAC secret a key may hold, decoded.
const MinSecretBytes = 32

// MinJWKSRefresh is the shortest jwks_refresh.
const MinJWKSRefresh = 10 * time.Second

func (c *checker) provider(path string, p *JWTProvider) {
	if p.Issuer == "" {
		c.add(yamldoc.FieldPath(path, "issuer"), "is required")
	} else if !isHeaderValue(p.Issuer) || len(p.Issuer) > 1024 {
		c.add(yamldoc.FieldPath(path, "issuer"), "must be printable and at most 1024 bytes")
	}
	c.labels(yamldoc.FieldPath(path, "audiences"), p.Audiences, "audience")

	ap := yamldoc.FieldPath(path, "algorithms")
	var hmac, public bool
	if len(p.Algorithms) == 0 {
		c.add(ap, "is required (an allowlist, e.g. [RS256])")
	}
	seen := map[string]bool{}
	for i, a := range p.Algorithms {
		switch {
		case strings.EqualFold(a, "none"):
			c.add(yamldoc.IndexPath(ap, i), "\"none\" is refused: tokens must be signed")
		case slices.Contains(HMACAlgorithms, a):
			hmac = true
		case slices.Contains(PublicKeyAlgorithms, a):
			public = true
		default:
			c.add(yamldoc.IndexPath(ap, i), "%q is not one of %s", a, joinOr(append(slices.Clone(HMACAlgorithms), PublicKeyAlgorithms...), "or"))
		}
		if seen[a] {
			c.add(yamldoc.IndexPath(ap, i), "%q is listed twice", a)
		}
		seen[a] = true
	}
	if hmac && public {
		c.add(ap, "mixes HMAC (HS*) and public-key algorithms; use two providers")
	}

	kp := yamldoc.FieldPath(path, "keys")
	c.count(kp, len(p.Keys), MaxKeys)
	kids := map[string]int{}
	var secrets, publics int
	for i, k := range p.Keys {
		ip := yamldoc.IndexPath(kp, i)
		c.oneOf(ip, false, "file", k.File != "", "pem", k.PEM != "", "secret", k.Secret != "")
		if k.ID != "" {
			if first, dup := kids[k.ID]; dup {
				c.add(yamldoc.FieldPath(ip, "kid"), "%q is already the kid of keys[%d]", k.ID, first)
			}
			kids[k.ID] = i
		}
		switch {
		case k.Secret != "":
			secrets++
			if n, ok := decodeSecret(k.Secret); !ok {
				c.add(yamldoc.FieldPath(ip, "secret"), "is not base64 (standard or URL alphabet)")
			} else if n < MinSecretBytes {
				c.add(yamldoc.FieldPath(ip, "secret"), "decodes to %d bytes, at least %d are required", n, MinSecretBytes)
			}
		case k.PEM != "":
			publics++
			if msg := checkPEM(k.PEM); msg != "" {
				c.add(yamldoc.FieldPath(ip, "pem"), "%s", msg)
			}
		case k.File != "":
			publics++
		}
	}
	if hmac && !public { // a mix is reported above; its key checks would only add noise
		if publics > 0 {
			c.add(kp, "HMAC algorithms need secret keys; file and pem keys are for public-key algorithms")
		}
		if p.JWKSURL != "" || p.ClusterIssuer {
			c.add(path, "HMAC algorithms take only secret keys, not jwks_url or cluster_issuer")
		}
		if secrets == 0 && publics == 0 {
			c.add(kp, "HMAC algorithms need at least one secret key")
		}
	}
	if public && !hmac {
		if secrets > 0 {
			c.add(kp, "public-key algorithms need public keys (file, pem, jwks_url or cluster_issuer), not secrets")
		}
		if publics == 0 && p.JWKSURL == "" && !p.ClusterIssuer {
			c.add(path, "needs a key source: keys, jwks_url or cluster_issuer")
		}
	}
	if p.JWKSURL != "" {
		u, err := url.Parse(p.JWKSURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			c.add(yamldoc.FieldPath(path, "jwks_url"), "%q is not an http(s) URL", p.JWKSURL)
		}
	}
	if p.JWKSRefresh < MinJWKSRefresh {
		c.add(yamldoc.FieldPath(path, "jwks_refresh"), "must be at least %s, not %s", MinJWKSRefresh, p.JWKSRefresh)
	}
	if p.Leeway < 0 || p.Leeway > MaxLeeway {
		c.add(yamldoc.FieldPath(path, "leeway"), "must be 0s..%s, not %s", MaxLeeway, p.Leeway)
	}
	if p.MaxLifetime < 0 {
		c.add(yamldoc.FieldPath(path, "max_lifetime"), "must not be negative")
	}
	if !isLabel(p.ConsumerClaim) {
		c.add(yamldoc.FieldPath(path, "consumer_claim"), "%q is not a claim name", p.ConsumerClaim)
	}
}

// decodeSecret decodes a base64 secret in any of the four alphabets and
// paddings, returning its length.
func decodeSecret(s string) (int, bool) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return len(b), true
		}
	}
	return 0, false
}

// checkPEM says what is wrong with an inline PEM key, or "".
func checkPEM(s string) string {
	block, rest := pem.Decode([]byte(s))
	if block == nil {
		return "is not PEM"
	}
	if strings.TrimSpace(string(rest)) != "" {
		return "holds more than one PEM block"
	}
	switch block.Type {
	case "PUBLIC KEY":
		if _, err := x509.ParsePKIXPublicKey(block.Bytes); err != nil {
			return "is not a valid public key: " + err.Error()
		}
	case "RSA PUBLIC KEY":
		if _, err := x509.ParsePKCS1PublicKey(block.Bytes); err != nil {
			return "is not a valid RSA public key: " + err.Error()
		}
	case "CERTIFICATE":
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return "is not a valid certificate: " + err.Error()
		}
	default:
		return "is a " + block.Type + " block; want PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE (never a private key)"
	}
	return ""
}
