package value

import (
	"bytes"
	"testing"
)

// TestKeyOrderMatchesCompare checks, for random values of every type, that
// the key bytes compare as the values do (ascending and descending) and
// that every key decodes back to an equal value.
func TestKeyOrderMatchesCompare(t *testing.T) {
	r := testRand(t)
	for _, typ := range genTypes {
		vals := []Value{NullOf(typ)}
		for range 150 {
			vals = append(vals, genValue(r, typ))
		}
		for i, a := range vals {
			for _, desc := range []bool{false, true} {
				ka := AppendKey(nil, a, desc)
				got, rest, err := DecodeKey(append(ka, 0x42), typ, desc)
				if err != nil {
					t.Fatalf("%s: DecodeKey(%v desc=%v): %v", typ, a, desc, err)
				}
				if !bytes.Equal(rest, []byte{0x42}) {
					t.Fatalf("%s: DecodeKey(%v) left %x, want 42", typ, a, rest)
				}
				if c, err := Compare(got, a); err != nil || c != 0 || got.Null != a.Null {
					t.Fatalf("%s: key round trip %v → %v (cmp %d, %v)", typ, a, got, c, err)
				}
			}
			for _, b := range vals[i:] {
				want, err := Compare(a, b)
				if err != nil {
					t.Fatalf("%s: Compare(%v, %v): %v", typ, a, b, err)
				}
				asc := bytes.Compare(AppendKey(nil, a, false), AppendKey(nil, b, false))
				desc := bytes.Compare(AppendKey(nil, a, true), AppendKey(nil, b, true))
				if sign(asc) != sign(want) || sign(desc) != -sign(want) {
					t.Fatalf("%s: Compare(%v, %v) = %d but asc keys %d, desc keys %d\n%x\n%x", typ, a, b, want, asc, desc, AppendKey(nil, a, false), AppendKey(nil, b, false))
				}
			}
		}
	}
}

// TestKeyCompositeOrder checks that concatenated elements order tuples
// lexicographically, including prefix strings and NUL bytes.
func TestKeyCompositeOrder(t *testing.T) {
	r := testRand(t)
	type tuple struct {
		a Value
		b Value
	}
	var ts []tuple
	for range 300 {
		a := genValue(r, Text)
		if r.Intn(8) == 0 {
			a = NullOf(Text)
		}
		ts = append(ts, tuple{a, genValue(r, Int4)})
	}
	for _, descA := range []bool{false, true} {
		for i := range ts {
			for j := range ts {
				x, y := ts[i], ts[j]
				want, _ := Compare(x.a, y.a)
				if descA {
					want = -want
				}
				if want == 0 {
					want, _ = Compare(x.b, y.b)
				}
				kx := AppendKey(AppendKey(nil, x.a, descA), x.b, false)
				ky := AppendKey(AppendKey(nil, y.a, descA), y.b, false)
				if sign(bytes.Compare(kx, ky)) != sign(want) {
					t.Fatalf("(%q,%v) vs (%q,%v) desc=%v: keys %d, want %d", x.a.Str, x.b, y.a.Str, y.b, descA, bytes.Compare(kx, ky), want)
				}
			}
		}
	}
}

func TestKeyEqualValuesEncodeEqually(t *testing.T) {
	n := func(s string) Value {
		v, err := NumericFromString(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	char := Type{Kind: KindText, Fixed: true, Length: 5}
	pairs := [][2]Value{
		{n("1.0"), n("1.00")},
		{n("1"), n("1.000")},
		{n("-0.50"), n("-0.5")},
		{n("0"), n("-0.000")},
		{n("1e3"), n("1000.0")},
		{NewFloat(0), NewFloat(-1 * 0.0)},
		{NewFloat(nan()), NewFloat(-nan())},
		{Value{Type: char, Str: "ab   "}, Value{Type: char, Str: "ab"}},
	}
	for _, p := range pairs {
		for _, desc := range []bool{false, true} {
			if a, b := AppendKey(nil, p[0], desc), AppendKey(nil, p[1], desc); !bytes.Equal(a, b) {
				t.Errorf("%v and %v encode differently: %x vs %x", p[0], p[1], a, b)
			}
		}
	}
	// NaN sorts after +Infinity, NULL before everything (ascending).
	order := []Value{NullOf(Float8), NewFloat(negInf()), NewFloat(-1), NewFloat(0), NewFloat(posInf()), NewFloat(nan())}
	for i := 1; i < len(order); i++ {
		if bytes.Compare(AppendKey(nil, order[i-1], false), AppendKey(nil, order[i], false)) >= 0 {
			t.Errorf("%v should sort before %v", order[i-1], order[i])
		}
	}
	dorder := []Value{NullOf(Numeric), n("-Infinity"), n("-12.5"), n("-1"), n("0"), n("0.001"), n("1"), n("12.5"), n("Infinity"), n("NaN")}
	for i := 1; i < len(dorder); i++ {
		if bytes.Compare(AppendKey(nil, dorder[i-1], false), AppendKey(nil, dorder[i], false)) >= 0 {
			t.Errorf("%v should sort before %v", dorder[i-1], dorder[i])
		}
	}
}

func TestDecodeKeyRejectsGarbage(t *testing.T) {
	for _, typ := range genTypes {
		for _, b := range [][]byte{nil, {0x07}, {0x01}, {0x01, 0x00}} {
			if _, _, err := DecodeKey(b, typ, false); err == nil && typ.Kind != KindBool && typ.Kind != KindJSON {
				t.Errorf("%s: DecodeKey(%x) accepted garbage", typ, b)
			}
		}
	}
}

func FuzzDecodeKey(f *testing.F) {
	f.Add([]byte{0x01, 0x04, 0x80, 0, 0, 1, 11, 0}, uint8(6), false)
	f.Add([]byte{0x01, 'a', 0, 1}, uint8(5), true)
	f.Fuzz(func(t *testing.T, b []byte, k uint8, desc bool) {
		typ := genTypes[int(k)%len(genTypes)]
		v, _, err := DecodeKey(b, typ, desc)
		if err != nil {
			return
		}
		// Whatever decodes re-encodes and decodes to an equal value.
		k2 := AppendKey(nil, v, desc)
		v2, _, err := DecodeKey(k2, typ, desc)
		if err != nil {
			t.Fatalf("re-decode of %v: %v", v, err)
		}
		if c, err := Compare(v, v2); err != nil || c != 0 {
			t.Fatalf("%v re-decoded as %v", v, v2)
		}
	})
}

func TestDecodeKeyRestoresDeclaredScale(t *testing.T) {
	for _, in := range []string{"25.00", "-0.50", "0.00", "12345678.90"} {
		v, err := ParseText(num10_2, []byte(in))
		if err != nil {
			t.Fatal(err)
		}
		for _, desc := range []bool{false, true} {
			got, _, err := DecodeKey(AppendKey(nil, v, desc), num10_2, desc)
			if err != nil || got.String() != in || got.Type != num10_2 {
				t.Errorf("numeric(10,2) %s decodes as %v (%s), %v", in, got, got.Type, err)
			}
		}
	}
	v := mustNum(t, "1.50")
	if got, _, _ := DecodeKey(AppendKey(nil, v, false), Numeric, false); got.String() != "1.5" {
		t.Errorf("unconstrained 1.50 decodes as %v, want 1.5", got)
	}
}
