package respcache

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func sampleEntry() *Entry {
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Accept-Encoding", "gzip")
	h := http.Header{
		"Content-Type":  {"application/json"},
		"Cache-Control": {"public", "max-age=60"},
		"Vary":          {"Accept-Encoding, Accept-Language"},
		"Age":           {"3"},
		"X-Request-Id":  {"abc"},
		"Connection":    {"X-Hop"},
		"X-Hop":         {"1"},
		"Set-Cookie":    {"a=b"},
	}
	return newEntry(r, 200, h, []byte(`{"ok":true}`), time.Unix(1_800_000_000, 123), time.Minute)
}

func TestNewEntryKeepsOnlyStorableHeaders(t *testing.T) {
	e := sampleEntry()
	require.Equal(t, http.Header{
		"Content-Type":   {"application/json"},
		"Cache-Control":  {"public", "max-age=60"},
		"Vary":           {"Accept-Encoding, Accept-Language"},
		"Content-Length": {"11"},
	}, e.Header)
	require.Equal(t, 3*time.Second, e.InitialAge)
	require.Equal(t, []VaryValue{{Name: "Accept-Encoding", Values: []string{"gzip"}}, {Name: "Accept-Language"}}, e.Vary)
	for k, v := range e.Header {
		require.Equal(t, len(v), cap(v), "%s has spare capacity", k)
	}
}

func TestEntryRoundTrip(t *testing.T) {
	e := sampleEntry()
	b := EncodeEntry(e)
	got, err := DecodeEntry(b)
	require.NoError(t, err)
	require.Equal(t, e.Status, got.Status)
	require.Equal(t, e.Header, got.Header)
	require.Equal(t, e.Body, got.Body)
	require.True(t, e.StoredAt.Equal(got.StoredAt))
	require.Equal(t, e.TTL, got.TTL)
	require.Equal(t, e.InitialAge, got.InitialAge)
	require.Equal(t, e.Vary, got.Vary)
	require.Less(t, len(b), len(e.Body)+200, "compact")

	empty := &Entry{Status: 204, Header: http.Header{}, StoredAt: time.Unix(0, 0)}
	got, err = DecodeEntry(EncodeEntry(empty))
	require.NoError(t, err)
	require.Equal(t, 204, got.Status)
	require.Empty(t, got.Body)
}

func TestDecodeEntryErrors(t *testing.T) {
	good := EncodeEntry(sampleEntry())
	_, err := DecodeEntry(nil)
	require.ErrorIs(t, err, ErrCorrupt)
	_, err = DecodeEntry([]byte{0x00, 1})
	require.ErrorIs(t, err, ErrCorrupt)
	_, err = DecodeEntry([]byte{entryMagic, 2, 0})
	require.ErrorIs(t, err, ErrVersion)
	for i := 2; i < len(good); i++ {
		_, err = DecodeEntry(good[:i])
		require.ErrorIs(t, err, ErrCorrupt, "truncated at %d", i)
	}
	_, err = DecodeEntry(append(append([]byte{}, good...), 0))
	require.ErrorIs(t, err, ErrCorrupt, "trailing byte")
	bad := &Entry{Status: 200, Header: http.Header{"X-A": {"a\r\nSet-Cookie: x"}}}
	_, err = DecodeEntry(EncodeEntry(bad))
	require.ErrorIs(t, err, ErrCorrupt, "CR/LF in a value")
	bad = &Entry{Status: 200, Header: http.Header{"X A": {"a"}}}
	_, err = DecodeEntry(EncodeEntry(bad))
	require.ErrorIs(t, err, ErrCorrupt, "space in a name")
	bad = &Entry{Status: 200, Header: http.Header{"Content-Length": {"5"}}, Body: []byte("abc")}
	_, err = DecodeEntry(EncodeEntry(bad))
	require.ErrorIs(t, err, ErrCorrupt, "Content-Length contradicts the body")
	bad = &Entry{Status: 42, Header: http.Header{}}
	_, err = DecodeEntry(EncodeEntry(bad))
	require.ErrorIs(t, err, ErrCorrupt, "status")
}

// FuzzDecodeEntry: the decoder never panics or over-allocates, and what it
// accepts re-encodes to an entry that decodes the same.
func FuzzDecodeEntry(f *testing.F) {
	f.Add(EncodeEntry(sampleEntry()))
	f.Add(EncodeEntry(&Entry{Status: 204, Header: http.Header{}}))
	f.Add([]byte{entryMagic, entryVersion, 0xc8, 0x01, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := DecodeEntry(b)
		if err != nil {
			return
		}
		again, err := DecodeEntry(EncodeEntry(e))
		require.NoError(t, err)
		require.Equal(t, e.Status, again.Status)
		require.Equal(t, e.TTL, again.TTL)
		require.Equal(t, e.InitialAge, again.InitialAge)
		require.True(t, e.StoredAt.Equal(again.StoredAt))
		require.Equal(t, len(e.Header), len(again.Header))
		for k, v := range e.Header {
			require.Equal(t, v, again.Header[k])
		}
		require.Equal(t, e.Vary, again.Vary)
		require.Equal(t, string(e.Body), string(again.Body))
	})
}
