package store

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name  string
		cfg   Config
		field string // "" means valid
	}{
		{"zero", Config{}, ""},
		{"default", DefaultConfig(), ""},
		{"one shard", Config{Shards: 1}, ""},
		{"shards not power of two", Config{Shards: 3}, "Shards"},
		{"negative shards", Config{Shards: -4}, "Shards"},
		{"too many shards", Config{Shards: 1 << 17}, "Shards"},
		{"negative max bytes", Config{MaxBytes: -1}, "MaxBytes"},
		{"negative max item", Config{MaxItemBytes: -1}, "MaxItemBytes"},
		{"unknown policy", Config{Policy: 7}, "Policy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			_, newErr := New(tt.cfg)
			if tt.field == "" {
				require.NoError(t, err)
				require.NoError(t, newErr)
				return
			}
			require.ErrorIs(t, err, ErrInvalidConfig)
			require.ErrorContains(t, err, tt.field)
			require.ErrorIs(t, newErr, ErrInvalidConfig)
		})
	}
}

func TestSetOptions(t *testing.T) {
	type step struct {
		key     string
		value   string
		opts    SetOptions
		wantErr error
	}
	tests := []struct {
		name  string
		steps []step
		want  map[string]string // final contents
	}{
		{"plain", []step{{key: "a", value: "1"}}, map[string]string{"a": "1"}},
		{"overwrite", []step{{key: "a", value: "1"}, {key: "a", value: "2"}}, map[string]string{"a": "2"}},
		{"empty value", []step{{key: "a", value: ""}}, map[string]string{"a": ""}},
		{"empty key", []step{{key: "", value: "x"}}, map[string]string{"": "x"}},
		{"nx absent", []step{{key: "a", value: "1", opts: SetOptions{OnlyIfAbsent: true}}}, map[string]string{"a": "1"}},
		{"nx present", []step{{key: "a", value: "1"}, {key: "a", value: "2", opts: SetOptions{OnlyIfAbsent: true}, wantErr: ErrNotStored}}, map[string]string{"a": "1"}},
		{"xx absent", []step{{key: "a", value: "1", opts: SetOptions{OnlyIfPresent: true}, wantErr: ErrNotStored}}, map[string]string{}},
		{"xx present", []step{{key: "a", value: "1"}, {key: "a", value: "2", opts: SetOptions{OnlyIfPresent: true}}}, map[string]string{"a": "2"}},
		{"nx and xx", []step{{key: "a", value: "1", opts: SetOptions{OnlyIfAbsent: true, OnlyIfPresent: true}, wantErr: ErrBadOptions}}, map[string]string{}},
		{"negative ttl", []step{{key: "a", value: "1", opts: SetOptions{TTL: -time.Second}, wantErr: ErrBadOptions}}, map[string]string{}},
		{"keepttl and ttl", []step{{key: "a", value: "1", opts: SetOptions{TTL: time.Second, KeepTTL: true}, wantErr: ErrBadOptions}}, map[string]string{}},
		{"version match", []step{{key: "a", value: "1"}, {key: "a", value: "2", opts: SetOptions{IfVersion: 1}}}, map[string]string{"a": "2"}},
		{"version mismatch", []step{{key: "a", value: "1"}, {key: "a", value: "2", opts: SetOptions{IfVersion: 2}, wantErr: ErrNotStored}}, map[string]string{"a": "1"}},
		{"version absent", []step{{key: "a", value: "2", opts: SetOptions{IfVersion: 1}, wantErr: ErrNotStored}}, map[string]string{}},
		{"too large", []step{{key: "k", value: string(make([]byte, 100)), wantErr: ErrTooLarge}}, map[string]string{}},
		{"largest", []step{{key: "k", value: string(make([]byte, 99))}}, map[string]string{"k": string(make([]byte, 99))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t, Config{Shards: 1, MaxItemBytes: 100})
			for _, st := range tt.steps {
				_, err := s.Set(st.key, []byte(st.value), st.opts)
				if st.wantErr != nil {
					require.ErrorIs(t, err, st.wantErr)
				} else {
					require.NoError(t, err)
				}
			}
			got := map[string]string{}
			s.Range(func(k string, it Item) bool { got[k] = string(it.Value); return true })
			require.Equal(t, tt.want, got)
			checkInvariants(t, s)
		})
	}
}

