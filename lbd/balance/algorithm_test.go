package balance

import (
	"errors"
	"math"
	"strings"
	"testing"
)

var allAlgorithms = []Algorithm{RoundRobin, WeightedRoundRobin, LeastConn, LeastTime, PowerOfTwo, Random, RingHash, Maglev}

func TestParseAlgorithm(t *testing.T) {
	for _, a := range allAlgorithms {
		got, err := ParseAlgorithm(string(a))
		if err != nil || got != a {
			t.Errorf("ParseAlgorithm(%q) = %q, %v", a, got, err)
		}
	}
	if got, err := ParseAlgorithm("ip_hash"); err != nil || got != Maglev {
		t.Errorf(`ParseAlgorithm("ip_hash") = %q, %v; want maglev`, got, err)
	}
	for _, s := range []string{"", "roundrobin", "Round_Robin", " least_conn", "leastconn", "source"} {
		_, err := ParseAlgorithm(s)
		if !errors.Is(err, ErrUnknownAlgorithm) {
			t.Errorf("ParseAlgorithm(%q) error = %v, want ErrUnknownAlgorithm", s, err)
			continue
		}
		for _, name := range append(allAlgorithms, "ip_hash") {
			if !strings.Contains(err.Error(), string(name)) {
				t.Errorf("ParseAlgorithm(%q) error %q does not list %s", s, err, name)
			}
		}
	}
}

func FuzzParseAlgorithm(f *testing.F) {
	for _, a := range allAlgorithms {
		f.Add(string(a))
	}
	f.Add("ip_hash")
	f.Add("")
	f.Add("p2c\x00")
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAlgorithm(s)
		if err != nil {
			if !errors.Is(err, ErrUnknownAlgorithm) || a != "" {
				t.Fatalf("ParseAlgorithm(%q) = %q, %v", s, a, err)
			}
			return
		}
		if again, err := ParseAlgorithm(string(a)); err != nil || again != a {
			t.Fatalf("ParseAlgorithm(%q) = %q, but it does not parse back: %q, %v", s, a, again, err)
		}
		if _, err := New(a, makeBackends(1, 2), Options{}); err != nil {
			t.Fatalf("New(%q) after ParseAlgorithm(%q): %v", a, s, err)
		}
	})
}

func TestHashing(t *testing.T) {
	for _, a := range allAlgorithms {
		if want := a == RingHash || a == Maglev; a.Hashing() != want {
			t.Errorf("%s.Hashing() = %v", a, a.Hashing())
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	good := []Options{{}, {LoadFactor: 1}, {LoadFactor: math.Inf(1)}, {TableSize: 2}, {TableSize: 251}, {TableSize: MaxTableSize}, {RingSize: 1}, {RingSize: MaxRingSize}}
	for _, o := range good {
		if err := o.Validate(); err != nil {
			t.Errorf("%+v: %v", o, err)
		}
	}
	bad := []struct {
		o     Options
		field string
	}{
		{Options{LoadFactor: 0.99}, "LoadFactor"},
		{Options{LoadFactor: -1}, "LoadFactor"},
		{Options{LoadFactor: math.NaN()}, "LoadFactor"},
		{Options{TableSize: 1}, "TableSize"},
		{Options{TableSize: -7}, "TableSize"},
		{Options{TableSize: 65536}, "TableSize"},
		{Options{TableSize: 1 << 30}, "TableSize"},
		{Options{RingSize: -1}, "RingSize"},
		{Options{RingSize: MaxRingSize + 1}, "RingSize"},
	}
	for _, tc := range bad {
		err := tc.o.Validate()
		if !errors.Is(err, ErrInvalidOptions) || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%+v: error %v, want ErrInvalidOptions naming %s", tc.o, err, tc.field)
		}
		if _, err := New(Maglev, makeBackends(1), tc.o); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("New with %+v: error %v, want ErrInvalidOptions", tc.o, err)
		}
	}
}

func TestNewErrors(t *testing.T) {
	if _, err := New("ip_hash", makeBackends(1), Options{}); !errors.Is(err, ErrUnknownAlgorithm) {
		t.Errorf(`New("ip_hash"): %v, want ErrUnknownAlgorithm (ParseAlgorithm maps it)`, err)
	}
	if _, err := New("", makeBackends(1), Options{}); !errors.Is(err, ErrUnknownAlgorithm) {
		t.Errorf(`New(""): %v, want ErrUnknownAlgorithm`, err)
	}
	for _, a := range allAlgorithms {
		if _, err := New(a, []*Backend{NewBackend("a", "x:1", 1), nil}, Options{}); !errors.Is(err, ErrInvalidBackend) || !strings.Contains(err.Error(), "backends[1]") {
			t.Errorf("%s with a nil backend: %v", a, err)
		}
		dup := []*Backend{NewBackend("a", "x:1", 1), NewBackend("b", "x:2", 1), NewBackend("a", "x:3", 1)}
		if _, err := New(a, dup, Options{}); !errors.Is(err, ErrInvalidBackend) || !strings.Contains(err.Error(), `"a"`) {
			t.Errorf("%s with a repeated name: %v", a, err)
		}
	}
}

func TestEmptySet(t *testing.T) {
	for _, a := range allAlgorithms {
		for _, bs := range [][]*Backend{nil, {}} {
			p := mustNew(t, a, bs, Options{})
			if b := p.Pick(42, nil); b != nil {
				t.Errorf("%s: Pick on an empty set = %s", a, b.Name)
			}
		}
	}
}

// TestNewCopiesBackends: the picker keeps its set when the caller reuses the
// slice.
func TestNewCopiesBackends(t *testing.T) {
	for _, a := range allAlgorithms {
		bs := makeBackends(1, 1)
		p := mustNew(t, a, bs, Options{})
		other := NewBackend("other", "x:1", 1)
		bs[0], bs[1] = other, other
		for i := range 100 {
			if b := p.Pick(uint64(i)*golden, nil); b == other {
				t.Fatalf("%s: picked a backend put in the caller's slice after New", a)
			}
		}
	}
}
