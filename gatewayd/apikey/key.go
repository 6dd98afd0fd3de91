package apikey

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
	"time"
)

// Format constants of a key string.
const (
	// Prefix starts every key, so that secret scanners and people recognize
	// one.
	Prefix      = "cgw_"
	idLen       = 10
	secretBytes = 32
	secretLen   = 43 // base64url of 32 bytes, no padding
	keyLen      = len(Prefix) + idLen + 1 + secretLen
)

var (
	idEncoding     = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)
	secretEncoding = base64.RawURLEncoding.Strict()
)

// Key is a stored API key, without its secret.
type Key struct {
	ID        string
	Consumer  string
	CreatedAt time.Time
	ExpiresAt time.Time // zero: never expires
	hash      [sha256.Size]byte
}

// Expired reports whether k has expired at now.
func (k Key) Expired(now time.Time) bool { return !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt) }

// Generate makes a new key for consumer: its record and the full key string
// to hand to the caller. rnd is crypto/rand.Reader unless a test passes a
// seeded reader.
func Generate(rnd io.Reader, consumer string, now time.Time, ttl time.Duration) (Key, string, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	var buf [secretBytes + 7]byte // 7 bytes for 50 id bits (10 base32 chars use 50 of 56)
	if _, err := io.ReadFull(rnd, buf[:]); err != nil {
		return Key{}, "", fmt.Errorf("apikey: random: %w", err)
	}
	id := idEncoding.EncodeToString(buf[secretBytes:])[:idLen]
	secret := buf[:secretBytes]
	k := Key{ID: id, Consumer: consumer, CreatedAt: now.UTC(), hash: sha256.Sum256(secret)}
	if ttl > 0 {
		k.ExpiresAt = k.CreatedAt.Add(ttl)
	}
	return k, Prefix + id + "_" + secretEncoding.EncodeToString(secret), nil
}

// Parse splits a full key string into its id and the SHA-256 of its secret.
// It fails with ErrMalformed unless s is exactly cgw_<id>_<secret>.
func Parse(s string) (id string, hash [sha256.Size]byte, err error) {
	if len(s) != keyLen || !strings.HasPrefix(s, Prefix) || s[len(Prefix)+idLen] != '_' {
		return "", hash, ErrMalformed
	}
	id = s[len(Prefix) : len(Prefix)+idLen]
	if !ValidID(id) {
		return "", hash, ErrMalformed
	}
	enc := s[len(Prefix)+idLen+1:]
	for i := 0; i < len(enc); i++ {
		// base64 decoders skip newlines: allow only the alphabet.
		c := enc[i]
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '-' && c != '_' {
			return "", hash, ErrMalformed
		}
	}
	var secret [secretBytes + 1]byte
	n, err := secretEncoding.Decode(secret[:], []byte(enc))
	if err != nil || n != secretBytes {
		return "", hash, ErrMalformed
	}
	return id, sha256.Sum256(secret[:n]), nil
}

// ValidID reports whether id has the form of a key id.
func ValidID(id string) bool {
	if len(id) != idLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if (c < 'a' || c > 'z') && (c < '2' || c > '7') {
			return false
		}
	}
	return true
}