func TestVersions(t *testing.T) {
	s := newStore(t, Config{})
	v1, err := s.Set("k", []byte("a"), SetOptions{})
	require.NoError(t, err)
	require.Equal(t, uint64(1), v1, "the first write of a fresh store has version 1")
	it, ok, _ := s.Get("k")
	require.True(t, ok)
	require.Equal(t, v1, it.Version)

	v2, err := s.Set("k", []byte("b"), SetOptions{IfVersion: v1})
	require.NoError(t, err)
	require.Greater(t, v2, v1)
	_, err = s.Set("k", []byte("c"), SetOptions{IfVersion: v1})
	require.ErrorIs(t, err, ErrNotStored)

	_, err = s.IncrBy("n", 1)
	require.NoError(t, err)
	_, err = s.Append("k", []byte("x"))
	require.NoError(t, err)
	it, _, _ = s.Get("k")
	require.Greater(t, it.Version, v2, "Append is a write")

	// Expire and Persist do not change the version.
	before := it.Version
	require.True(t, s.Expire("k", time.Hour))
	require.True(t, s.Persist("k"))
	it, _, _ = s.Get("k")
	require.Equal(t, before, it.Version)

	// No ABA: a deleted and re-created key never gets an old version back.
	require.Equal(t, 1, s.Delete("k"))
	v3, err := s.Set("k", []byte("a"), SetOptions{})
	require.NoError(t, err)
	require.Greater(t, v3, before)
	s.FlushAll()
	v4, err := s.Set("k", []byte("a"), SetOptions{})
	require.NoError(t, err)
	require.Greater(t, v4, v3)
}

func TestValuesAreImmutable(t *testing.T) {
	s := newStore(t, Config{})
	buf := []byte("hello")
	_, err := s.Set("k", buf, SetOptions{})
	require.NoError(t, err)
	buf[0] = 'J' // the caller may reuse its buffer
	it, _, _ := s.Get("k")
	require.Equal(t, "hello", string(it.Value))
	require.Equal(t, len(it.Value), cap(it.Value), "returned values must not expose spare capacity")

	// Appends never change bytes a reader holds, in place or not.
	held := [][]byte{it.Value}
	for i := range 50 {
		_, err := s.Append("k", []byte{byte('a' + i%26)})
		require.NoError(t, err)
		it, _, _ := s.Get("k")
		held = append(held, it.Value)
	}
	want := "hello"
	for i, v := range held {
		if i > 0 {
			want += string(rune('a' + (i-1)%26))
		}
		require.Equal(t, want, string(v), "value %d", i)
	}
	// A caller appending to a returned value cannot reach the store's bytes.
	it, _, _ = s.Get("k")
	_ = append(it.Value, "zzz"...)
	_, err = s.Append("k", []byte("!"))
	require.NoError(t, err)
	it, _, _ = s.Get("k")
	require.Equal(t, want+"!", string(it.Value))
}

func TestDeleteExistsGetDel(t *testing.T) {
	s := newStore(t, Config{})
	for _, k := range []string{"a", "b", "c"} {
		_, err := s.Set(k, []byte(k), SetOptions{})
		require.NoError(t, err)
	}
	tests := []struct {
		name string
		op   func() int
		want int
	}{
		{"exists all", func() int { return s.Exists("a", "b", "c") }, 3},
		{"exists counts duplicates", func() int { return s.Exists("a", "a", "zz") }, 2},
		{"delete some", func() int { return s.Delete("a", "zz") }, 1},
		{"delete again", func() int { return s.Delete("a") }, 0},
		{"exists after delete", func() int { return s.Exists("a", "b", "c") }, 2},
		{"len", s.Len, 2},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, tt.op(), tt.name)
	}
	it, ok, _ := s.GetDel("b")
	require.True(t, ok)
	require.Equal(t, "b", string(it.Value))
	_, ok, _ = s.GetDel("b")
	require.False(t, ok)
	require.Equal(t, 1, s.Len())
	st := s.Stats()
	require.Equal(t, int64(2), st.Deletes)
	require.Equal(t, int64(1), st.Items)
	checkInvariants(t, s)
}

