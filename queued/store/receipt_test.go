package store

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestReceiptRoundTrip(t *testing.T) {
	for _, r := range []Receipt{
		{QueueID: 1, Sequence: 1, Nonce: 1},
		{QueueID: 7, Sequence: 1 << 40, Nonce: 123456789},
		{QueueID: ^uint64(0), Sequence: ^uint64(0), Nonce: ^uint64(0)},
	} {
		h := r.String()
		require.Len(t, h, 35)
		require.False(t, strings.ContainsAny(h, "+/="), "base64url without padding")
		got, err := ParseReceipt(h)
		require.NoError(t, err)
		require.Equal(t, r, got)
	}
	for _, h := range []string{"", "x", Receipt{QueueID: 1, Sequence: 1, Nonce: 1}.String() + "A",
		Receipt{QueueID: 0, Sequence: 1, Nonce: 1}.String(),
		strings.Repeat("A", 35)} {
		_, err := ParseReceipt(h)
		require.ErrorIs(t, err, ErrReceiptInvalid, "%q", h)
	}
}

func TestMessageIDIsUUIDShaped(t *testing.T) {
	id := messageID(1, 2, 3, 1e18)
	require.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, id)
	require.Equal(t, id, messageID(1, 2, 3, 1e18))
	require.NotEqual(t, id, messageID(1, 2, 4, 1e18))
	// The same queue, sequence and index in another cluster (another time)
	// is another message.
	require.NotEqual(t, id, messageID(1, 2, 3, 1e18+1))
}

// FuzzParseReceipt: the parser never panics, accepts only what String makes,
// and what it accepts encodes back to the same handle.
func FuzzParseReceipt(f *testing.F) {
	f.Add(Receipt{QueueID: 1, Sequence: 2, Nonce: 3}.String())
	f.Add("")
	f.Add("AQAAAAAAAAABAAAAAAAAAAIAAAAAAAAAA")
	f.Add(strings.Repeat("_", 35))
	f.Fuzz(func(t *testing.T, h string) {
		r, err := ParseReceipt(h)
		if err != nil {
			require.ErrorIs(t, err, ErrReceiptInvalid)
			return
		}
		require.Equal(t, h, r.String())
		require.NotZero(t, r.QueueID)
		require.NotZero(t, r.Sequence)
		require.NotZero(t, r.Nonce)
	})
}
