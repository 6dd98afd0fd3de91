package registry

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseEntry(t *testing.T) {
	tests := []struct {
		in   string
		want Entry
		ok   bool
	}{
		{`{"address":"10.0.0.1:8080","weight":3}`, Entry{Address: "10.0.0.1:8080", Weight: 3}, true},
		{`{"address":"api.local:80"}`, Entry{Address: "api.local:80", Weight: 1}, true},
		{`{"address":"[::1]:443","weight":0,"zone":"a"}`, Entry{Address: "[::1]:443", Weight: 1}, true},
		{`{"address":"h:1","weight":1000}`, Entry{Address: "h:1", Weight: 1000}, true},
		{`{"address":"h:1","weight":1001}`, Entry{}, false},
		{`{"address":"h:1","weight":-1}`, Entry{}, false},
		{`{"address":"h"}`, Entry{}, false},
		{`{"address":":80"}`, Entry{}, false},
		{`{"address":"h:0"}`, Entry{}, false},
		{`{"address":"h:65536"}`, Entry{}, false},
		{`{"address":"h:http"}`, Entry{}, false},
		{`{"address":"a b:80"}`, Entry{}, false},
		{`{}`, Entry{}, false},
		{`{"address":"h:1"} {}`, Entry{}, false},
		{`{"address":"h:1","weight":"2"}`, Entry{}, false},
		{`not json`, Entry{}, false},
		{``, Entry{}, false},
	}
	for _, tc := range tests {
		got, err := ParseEntry([]byte(tc.in))
		if !tc.ok {
			require.ErrorIs(t, err, ErrInvalidEntry, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
	}
	big := make([]byte, maxEntryBytes+1)
	_, err := ParseEntry(big)
	require.ErrorIs(t, err, ErrInvalidEntry)
}

// FuzzParseEntry: ParseEntry never panics, and what it accepts is a valid
// entry (weight made at least 1) that survives a round trip through JSON.
func FuzzParseEntry(f *testing.F) {
	for _, s := range []string{`{"address":"10.0.0.1:8080","weight":3}`, `{"address":"[::1]:1"}`, `{"address":"h:1"} x`, `{"weight":1e9}`, `[]`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		e, err := ParseEntry(in)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalidEntry)
			return
		}
		require.NoError(t, checkAddress(e.Address))
		require.True(t, e.Weight >= 1 && e.Weight <= MaxWeight, "weight %d", e.Weight)
		b, err := json.Marshal(e)
		require.NoError(t, err)
		again, err := ParseEntry(b)
		require.NoError(t, err)
		require.Equal(t, e, again)
	})
}
