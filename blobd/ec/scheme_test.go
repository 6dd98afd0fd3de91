package ec

import (
	"errors"
	"testing"
)

func TestSchemeValidate(t *testing.T) {
	for _, tc := range []struct {
		s  Scheme
		ok bool
	}{
		{Scheme{1, 0}, true},
		{Scheme{4, 2}, true},
		{Scheme{16, 16}, true},
		{Scheme{31, 1}, true},
		{Scheme{0, 2}, false},
		{Scheme{-1, 2}, false},
		{Scheme{4, -1}, false},
		{Scheme{30, 3}, false},
		{Scheme{}, false},
	} {
		err := tc.s.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("%v.Validate() = %v, want ok=%v", tc.s, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidScheme) {
			t.Errorf("%v.Validate() = %v, not ErrInvalidScheme", tc.s, err)
		}
		if _, err := Encode(tc.s, []byte("x")); (err == nil) != tc.ok {
			t.Errorf("Encode(%v) = %v, want ok=%v", tc.s, err, tc.ok)
		}
		if !tc.ok && tc.s.Overhead() != 0 {
			t.Errorf("%v.Overhead() = %v for an invalid scheme", tc.s, tc.s.Overhead())
		}
	}
}

func TestForServers(t *testing.T) {
	for _, tc := range []struct {
		n        int
		want     Scheme
		overhead float64
	}{
		{3, Scheme{2, 1}, 1.5},
		{4, Scheme{2, 2}, 2.0},
		{5, Scheme{3, 2}, 5.0 / 3},
		{6, Scheme{4, 2}, 1.5},
		{7, Scheme{4, 2}, 1.5},
		{100, Scheme{4, 2}, 1.5},
	} {
		s, err := ForServers(tc.n)
		if err != nil || s != tc.want {
			t.Errorf("ForServers(%d) = %v, %v; want %v", tc.n, s, err, tc.want)
			continue
		}
		if s.Shards() > tc.n {
			t.Errorf("ForServers(%d) = %v needs %d servers", tc.n, s, s.Shards())
		}
		if got := s.Overhead(); got != tc.overhead {
			t.Errorf("%v.Overhead() = %v, want %v", s, got, tc.overhead)
		}
	}
	for _, n := range []int{-1, 0, 1, 2} {
		if s, err := ForServers(n); !errors.Is(err, ErrTooFewServers) {
			t.Errorf("ForServers(%d) = %v, %v; want ErrTooFewServers", n, s, err)
		}
	}
}

func TestShardSize(t *testing.T) {
	for _, tc := range []struct {
		s    Scheme
		n    int
		want int
	}{
		{Scheme{4, 2}, 0, 0},
		{Scheme{4, 2}, 1, 1},
		{Scheme{4, 2}, 4, 1},
		{Scheme{4, 2}, 5, 2},
		{Scheme{4, 2}, 8 << 20, 2 << 20},
		{Scheme{3, 2}, 8<<20 + 1, (8<<20 + 3) / 3},
		{Scheme{1, 0}, 7, 7},
	} {
		if got := tc.s.ShardSize(tc.n); got != tc.want {
			t.Errorf("%v.ShardSize(%d) = %d, want %d", tc.s, tc.n, got, tc.want)
		}
	}
	if got := (Scheme{4, 2}).String(); got != "4+2" {
		t.Errorf("String() = %q", got)
	}
}
