package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"sync"
)

// hmacSHA256 returns HMAC-SHA256(key, data).
func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

// deriveKey returns the signing key of a secret for one day, region and
// service: HMAC("AWS4"+secret, date) → region → service → "aws4_request".
func deriveKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, scopeTerminator)
}

// keyCacheSize bounds the keys a Verifier keeps. A key is good for one day,
// so a cache holds about one key per access key and region in use; when it
// fills up it is emptied and refilled.
const keyCacheSize = 1024

// keyCacheID names a cached signing key.
type keyCacheID struct {
	secret, date, region, service string
}

// keyCache caches signing keys, so that each request costs one HMAC for its
// signature instead of five. It is safe for concurrent use.
type keyCache struct {
	mu   sync.Mutex // protects keys
	keys map[keyCacheID][]byte
}

// get returns the signing key of (secret, date, region, service), derived
// once and then cached. Callers must not modify the returned slice.
func (c *keyCache) get(secret, date, region, service string) []byte {
	id := keyCacheID{secret, date, region, service}
	c.mu.Lock()
	k, ok := c.keys[id]
	c.mu.Unlock()
	if ok {
		return k
	}
	k = deriveKey(secret, date, region, service)
	c.mu.Lock()
	if c.keys == nil || len(c.keys) >= keyCacheSize {
		c.keys = make(map[keyCacheID][]byte)
	}
	c.keys[id] = k
	c.mu.Unlock()
	return k
}

// len returns how many keys are cached (for tests).
func (c *keyCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.keys)
}
