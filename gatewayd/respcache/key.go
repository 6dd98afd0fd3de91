package respcache

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"cairn.dev/cairn/gatewayd/gwconfig"
)

// keyVersion changes whenever the key material changes, so that old
// entries in the shared store are not read as new ones.
const keyVersion = "rc1"

// Key returns the cache key of r on route: the SHA-256, in hex, of the
// route name, the method (HEAD as GET, so they share entries), the host
// (lower case), the escaped path, the query (the parameters spec.KeyQuery
// names, in sorted order with their values in request order; without
// KeyQuery the whole query with its pairs sorted) and the values of the
// request headers spec.KeyHeaders names (in configured order). A nil spec
// keys on the whole query and no headers. The result is 64 bytes whatever
// the request.
func Key(route string, r *http.Request, spec *gwconfig.Cache) string {
	var stack [512]byte
	b := stack[:0]
	b = append(b, keyVersion...)
	b = appendField(b, route)
	method := r.Method
	if method == http.MethodHead || method == "" {
		method = http.MethodGet
	}
	b = appendField(b, method)
	b = append(b, 0)
	for i := 0; i < len(r.Host); i++ {
		c := r.Host[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	b = appendField(b, r.URL.EscapedPath())
	b = append(b, 0)
	var keyQuery []string
	if spec != nil {
		keyQuery = spec.KeyQuery
	}
	b = appendQuery(b, r.URL.RawQuery, keyQuery)
	if spec != nil {
		for _, name := range spec.KeyHeaders {
			b = appendField(b, name)
			for _, v := range r.Header.Values(name) {
				b = appendField(b, v)
			}
		}
	}
	sum := sha256.Sum256(b)
	var out [64]byte
	hex.Encode(out[:], sum[:])
	return string(out[:])
}

// appendField appends a separator and s; the separator byte 0 cannot
// appear in HTTP request fields, which keeps fields apart.
func appendField(b []byte, s string) []byte {
	b = append(b, 0)
	return append(b, s...)
}

// appendQuery appends the keyed part of a raw query.
func appendQuery(b []byte, raw string, names []string) []byte {
	if raw == "" {
		return b
	}
	if len(names) == 0 {
		pairs := strings.Split(raw, "&")
		sort.Strings(pairs)
		for _, p := range pairs {
			if p != "" {
				b = appendField(b, p)
			}
		}
		return b
	}
	q, _ := url.ParseQuery(raw)
	sorted := append([]string(nil), names...)
	sort.Strings(sorted)
	for _, n := range sorted {
		vs, ok := q[n]
		if !ok {
			continue
		}
		b = appendField(b, n)
		b = append(b, '=')
		for _, v := range vs {
			b = appendField(b, v)
		}
	}
	return b
}
