package gatewaybench

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"
)

// The benchmark's JWT setup: a fixed HS256 key, issuer and consumer. The key
// protects nothing; it only makes the gateway do a real verification.
const (
	// BenchSecret is the HMAC key, base64 (std) of 32 bytes, as the gateway
	// configuration's jwt_providers[].keys[].secret takes it.
	BenchSecret = "Y2Fpcm4tYmVuY2gtZ2F0ZXdheS1ub3QtYS1zZWNyZXQ="
	// BenchIssuer is the token's iss and the provider's issuer.
	BenchIssuer = "cairn-bench"
	// BenchConsumer is the token's sub and the configured consumer.
	BenchConsumer = "bench-consumer"
)

// SignHS256 returns a compact JWT signed with HS256 under secret (base64,
// std or url alphabet, padded or not) with the claims iss, sub, iat = now and
// exp = now + ttl.
func SignHS256(secret, issuer, subject string, now time.Time, ttl time.Duration) (string, error) {
	key, err := decodeSecret(secret)
	if err != nil {
		return "", err
	}
	header, err := json.Marshal(map[string]string{"alg": "HS256", "typ": "JWT"})
	if err != nil {
		return "", err
	}
	claims, err := json.Marshal(map[string]any{
		"iss": issuer, "sub": subject, "iat": now.Unix(), "exp": now.Add(ttl).Unix(),
	})
	if err != nil {
		return "", err
	}
	b64 := base64.RawURLEncoding
	signing := b64.EncodeToString(header) + "." + b64.EncodeToString(claims)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(signing))
	return signing + "." + b64.EncodeToString(mac.Sum(nil)), nil
}

// decodeSecret accepts the base64 forms the gateway configuration accepts.
func decodeSecret(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) < 32 {
				return nil, fmt.Errorf("gatewaybench: secret: %d bytes, want at least 32", len(b))
			}
			return b, nil
		}
	}
	return nil, fmt.Errorf("gatewaybench: secret: not base64")
}
