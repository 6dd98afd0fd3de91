package store

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestTTL(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(s *Store)
		advance    time.Duration
		wantExists bool
		wantHasTTL bool
		wantTTL    time.Duration
	}{
		{"no ttl", func(s *Store) { s.Set("k", nil, SetOptions{}) }, time.Hour, true, false, 0},
		{"ttl running", func(s *Store) { s.Set("k", nil, SetOptions{TTL: 10 * time.Second}) }, 4 * time.Second, true, true, 6 * time.Second},
		{"ttl just before", func(s *Store) { s.Set("k", nil, SetOptions{TTL: 10 * time.Second}) }, 10*time.Second - 1, true, true, 1},
		{"ttl reached", func(s *Store) { s.Set("k", nil, SetOptions{TTL: 10 * time.Second}) }, 10 * time.Second, false, false, 0},
		{"overwrite clears ttl", func(s *Store) {
			s.Set("k", nil, SetOptions{TTL: time.Second})
			s.Set("k", nil, SetOptions{})
		}, time.Hour, true, false, 0},
		{"keepttl", func(s *Store) {
			s.Set("k", nil, SetOptions{TTL: 10 * time.Second})
			s.Set("k", []byte("v"), SetOptions{KeepTTL: true})
		}, time.Second, true, true, 9 * time.Second},
		{"keepttl on missing", func(s *Store) { s.Set("k", nil, SetOptions{KeepTTL: true}) }, time.Hour, true, false, 0},
		{"expire", func(s *Store) {
			s.Set("k", nil, SetOptions{})
			s.Expire("k", 5*time.Second)
		}, 2 * time.Second, true, true, 3 * time.Second},
		{"expire zero deletes", func(s *Store) {
			s.Set("k", nil, SetOptions{})
			s.Expire("k", 0)
		}, 0, false, false, 0},
		{"expire negative deletes", func(s *Store) {
			s.Set("k", nil, SetOptions{})
			s.Expire("k", -time.Second)
		}, 0, false, false, 0},
		{"persist", func(s *Store) {
			s.Set("k", nil, SetOptions{TTL: time.Second})
			s.Persist("k")
		}, time.Hour, true, false, 0},
		{"incr keeps ttl", func(s *Store) {
			s.Set("k", []byte("1"), SetOptions{TTL: 10 * time.Second})
			s.IncrBy("k", 1)
		}, time.Second, true, true, 9 * time.Second},
		{"append keeps ttl", func(s *Store) {
			s.Set("k", []byte("1"), SetOptions{TTL: 10 * time.Second})
			s.Append("k", []byte("1"))
		}, time.Second, true, true, 9 * time.Second},
		{"huge ttl saturates", func(s *Store) { s.Set("k", nil, SetOptions{TTL: math.MaxInt64}) }, time.Hour, true, true, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newFakeClock()
			s := newStore(t, Config{Clock: clk.Now})
			tt.setup(s)
			clk.Advance(tt.advance)
			ttl, exists, hasTTL := s.TTL("k")
			require.Equal(t, tt.wantExists, exists, "exists")
			require.Equal(t, tt.wantHasTTL, hasTTL, "hasTTL")
			if tt.wantTTL >= 0 {
				require.Equal(t, tt.wantTTL, ttl)
			} else {
				require.Positive(t, ttl)
			}
			it, ok, _ := s.Get("k")
			require.Equal(t, tt.wantExists, ok)
			require.Equal(t, tt.wantHasTTL, !it.ExpiresAt.IsZero())
			checkInvariants(t, s)
		})
	}
}

func TestPersistAndExpireMissing(t *testing.T) {
	s := newStore(t, Config{})
	require.False(t, s.Expire("nope", time.Second))
	require.False(t, s.Persist("nope"))
	s.Set("k", nil, SetOptions{})
	require.False(t, s.Persist("k"), "no ttl to remove")
}

func TestItemExpiresAt(t *testing.T) {
	clk := newFakeClock()
	s := newStore(t, Config{Clock: clk.Now})
	s.Set("k", []byte("v"), SetOptions{TTL: time.Minute})
	it, ok, _ := s.Get("k")
	require.True(t, ok)
	require.True(t, it.ExpiresAt.Equal(clk.Now().Add(time.Minute)))
}

func TestLazyExpiryCounts(t *testing.T) {
	clk := newFakeClock()
	s := newStore(t, Config{Clock: clk.Now})
	s.Set("a", []byte("v"), SetOptions{TTL: time.Second})
	s.Set("b", []byte("v"), SetOptions{TTL: time.Second})
	clk.Advance(time.Second)
	require.Equal(t, 2, s.Len(), "not yet reclaimed")
	_, ok, _ := s.Get("a")
	require.False(t, ok)
	require.Equal(t, 0, s.Exists("b"))
	st := s.Stats()
	require.Equal(t, int64(2), st.Expirations)
	require.Equal(t, int64(0), st.Items)
	require.Equal(t, int64(0), st.Bytes)
}

