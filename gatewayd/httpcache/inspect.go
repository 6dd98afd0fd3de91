package httpcache

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// VariantInfo describes one stored variant; its fields mirror
// cairn.edge.v1.Variant.
type VariantInfo struct {
	// Vary holds the request header values this variant was stored for.
	Vary   map[string]string
	Status int
	Size   int64
	Age    time.Duration
	// TTL is the freshness lifetime left (negative: stale by that much).
	TTL          time.Duration
	Stored       time.Time
	ETag         string
	LastModified string
	Tags         []string
	Tier         string // "memory" or "disk"
	SoftPurged   bool
	// Headers are the stored response fields (several values joined by ", ").
	Headers map[string]string
}

// Inspect lists the stored variants of key, sorted by their Vary values.
// Reading them counts as an access for the storage's admission policy.
func (c *Cache) Inspect(key string) []VariantInfo {
	now := c.now()
	var out []VariantInfo
	for _, id := range c.idx.idsOfKey(key) {
		b, body, ok := c.store.Get(id)
		if !ok {
			c.idx.remove(id)
			continue
		}
		size, tier := body.Size(), body.Tier()
		body.Close()
		m, err := decodeMeta(b)
		if err != nil {
			continue
		}
		v := VariantInfo{
			Vary: map[string]string{}, Status: m.status, Size: size,
			Age: m.currentAge(now), TTL: -m.staleness(now), Stored: m.stored,
			ETag: m.header.Get("Etag"), LastModified: m.header.Get("Last-Modified"),
			Tags: m.tags, Tier: tier, SoftPurged: m.has(flagSoftPurged),
			Headers: map[string]string{},
		}
		for i, n := range m.varyNames {
			v.Vary[n] = m.varyValues[i]
		}
		for k, vals := range m.header {
			v.Headers[http.CanonicalHeaderKey(k)] = strings.Join(vals, ", ")
		}
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b VariantInfo) int {
		return strings.Compare(varyString(a.Vary), varyString(b.Vary))
	})
	return out
}

func varyString(v map[string]string) string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var sb strings.Builder
	for _, k := range keys {
		sb.WriteString(k + "=" + v[k] + "\n")
	}
	return sb.String()
}
