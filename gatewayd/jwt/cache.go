package jwt

import (
	"hash/maphash"
	"slices"
	"sync/atomic"
)

// DefaultCacheSize is the number of verified tokens a Verifier remembers.
const DefaultCacheSize = 4096

// maxCachedToken is the longest token the cache keeps: an entry holds the
// token and its decoded claims, so the default cache stays under about
// 4096 × 7 KiB = 28 MiB.
const maxCachedToken = 4 << 10

// tokenCache remembers recently verified tokens so that a client sending
// the same token on every request pays for one signature check. It is a
// direct-mapped table of atomic slots: lookups take no lock, a new entry
// replaces whatever shared its slot, and the size is fixed.
//
// An entry is used only for the exact token string, only while the key set
// that verified it is still installed, and only when the same provider would
// be the first to accept it; the time claims are checked again on every hit.
type tokenCache struct {
	seed  maphash.Seed
	slots []atomic.Pointer[cacheEntry]
	mask  uint64
}

// cacheEntry is one verified token. It is immutable.
type cacheEntry struct {
	token  string
	prov   *provider
	keys   *[]*key // prov's remote key set when verified (nil: static key)
	claims Claims  // complete with Provider and Consumer; it had an exp
}

// newTokenCache returns a cache of at least size slots (a power of two), or
// nil when size < 0.
func newTokenCache(size int) *tokenCache {
	if size < 0 {
		return nil
	}
	if size == 0 {
		size = DefaultCacheSize
	}
	n := 1
	for n < size {
		n <<= 1
	}
	return &tokenCache{seed: maphash.MakeSeed(), slots: make([]atomic.Pointer[cacheEntry], n), mask: uint64(n - 1)}
}

func (c *tokenCache) slot(token string) *atomic.Pointer[cacheEntry] {
	return &c.slots[maphash.String(c.seed, token)&c.mask]
}

// get returns the entry for token, or nil.
func (c *tokenCache) get(token string) *cacheEntry {
	if c == nil {
		return nil
	}
	e := c.slot(token).Load()
	if e == nil || e.token != token {
		return nil
	}
	if e.prov.remote != nil && e.keys != nil && e.prov.remote.keys.Load() != e.keys {
		return nil // the key set changed: verify again
	}
	return e
}

// put remembers a token verified by k of prov, with its complete claims.
// The claims' slices are clipped first (in place, so the caller's copy too)
// so that a caller appending to a returned copy never writes into an array
// another holds.
func (c *tokenCache) put(token string, prov *provider, k *key, cl *Claims) {
	if c == nil || len(token) > maxCachedToken {
		return
	}
	cl.Audience = slices.Clip(cl.Audience)
	cl.Scopes = slices.Clip(cl.Scopes)
	cl.Roles = slices.Clip(cl.Roles)
	cl.Groups = slices.Clip(cl.Groups)
	e := &cacheEntry{token: token, prov: prov, claims: *cl}
	if prov.remote != nil && !slices.Contains(prov.static, k) {
		e.keys = prov.remote.keys.Load()
	}
	c.slot(token).Store(e)
}