// TestActiveExpiry runs expiry cycles by hand with a fake clock: expired keys
// go without being touched, live ones stay.
func TestActiveExpiry(t *testing.T) {
	clk := newFakeClock()
	s := newStore(t, Config{Shards: 16, Clock: clk.Now})
	s.Close() // drive cycles from the test only
	const n = 10000
	for i := range n {
		ttl := time.Second
		if i%10 == 0 {
			ttl = time.Hour
		}
		_, err := s.Set(fmt.Sprint("k", i), []byte("v"), SetOptions{TTL: ttl})
		require.NoError(t, err)
	}
	_, _ = s.Set("forever", []byte("v"), SetOptions{})
	require.Zero(t, s.expireCycle(time.Hour), "nothing expired yet")

	clk.Advance(time.Second)
	cycles := 0
	for s.Len() > n/10+1 {
		s.expireCycle(time.Hour)
		cycles++
		require.Less(t, cycles, 1000, "active expiry makes no progress")
	}
	t.Logf("reclaimed %d keys in %d cycles", n-n/10, cycles)
	require.Equal(t, n/10+1, s.Len())
	require.Equal(t, int64(n-n/10), s.Stats().Expirations)
	checkInvariants(t, s)
}

// TestActiveExpiryGoroutine checks the owned goroutine does the work and
// stops on Close, waiting for the effect rather than sleeping.
func TestActiveExpiryGoroutine(t *testing.T) {
	clk := newFakeClock()
	s := newStore(t, Config{Clock: clk.Now})
	for i := range 100 {
		s.Set(fmt.Sprint(i), nil, SetOptions{TTL: time.Second})
	}
	clk.Advance(time.Second)
	require.Eventually(t, func() bool { return s.Len() == 0 }, 10*time.Second, 10*time.Millisecond)
	s.Close()
	s.Close()                     // idempotent
	s.Set("k", nil, SetOptions{}) // still usable
	_, ok, _ := s.Get("k")
	require.True(t, ok)
}

func TestRandomOpsAgainstModel(t *testing.T) {
	seed := seedFor(t)
	for _, policy := range []Policy{PolicyLRU, PolicyLFU, PolicyNoEviction} {
		t.Run(policy.String(), func(t *testing.T) {
			r := newRand(seed)
			clk := newFakeClock()
			s := newStore(t, Config{Shards: 4, Policy: policy, Clock: clk.Now})
			type mv struct {
				val     string
				expires time.Time // zero = none
			}
			model := map[string]mv{}
			live := func(k string) (mv, bool) {
				m, ok := model[k]
				if ok && !m.expires.IsZero() && !clk.Now().Before(m.expires) {
					delete(model, k)
					return mv{}, false
				}
				return m, ok
			}
			for i := range 20000 {
				k := fmt.Sprint("k", r.IntN(50))
				switch op := r.IntN(9); op {
				case 0, 1:
					v := fmt.Sprint(r.IntN(1000))
					var ttl time.Duration
					if r.IntN(3) == 0 {
						ttl = time.Duration(1+r.IntN(5)) * time.Second
					}
					_, err := s.Set(k, []byte(v), SetOptions{TTL: ttl})
					require.NoError(t, err)
					m := mv{val: v}
					if ttl > 0 {
						m.expires = clk.Now().Add(ttl)
					}
					model[k] = m
				case 2:
					it, ok, _ := s.Get(k)
					m, mok := live(k)
					require.Equal(t, mok, ok, "op %d get %s", i, k)
					if ok {
						require.Equal(t, m.val, string(it.Value))
					}
				case 3:
					_, mok := live(k)
					require.Equal(t, btoi(mok), s.Delete(k))
					delete(model, k)
				case 4:
					got, err := s.IncrBy(k, 3)
					m, mok := live(k)
					cur, isInt := int64(0), true
					if mok {
						cur, isInt = parseInt([]byte(m.val))
					}
					if !isInt {
						require.ErrorIs(t, err, ErrNotInteger)
						break
					}
					require.NoError(t, err)
					require.Equal(t, cur+3, got)
					m.val = fmt.Sprint(cur + 3)
					model[k] = m
				case 5:
					n, err := s.Append(k, []byte("x"))
					require.NoError(t, err)
					m, _ := live(k)
					m.val += "x"
					model[k] = m
					require.Equal(t, len(m.val), n)
				case 6:
					ttl := time.Duration(r.IntN(4)) * time.Second
					m, mok := live(k)
					require.Equal(t, mok, s.Expire(k, ttl))
					if mok && ttl == 0 {
						delete(model, k)
					} else if mok {
						m.expires = clk.Now().Add(ttl)
						model[k] = m
					}
				case 7:
					clk.Advance(time.Duration(r.IntN(1500)) * time.Millisecond)
					if r.IntN(4) == 0 {
						s.tick()
					}
				case 8:
					ttl, exists, hasTTL := s.TTL(k)
					m, mok := live(k)
					require.Equal(t, mok, exists)
					require.Equal(t, mok && !m.expires.IsZero(), hasTTL)
					if hasTTL {
						require.Equal(t, m.expires.Sub(clk.Now()), ttl)
					}
				}
			}
			n := 0
			for k := range model {
				if _, ok := live(k); ok {
					n++
				}
			}
			require.Equal(t, n, s.Exists(keysOf(model)...))
			checkInvariants(t, s)
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func keysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
