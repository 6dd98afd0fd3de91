package varcodec

import (
	"encoding/binary"
	"errors"
	"testing"
)

var errBad = errors.New("bad")

func TestRoundTrip(t *testing.T) {
	b := binary.AppendUvarint(nil, 300)
	b = binary.AppendVarint(b, -7)
	b = AppendString(b, "héllo")
	b = AppendStrings(b, []string{"a", "", "ccc"})
	b = AppendStrings(b, nil)
	r := &Reader{B: b, Corrupt: errBad}
	if v := r.Uvarint(); v != 300 {
		t.Fatalf("Uvarint = %d", v)
	}
	if v := r.Varint(); v != -7 {
		t.Fatalf("Varint = %d", v)
	}
	if s := r.String(); s != "héllo" {
		t.Fatalf("String = %q", s)
	}
	if ss := r.Strings(0); len(ss) != 3 || ss[0] != "a" || ss[1] != "" || ss[2] != "ccc" {
		t.Fatalf("Strings = %q", ss)
	}
	if ss := r.Strings(0); ss != nil {
		t.Fatalf("empty Strings = %q, want nil", ss)
	}
	if r.Err != nil || len(r.B) != 0 {
		t.Fatalf("Err %v, %d bytes left", r.Err, len(r.B))
	}
}

// Malformed input sets the error, which sticks, and never allocates past
// the input: counts and lengths are checked against the bytes left.
func TestCorrupt(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    []byte
		read func(r *Reader)
	}{
		{"empty uvarint", nil, func(r *Reader) { r.Uvarint() }},
		{"empty varint", nil, func(r *Reader) { r.Varint() }},
		{"length past the end", binary.AppendUvarint(nil, 5), func(r *Reader) { _ = r.String() }},
		{"count past the end", binary.AppendUvarint(nil, 1<<40), func(r *Reader) { r.Strings(0) }},
		{"count above max", AppendStrings(nil, []string{"a", "b", "c"}), func(r *Reader) { r.Strings(2) }},
		{"truncated list", AppendStrings(nil, []string{"abc", "def"})[:6], func(r *Reader) { r.Strings(0) }},
	} {
		r := &Reader{B: tc.b, Corrupt: errBad}
		tc.read(r)
		if !errors.Is(r.Err, errBad) {
			t.Errorf("%s: Err = %v, want the Corrupt error", tc.name, r.Err)
		}
		if r.Uvarint() != 0 || r.String() != "" || r.Err != errBad {
			t.Errorf("%s: the error did not stick", tc.name)
		}
	}
}

func FuzzReader(f *testing.F) {
	f.Add(AppendStrings(AppendString(nil, "x"), []string{"a", "b"}))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := &Reader{B: b, Corrupt: errBad}
		for r.Err == nil && len(r.B) > 0 {
			r.Strings(1000)
			r.Varint()
		}
	})
}
