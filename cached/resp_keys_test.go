package cached

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// globMatch agrees with redis-server 7.0.15's KEYS on every case (each was
// checked with SET key + KEYS pattern on a loopback redis-server).
func TestGlobMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, key string
		want         bool
	}{
		{"*", "", true}, {"*", "abc", true}, {"a*", "abc", true}, {"a*c", "abbbc", true},
		{"a*c", "abcd", false}, {"?", "a", true}, {"?", "", false}, {"??", "a", false},
		{"h?llo", "hxllo", true}, {"h[ae]llo", "hello", true}, {"h[ae]llo", "hillo", false},
		{"h[^e]llo", "hello", false}, {"h[^e]llo", "hallo", true}, {"h[a-b]llo", "hbllo", true},
		{"h[b-a]llo", "hallo", true}, {"h[a-b]llo", "hcllo", false}, {`a\*c`, "a*c", true},
		{`a\*c`, "abc", false}, {`a\`, `a\`, true}, {`[\]]`, "]", true}, {"[a-]", "-", false},
		{"*a*b*", "xxaxxbxx", true}, {"*a*b*", "xxbxxaxx", false}, {"a[", "a[", false},
		{"a[bc", "ab", true}, {"[abc", "c", true}, {"**a", "a", true}, {"a*?", "a", false},
		{"a*?", "ab", true}, {"[]", "]", false}, {"x[]]y", "x]y", false},
	} {
		require.Equal(t, tc.want, globMatch([]byte(tc.pattern), []byte(tc.key)), "%q ~ %q", tc.pattern, tc.key)
	}
}

// globMatch never panics, a pattern matches itself when it has no special
// bytes, and * matches everything.
func FuzzGlobMatch(f *testing.F) {
	f.Add([]byte("h[a-e]l*o?"), []byte("hello"))
	f.Add([]byte(`a\*[^]`), []byte("a*x"))
	f.Fuzz(func(t *testing.T, p, s []byte) {
		globMatch(p, s)
		if !globMatch([]byte("*"), s) {
			t.Fatalf("* does not match %q", s)
		}
		plain := true
		for _, c := range s {
			if c == '*' || c == '?' || c == '[' || c == '\\' {
				plain = false
			}
		}
		if plain && !globMatch(s, s) {
			t.Fatalf("%q does not match itself", s)
		}
	})
}