func TestIncrBy(t *testing.T) {
	tests := []struct {
		name    string
		initial *string
		delta   int64
		want    int64
		wantErr error
	}{
		{"missing", nil, 5, 5, nil},
		{"missing negative", nil, -5, -5, nil},
		{"existing", ptr("10"), 5, 15, nil},
		{"negative existing", ptr("-10"), 3, -7, nil},
		{"zero", ptr("0"), 0, 0, nil},
		{"max", ptr("9223372036854775806"), 1, math.MaxInt64, nil},
		{"overflow", ptr("9223372036854775807"), 1, 0, ErrOverflow},
		{"min", ptr("-9223372036854775807"), -1, math.MinInt64, nil},
		{"underflow", ptr("-9223372036854775808"), -1, 0, ErrOverflow},
		{"not integer", ptr("abc"), 1, 0, ErrNotInteger},
		{"empty", ptr(""), 1, 0, ErrNotInteger},
		{"plus sign", ptr("+1"), 1, 0, ErrNotInteger},
		{"leading zero", ptr("01"), 1, 0, ErrNotInteger},
		{"minus zero", ptr("-0"), 1, 0, ErrNotInteger},
		{"space", ptr(" 1"), 1, 0, ErrNotInteger},
		{"too big", ptr("9223372036854775808"), 1, 0, ErrNotInteger},
		{"too long", ptr("123456789012345678901"), 1, 0, ErrNotInteger},
		{"float", ptr("1.5"), 1, 0, ErrNotInteger},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t, Config{})
			if tt.initial != nil {
				_, err := s.Set("n", []byte(*tt.initial), SetOptions{})
				require.NoError(t, err)
			}
			got, err := s.IncrBy("n", tt.delta)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			it, _, _ := s.Get("n")
			require.Equal(t, fmt.Sprint(tt.want), string(it.Value))
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestParseIntRoundTrip(t *testing.T) {
	for _, n := range []int64{0, 1, -1, 9, 10, 99, -100, math.MaxInt64, math.MinInt64, math.MaxInt64 - 1, math.MinInt64 + 1} {
		got, ok := parseInt([]byte(fmt.Sprint(n)))
		require.True(t, ok, n)
		require.Equal(t, n, got)
	}
}

func TestAppend(t *testing.T) {
	s := newStore(t, Config{MaxItemBytes: 10})
	n, err := s.Append("k", []byte("ab"))
	require.NoError(t, err)
	require.Equal(t, 2, n)
	n, err = s.Append("k", []byte("cde"))
	require.NoError(t, err)
	require.Equal(t, 5, n)
	_, err = s.Append("k", []byte("fghijk"))
	require.ErrorIs(t, err, ErrTooLarge)
	n, err = s.Append("k", []byte("fghi"))
	require.NoError(t, err)
	require.Equal(t, 9, n)
	it, _, _ := s.Get("k")
	require.Equal(t, "abcdefghi", string(it.Value))
	checkInvariants(t, s)
}

func TestStatsCounters(t *testing.T) {
	s := newStore(t, Config{})
	_, _ = s.Set("a", []byte("1"), SetOptions{})
	_, _ = s.Set("b", []byte("2"), SetOptions{})
	s.Get("a")
	s.Get("zz")
	s.MGet([]string{"a", "b", "zz"})
	s.Delete("a")
	st := s.Stats()
	require.Equal(t, Stats{Hits: 3, Misses: 2, Items: 1, Bytes: 2 + ItemOverhead, Sets: 2, Deletes: 1}, st)
}

func TestMGet(t *testing.T) {
	s := newStore(t, Config{})
	_, _ = s.Set("a", []byte("1"), SetOptions{})
	_, _ = s.Set("c", []byte("3"), SetOptions{})
	got := s.MGet([]string{"a", "b", "c"})
	require.Len(t, got, 3)
	require.Equal(t, "1", string(got[0].Value))
	require.Equal(t, uint64(0), got[1].Version)
	require.Nil(t, got[1].Value)
	require.Equal(t, "3", string(got[2].Value))
}

func TestRangeAndFlush(t *testing.T) {
	clk := newFakeClock()
	s := newStore(t, Config{Shards: 4, Clock: clk.Now})
	want := map[string]string{}
	for i := range 100 {
		k := fmt.Sprint("k", i)
		_, err := s.Set(k, []byte(k), SetOptions{})
		require.NoError(t, err)
		want[k] = k
	}
	_, err := s.Set("short", []byte("x"), SetOptions{TTL: time.Second})
	require.NoError(t, err)
	clk.Advance(time.Second)

	got := map[string]string{}
	s.Range(func(k string, it Item) bool {
		got[k] = string(it.Value)
		s.Delete(k) // fn may call store methods
		return true
	})
	require.Equal(t, want, got, "expired keys are skipped")

	stopped := 0
	_, _ = s.Set("x", nil, SetOptions{})
	_, _ = s.Set("y", nil, SetOptions{})
	s.Range(func(string, Item) bool { stopped++; return false })
	require.Equal(t, 1, stopped)

	s.FlushAll()
	require.Equal(t, 0, s.Len())
	require.Equal(t, int64(0), s.Stats().Bytes)
	checkInvariants(t, s)
}

// TestGetDoesNotAllocate guards the server's hot path: converting a []byte
// argument to a string for Get must not allocate (keys up to 32 bytes stay on
// the stack because Get does not retain its key).
func TestGetDoesNotAllocate(t *testing.T) {
	s := newStore(t, Config{})
	_, _ = s.Set("key:000123", make([]byte, 100), SetOptions{TTL: time.Hour})
	arg := []byte("key:000123")
	allocs := testing.AllocsPerRun(100, func() {
		if _, ok, _ := s.Get(string(arg)); !ok {
			t.Fatal("missing")
		}
		s.Exists(string(arg))
	})
	require.Zero(t, allocs)
}

func TestShardHashSpread(t *testing.T) {
	seed := seedFor(t)
	const shards, keys = 256, 256 * 400
	var counts [shards]int
	for i := range keys {
		counts[hashKey(seed, fmt.Sprintf("key:%06d", i))&(shards-1)]++
	}
	lo, hi := keys, 0
	for _, c := range counts {
		lo, hi = min(lo, c), max(hi, c)
	}
	// 400 per shard on average; a uniform hash stays well within ±30%.
	require.Greater(t, lo, 280, "min shard load")
	require.Less(t, hi, 520, "max shard load")
}

// Keys of every length around inlineKey (kept inside the entry up to it)
// round-trip, stay distinct and can be deleted; a short key lives in its
// entry, a long one is the caller's string.
func TestKeysAroundTheInlineLength(t *testing.T) {
	s := newStore(t, Config{Shards: 1})
	want := map[string]string{}
	for n := 0; n <= inlineKey+2; n++ {
		want[strings.Repeat("a", n)] = fmt.Sprint("v", n)
		if n > 0 {
			want[strings.Repeat("a", n-1)+"b"] = fmt.Sprint("w", n)
		}
	}
	for k, v := range want {
		_, err := s.Set(k, []byte(v), SetOptions{})
		require.NoError(t, err)
	}
	for k, v := range want {
		it, ok, _ := s.Get(strings.Clone(k))
		require.True(t, ok, "%q", k)
		require.Equal(t, v, string(it.Value), "%q", k)
	}
	e := newEntry("short-key", nil)
	require.Equal(t, "short-key", e.key)
	require.Equal(t, &e.kbuf[0], unsafe.StringData(e.key), "a short key lives in its entry")
	long := strings.Repeat("l", inlineKey+1)
	require.Equal(t, unsafe.StringData(long), unsafe.StringData(newEntry(long, nil).key), "a long key is the caller's string")
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	require.Equal(t, len(want), s.Delete(keys...))
}
