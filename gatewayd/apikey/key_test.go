package apikey

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/node/nodetest"
)

// seeded returns a deterministic byte source from the test's logged seed.
func seeded(t testing.TB) *rand.ChaCha8 {
	seed := nodetest.Seed(t)
	var s [32]byte
	for i := range 8 {
		s[i] = byte(seed >> (8 * i))
	}
	return rand.NewChaCha8(s)
}

func TestGenerateParse(t *testing.T) {
	rnd := seeded(t)
	now := time.Unix(1_800_000_000, 0)
	ids := map[string]bool{}
	for range 200 {
		k, full, err := Generate(rnd, "billing", now, time.Hour)
		require.NoError(t, err)
		require.Len(t, full, keyLen)
		require.True(t, strings.HasPrefix(full, "cgw_"+k.ID+"_"))
		require.True(t, ValidID(k.ID), k.ID)
		require.False(t, ids[k.ID], "id repeated")
		ids[k.ID] = true
		require.Equal(t, now.Add(time.Hour).UTC(), k.ExpiresAt)
		id, hash, err := Parse(full)
		require.NoError(t, err)
		require.Equal(t, k.ID, id)
		require.Equal(t, k.hash, hash)
	}
	k, _, err := Generate(rnd, "c", now, 0)
	require.NoError(t, err)
	require.True(t, k.ExpiresAt.IsZero())
	require.False(t, k.Expired(now.Add(100*365*24*time.Hour)))

	_, _, err = Generate(bytes.NewReader(nil), "c", now, 0)
	require.Error(t, err, "a failing random source")
}

func TestParseRefuses(t *testing.T) {
	_, good, err := Generate(seeded(t), "c", time.Now(), 0)
	require.NoError(t, err)
	secret := good[len(Prefix)+idLen+1:]
	for name, s := range map[string]string{
		"empty":             "",
		"no prefix":         "xyz_" + good[4:],
		"upper-case id":     "cgw_ABCDEFGHIJ_" + secret,
		"id with 1":         "cgw_abcdefghi1_" + secret,
		"short id":          "cgw_abcdefghi_" + secret + "A",
		"missing separator": "cgw_abcdefghijk" + secret,
		"short secret":      good[:len(good)-1],
		"long secret":       good + "A",
		"padding":           good[:len(good)-1] + "=",
		"newline":           good[:20] + "\n" + good[21:],
		"bad trailing bits": good[:len(good)-1] + "B",
		"standard alphabet": good[:len(good)-1] + "+",
	} {
		_, _, err := Parse(s)
		if name == "bad trailing bits" && good[len(good)-1] == 'B' {
			continue
		}
		require.ErrorIs(t, err, ErrMalformed, name)
	}
}

func TestRecordRoundTrip(t *testing.T) {
	k, _, err := Generate(seeded(t), "billing", time.Unix(1_800_000_000, 5), time.Minute)
	require.NoError(t, err)
	b, err := encodeRecord(k)
	require.NoError(t, err)
	back, err := decodeRecord(k.ID, b)
	require.NoError(t, err)
	require.Equal(t, k.hash, back.hash)
	require.True(t, k.CreatedAt.Equal(back.CreatedAt))
	require.True(t, k.ExpiresAt.Equal(back.ExpiresAt))
	require.Equal(t, k.Consumer, back.Consumer)

	for _, bad := range []string{`{`, `{"consumer":"","sha256":"` + strings.Repeat("A", 43) + `"}`, `{"consumer":"c","sha256":"short"}`} {
		_, err := decodeRecord(k.ID, []byte(bad))
		require.Error(t, err, bad)
	}
	_, err = decodeRecord("NOT-AN-ID", b)
	require.Error(t, err)
}

// FuzzParse: Parse never panics, and what it accepts is exactly a key it
// could have generated (it re-encodes to the same string's shape).
func FuzzParse(f *testing.F) {
	_, good, _ := Generate(nil, "c", time.Now(), 0)
	for _, s := range []string{good, "", "cgw_", "cgw_aaaaaaaaaa_", good + "x", strings.ToUpper(good)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, _, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v", err)
			}
			return
		}
		if len(s) != keyLen || !ValidID(id) || !strings.HasPrefix(s, Prefix+id+"_") {
			t.Fatalf("accepted %q", s)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	_, full, _ := Generate(nil, "c", time.Now(), 0)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Parse(full); err != nil {
			b.Fatal(err)
		}
	}
}
