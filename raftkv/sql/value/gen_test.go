package value

import (
	"math"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/apd/v3"
)

// testRand returns a random source seeded from the clock, logging the seed
// so a failure can be replayed by pasting it in.
func testRand(t *testing.T) *rand.Rand {
	t.Helper()
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	return rand.New(rand.NewSource(seed))
}

// genTypes are the types the property tests draw values of.
var genTypes = []Type{
	Bool, Int2, Int4, Int8, Float4, Float8, Numeric, Text,
	{Kind: KindText, Varchar: true, Length: 8},
	{Kind: KindText, Fixed: true, Length: 6},
	Bytea, Timestamp, TimestampTZ, Date, JSONB,
}

// genValue returns a random non-NULL value of type t, biased to edge cases.
func genValue(r *rand.Rand, t Type) Value {
	switch t.Kind {
	case KindBool:
		return NewBool(r.Intn(2) == 1)
	case KindInt:
		var n int64
		switch r.Intn(6) {
		case 0:
			n = 0
		case 1:
			n = []int64{math.MinInt64, math.MaxInt64, math.MinInt32, math.MaxInt32, math.MinInt16, math.MaxInt16, -1, 1}[r.Intn(8)]
		case 2:
			n = r.Int63n(200) - 100
		default:
			n = r.Int63() - r.Int63()
		}
		switch t.Width {
		case 2:
			n = int64(int16(n))
		case 4:
			n = int64(int32(n))
		}
		return Value{Type: t, Int: n}
	case KindFloat:
		var f float64
		switch r.Intn(8) {
		case 0:
			f = []float64{0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.NaN(), math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64}[r.Intn(8)]
		case 1:
			f = float64(r.Intn(200) - 100)
		case 2:
			f = r.NormFloat64() * math.Pow(10, float64(r.Intn(40)-20))
		default:
			f = math.Float64frombits(r.Uint64())
		}
		if t.Width == 4 {
			f = float64(float32(f))
		}
		return Value{Type: t, Float: f}
	case KindNumeric:
		return Value{Type: t, Dec: genDec(r)}
	case KindText:
		s := genString(r)
		if t.Length > 0 {
			s = cutRunes(s, int(t.Length))
		}
		v, _ := fitText(s, t, true)
		return v
	case KindBytes:
		return NewBytes([]byte(genString(r)))
	case KindTimestamp, KindTimestampTZ:
		sec := r.Int63n(int64(400*365*86400)) - int64(200*365*86400)
		if r.Intn(5) == 0 {
			sec = r.Int63n(int64(4000*365*86400)) - int64(2000*365*86400)
		}
		tm := time.Unix(sec, int64(r.Intn(1000000))*1000).UTC()
		return Value{Type: t, Time: tm}
	case KindDate:
		tm := time.Unix((r.Int63n(4000*365)-2000*365)*86400, 0).UTC()
		return Value{Type: Date, Time: tm}
	case KindJSON:
		n := genJSON(r, 0)
		return Value{Type: JSONB, Str: string(appendJSON(nil, n))}
	}
	return NewUnknown(genString(r))
}

func genDec(r *rand.Rand) *apd.Decimal {
	switch r.Intn(12) {
	case 0:
		return &apd.Decimal{Form: apd.NaN}
	case 1:
		return &apd.Decimal{Form: apd.Infinite, Negative: r.Intn(2) == 0}
	case 2:
		d := apd.New(0, -int32(r.Intn(5)))
		return normDec(d)
	}
	var sb strings.Builder
	if r.Intn(2) == 0 {
		sb.WriteByte('-')
	}
	nd := 1 + r.Intn(30)
	if r.Intn(4) == 0 {
		nd = 1 + r.Intn(3)
	}
	for range nd {
		sb.WriteByte(byte('0' + r.Intn(10)))
	}
	if r.Intn(3) > 0 {
		sb.WriteByte('.')
		for range r.Intn(12) {
			sb.WriteByte(byte('0' + r.Intn(10)))
		}
		if r.Intn(3) == 0 {
			sb.WriteString("000")
		}
		sb.WriteByte('0')
	}
	if r.Intn(6) == 0 {
		sb.WriteString("e")
		sb.WriteString([]string{"-", "+", ""}[r.Intn(3)])
		sb.WriteString(string(rune('0' + r.Intn(10))))
	}
	d, err := parseNumeric(sb.String())
	if err != nil {
		panic(sb.String() + ": " + err.Error())
	}
	return d
}

var genAlphabet = []string{"", "a", "b", "ab", "\x00", "\x01", "\xff", " ", "é", "日本", "zz", "\x00\xff", "A"}

func genString(r *rand.Rand) string {
	var sb strings.Builder
	for range r.Intn(6) {
		s := genAlphabet[r.Intn(len(genAlphabet))]
		if s == "\xff" || s == "\x00\xff" {
			s = "ÿ"
		}
		sb.WriteString(s)
	}
	return sb.String()
}

func genJSON(r *rand.Rand, depth int) *jsonNode {
	k := jsonKind(r.Intn(6))
	if depth > 2 && k >= jsonArray {
		k = jsonString
	}
	n := &jsonNode{kind: k}
	switch k {
	case jsonBool:
		n.b = r.Intn(2) == 1
	case jsonNumber:
		d := genDec(r)
		if !isFiniteDec(d) {
			d = apd.New(int64(r.Intn(100)), -int32(r.Intn(3)))
			d = normDec(d)
		}
		n.num = d
	case jsonString:
		n.s = strings.ReplaceAll(genString(r), "\x00", "0")
	case jsonArray:
		for range r.Intn(4) {
			n.arr = append(n.arr, genJSON(r, depth+1))
		}
	case jsonObject:
		m := map[string]*jsonNode{}
		var keys []string
		for range r.Intn(4) {
			k := strings.ReplaceAll(genString(r), "\x00", "0")
			if _, ok := m[k]; !ok {
				keys = append(keys, k)
			}
			m[k] = genJSON(r, depth+1)
		}
		return newJSONObject(keys, m)
	}
	return n
}
