package upstream

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/gatewayd/gwconfig"
)

func TestParseEntry(t *testing.T) {
	tests := []struct {
		in   string
		want gwconfig.Target
		ok   bool
	}{
		{`{"address":"10.0.0.1:8080","weight":3}`, gwconfig.Target{Address: "10.0.0.1:8080", Weight: 3}, true},
		{`{"address":"api.local:80"}`, gwconfig.Target{Address: "api.local:80", Weight: 1}, true},
		{`{"address":"[::1]:443","weight":0,"zone":"a"}`, gwconfig.Target{Address: "[::1]:443", Weight: 1}, true},
		{`{"address":"h:1","weight":1000}`, gwconfig.Target{Address: "h:1", Weight: 1000}, true},
		{`{"address":"h:1","weight":1001}`, gwconfig.Target{}, false},
		{`{"address":"h:1","weight":-1}`, gwconfig.Target{}, false},
		{`{"address":"h"}`, gwconfig.Target{}, false},
		{`{"address":":80"}`, gwconfig.Target{}, false},
		{`{"address":"h:0"}`, gwconfig.Target{}, false},
		{`{"address":"h:65536"}`, gwconfig.Target{}, false},
		{`{"address":"h:http"}`, gwconfig.Target{}, false},
		{`{"address":"a b:80"}`, gwconfig.Target{}, false},
		{`{}`, gwconfig.Target{}, false},
		{`{"address":"h:1"} {}`, gwconfig.Target{}, false},
		{`{"address":"h:1","weight":"2"}`, gwconfig.Target{}, false},
		{`not json`, gwconfig.Target{}, false},
		{``, gwconfig.Target{}, false},
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
// target that survives a round trip through Entry.
func FuzzParseEntry(f *testing.F) {
	for _, s := range []string{`{"address":"10.0.0.1:8080","weight":3}`, `{"address":"[::1]:1"}`, `{"address":"h:1"} x`, `{"weight":1e9}`, `[]`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		tg, err := ParseEntry(in)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalidEntry)
			return
		}
		require.NoError(t, checkAddress(tg.Address))
		require.True(t, tg.Weight >= 1 && tg.Weight <= MaxWeight, "weight %d", tg.Weight)
		b, err := json.Marshal(Entry{Address: tg.Address, Weight: tg.Weight})
		require.NoError(t, err)
		again, err := ParseEntry(b)
		require.NoError(t, err)
		require.Equal(t, tg, again)
	})
}
