package cluster

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseProcStat(t *testing.T) {
	tail := " 1 1 1 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 123456 1000 100"
	for _, tc := range []struct {
		name  string
		in    string
		state byte
		start uint64
		ok    bool
	}{
		{"plain", "42 (cairn) S" + tail, 'S', 123456, true},
		{"zombie", "42 (cairn) Z" + tail, 'Z', 123456, true},
		{"name with spaces and parens", "42 (a) b (c)) R" + tail, 'R', 123456, true},
		{"no parens", "42 cairn S" + tail, 0, 0, false},
		{"short", "42 (cairn) S 1 2 3", 0, 0, false},
		{"bad start", "42 (cairn) S" + strings.Replace(tail, "123456", "x", 1), 0, 0, false},
		{"empty", "", 0, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			state, start, ok := parseProcStat([]byte(tc.in))
			require.Equal(t, tc.ok, ok)
			require.Equal(t, tc.state, state)
			require.Equal(t, tc.start, start)
		})
	}
}

func FuzzParseProcStat(f *testing.F) {
	f.Add([]byte("42 (cairn) S 1 1 1 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 123456 1000 100"))
	f.Add([]byte("1 ()) Z"))
	f.Fuzz(func(t *testing.T, b []byte) {
		state, _, ok := parseProcStat(b)
		if ok && (state == ' ' || state == 0 && len(b) == 0) {
			t.Fatalf("accepted %q with state %q", b, state)
		}
	})
}
