package mapping

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"cairn.dev/cairn/searchd/analysis"
)

const productMapping = `{
  "dynamic": "strict",
  "properties": {
    "title": {"type": "text", "analyzer": "english", "search_analyzer": "standard",
              "fields": {"raw": {"type": "keyword", "ignore_above": 15}}},
    "tags": {"type": "keyword"},
    "price": {"type": "double"},
    "stock": {"type": "integer", "doc_values": false},
    "rating": {"type": "float", "index": false},
    "launched": {"type": "date"},
    "updated": {"type": "date", "format": "yyyy-MM-dd HH:mm:ss||epoch_second"},
    "active": {"type": "boolean"},
    "owner": {"properties": {"name": {"type": "text"}, "address": {"dynamic": true, "properties": {"city": {"type": "keyword"}}}}}
  }
}`

func mustParse(t *testing.T, js string) *Mapping {
	t.Helper()
	m, err := Parse([]byte(js))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return m
}

func TestParseAndLookup(t *testing.T) {
	m := mustParse(t, productMapping)
	if m.Dynamic != DynamicStrict {
		t.Errorf("dynamic = %q", m.Dynamic)
	}
	title, ok := m.Lookup("title")
	if !ok || title.Type != Text || title.Analyzer != "english" || title.QueryAnalyzer() != "standard" || title.DocValues || !title.Index {
		t.Fatalf("title = %+v", title)
	}
	raw, ok := m.Lookup("title.raw")
	if !ok || raw.Type != Keyword || raw.IgnoreAbove != 15 || !raw.DocValues {
		t.Fatalf("title.raw = %+v", raw)
	}
	if f, ok := m.Lookup("stock"); !ok || f.DocValues || !f.Index {
		t.Errorf("stock = %+v", f)
	}
	if f, ok := m.Lookup("rating"); !ok || f.Index || !f.DocValues {
		t.Errorf("rating = %+v", f)
	}
	if f, ok := m.Lookup("owner.address.city"); !ok || f.Type != Keyword {
		t.Errorf("owner.address.city = %+v", f)
	}
	if f, ok := m.Lookup("owner"); !ok || f.Type != Object {
		t.Errorf("owner = %+v", f)
	}
	for _, missing := range []string{"nope", "title.nope", "owner.nope", "tags.x", ""} {
		if _, ok := m.Lookup(missing); ok {
			t.Errorf("Lookup(%q) found a field", missing)
		}
	}
	if n := m.Count(); n != 13 {
		t.Errorf("Count = %d, want 13", n)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	for _, js := range []string{
		productMapping,
		`{"properties":{"a.b":{"type":"long"},"a":{"properties":{"c":{"type":"boolean"}}}}}`,
		`{"dynamic":false,"date_detection":false,"properties":{"e":{"type":"object"}}}`,
		``,
	} {
		m := mustParse(t, js)
		out := m.JSON()
		m2, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(JSON()) of %s: %v (JSON %s)", js, err, out)
		}
		if got := m2.JSON(); string(got) != string(out) {
			t.Errorf("round trip changed:\n%s\n%s", out, got)
		}
	}
	m := mustParse(t, `{"properties":{"t":{"type":"text","fields":{"k":{"type":"keyword","ignore_above":256}}},"o":{"properties":{"n":{"type":"long","index":false}}}}}`)
	want := `{"properties":{"o":{"properties":{"n":{"type":"long","index":false}}},"t":{"type":"text","fields":{"k":{"type":"keyword","ignore_above":256}}}}}`
	if got := string(m.JSON()); got != want {
		t.Errorf("JSON =\n%s\nwant\n%s", got, want)
	}
	m = mustParse(t, `{"properties":{"a.b":{"type":"long"}}}`)
	if f, ok := m.Lookup("a.b"); !ok || f.Type != Long {
		t.Errorf("dotted definition: %+v", f)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		js   string
		want error
		msg  string
	}{
		{`{"properties":{"a":{"type":"strnig"}}}`, ErrInvalid, "field [a]: unknown type [strnig]"},
		{`{"properties":{"a":{"type":"keyword","analyzer":"x"}}}`, ErrInvalid, "[analyzer] is not a parameter of type [keyword]"},
		{`{"properties":{"a":{"type":"text","doc_values":true}}}`, ErrInvalid, "field [a]"},
		{`{"properties":{"o":{"properties":{"b":{"type":"date","format":"yyyy-qq"}}}}}`, ErrInvalid, "field [o.b]: format"},
		{`{"properties":{"a":{"type":"text","bogus":1}}}`, ErrInvalid, "unknown parameter [bogus]"},
		{`{"properties":{"a":{}}}`, ErrInvalid, "no type specified"},
		{`{"dynamic":"sometimes"}`, ErrInvalid, "dynamic"},
		{`{"dynamic_templates":[]}`, ErrInvalid, "dynamic_templates"},
		{`{"properties":{"a":{"type":"nested"}}}`, ErrInvalid, "nested"},
		{`{"properties":`, ErrParse, "offset"},
		{`{"properties":{"a..b":{"type":"long"}}}`, ErrInvalid, "a..b"},
	}
	for _, tc := range tests {
		_, err := Parse([]byte(tc.js))
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("Parse(%s) = %v, want %v containing %q", tc.js, err, tc.want, tc.msg)
		}
	}
	if m := mustParse(t, `{"dynamic":true}`); m.Dynamic != DynamicTrue {
		t.Error("dynamic as bool")
	}
	if m := mustParse(t, `{"mappings":{"dynamic":"false"}}`); m.Dynamic != DynamicFalse {
		t.Error("mappings wrapper")
	}
}

func TestMerge(t *testing.T) {
	m := mustParse(t, `{"properties":{"a":{"type":"text"},"o":{"properties":{"x":{"type":"long"}}}}}`)
	add := mustParse(t, `{"dynamic":"strict","properties":{"b":{"type":"keyword"},"o":{"properties":{"y":{"type":"date"}}},"a":{"type":"text","fields":{"k":{"type":"keyword"}}}}}`)
	merged, err := m.Merge(add)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"a", "a.k", "b", "o.x", "o.y"} {
		if _, ok := merged.Lookup(p); !ok {
			t.Errorf("merged lacks %s", p)
		}
	}
	if merged.Dynamic != DynamicStrict {
		t.Errorf("dynamic = %q", merged.Dynamic)
	}
	// m itself is unchanged.
	if _, ok := m.Lookup("o.y"); ok {
		t.Error("Merge modified m")
	}
	if _, ok := m.Lookup("a.k"); ok {
		t.Error("Merge modified m's field")
	}
	for _, bad := range []string{
		`{"properties":{"a":{"type":"keyword"}}}`,
		`{"properties":{"o":{"properties":{"x":{"type":"integer"}}}}}`,
		`{"properties":{"o":{"type":"long"}}}`,
		`{"properties":{"a":{"type":"text","analyzer":"simple"}}}`,
	} {
		if _, err := m.Merge(mustParse(t, bad)); !errors.Is(err, ErrConflict) {
			t.Errorf("Merge(%s) = %v, want ErrConflict", bad, err)
		}
	}
}

func parseDoc(t *testing.T, m *Mapping, doc string) (*Document, *Mapping) {
	t.Helper()
	d, add, err := m.ParseDocument("1", []byte(doc), nil)
	if err != nil {
		t.Fatalf("ParseDocument(%s): %v", doc, err)
	}
	return d, add
}

// values returns the document's values of path.
func values(d *Document, path string) []FieldValue {
	var out []FieldValue
	for _, fv := range d.Fields {
		if fv.Path == path {
			out = append(out, fv)
		}
	}
	return out
}

func termsOf(fv FieldValue) string {
	var parts []string
	for _, tok := range fv.Tokens {
		parts = append(parts, tok.Term+"@"+itoa(tok.Position))
	}
	return strings.Join(parts, " ")
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestParseDocument(t *testing.T) {
	m := mustParse(t, productMapping)
	d, add := parseDoc(t, m, `{
	  "title": ["Running Shoes", "A batteries' charger"],
	  "tags": ["a", null, "b"],
	  "price": 12.5, "stock": "42", "rating": 4.25,
	  "launched": "2024-03-01T10:20:30.5+01:00",
	  "updated": 1700000000,
	  "active": "true",
	  "owner": {"name": "Zoë", "address": {"city": "Oslo", "zip": "0150"}}
	}`)
	if add == nil {
		t.Fatal("owner.address is dynamic: zip must be added")
	}
	if f, ok := add.Lookup("owner.address.zip"); !ok || f.Type != Text {
		t.Fatalf("additions = %s", add.JSON())
	}
	titles := values(d, "title")
	if len(titles) != 2 {
		t.Fatalf("title values = %+v", titles)
	}
	if got := termsOf(titles[0]); got != "run@0 shoe@1" {
		t.Errorf("title[0] = %s", got)
	}
	if got := termsOf(titles[1]); got != "batteri@103 charger@104" {
		t.Errorf("title[1] = %s (positions continue with a gap of 100)", got)
	}
	if got := titles[0].Surface; !reflect.DeepEqual(got, []string{"running", "shoes"}) {
		t.Errorf("surface = %q", got)
	}
	raws := values(d, "title.raw")
	// "A batteries' charger" is over ignore_above 15.
	if len(raws) != 1 || raws[0].Keyword != "Running Shoes" || termsOf(raws[0]) != "Running Shoes@0" {
		t.Errorf("title.raw = %+v", raws)
	}
	if tags := values(d, "tags"); len(tags) != 2 || tags[0].Keyword != "a" || tags[1].Keyword != "b" || termsOf(tags[1]) != "b@0" {
		t.Errorf("tags = %+v", tags)
	}
	if v := values(d, "price"); len(v) != 1 || v[0].Float != 12.5 || v[0].Type != Double {
		t.Errorf("price = %+v", v)
	}
	if v := values(d, "stock"); len(v) != 1 || v[0].Int != 42 || v[0].DocValues {
		t.Errorf("stock = %+v", v)
	}
	if v := values(d, "rating"); len(v) != 1 || v[0].Indexed || v[0].Float != 4.25 {
		t.Errorf("rating = %+v", v)
	}
	want := time.Date(2024, 3, 1, 9, 20, 30, 500e6, time.UTC).UnixMilli()
	if v := values(d, "launched"); len(v) != 1 || v[0].Int != want {
		t.Errorf("launched = %+v, want %d", v, want)
	}
	if v := values(d, "updated"); len(v) != 1 || v[0].Int != 1700000000000 {
		t.Errorf("updated = %+v", v)
	}
	if v := values(d, "active"); len(v) != 1 || v[0].Int != 1 {
		t.Errorf("active = %+v", v)
	}
	if v := values(d, "owner.name"); len(v) != 1 || termsOf(v[0]) != "zoe@0" {
		t.Errorf("owner.name = %+v", v)
	}
	if v := values(d, "owner.address.city"); len(v) != 1 || v[0].Keyword != "Oslo" {
		t.Errorf("owner.address.city = %+v", v)
	}
	if v := values(d, "owner.address.zip.keyword"); len(v) != 1 || v[0].Keyword != "0150" {
		t.Errorf("owner.address.zip.keyword = %+v", v)
	}
	if d.ID != "1" || !strings.Contains(string(d.Source), "Oslo") {
		t.Errorf("id/source = %q %q", d.ID, d.Source)
	}
}

func TestIgnoreAbove(t *testing.T) {
	m := mustParse(t, `{"properties":{"k":{"type":"keyword","ignore_above":3}}}`)
	d, _ := parseDoc(t, m, `{"k":["abc","abcd","äöü"]}`)
	v := values(d, "k")
	if len(v) != 2 || v[0].Keyword != "abc" || v[1].Keyword != "äöü" {
		t.Errorf("k = %+v", v)
	}
}

func TestDynamicMapping(t *testing.T) {
	m := mustParse(t, `{"properties":{"known":{"type":"keyword"}}}`)
	d, add := parseDoc(t, m, `{"known":"x","s":"hello world","n":42,"f":1.5,"b":true,"d":"2024-01-02",
	  "d2":"2024/01/02 10:11:12","num":"123","empty":[],"nul":null,"arr":[null,7],"o":{"p":{"q":"deep"}},"dot.ted":1}`)
	if add == nil {
		t.Fatal("no additions")
	}
	want := map[string]Type{"s": Text, "s.keyword": Keyword, "n": Long, "f": Float, "b": Boolean, "d": Date,
		"d2": Date, "num": Text, "arr": Long, "o": Object, "o.p": Object, "o.p.q": Text, "dot": Object, "dot.ted": Long}
	for path, typ := range want {
		f, ok := add.Lookup(path)
		if !ok || f.Type != typ {
			t.Errorf("addition %s = %+v, want %s", path, f, typ)
		}
	}
	for _, none := range []string{"known", "empty", "nul"} {
		if _, ok := add.Lookup(none); ok {
			t.Errorf("%s must not be added", none)
		}
	}
	if kw, _ := add.Lookup("s.keyword"); kw.IgnoreAbove != 256 {
		t.Errorf("s.keyword ignore_above = %d", kw.IgnoreAbove)
	}
	if v := values(d, "o.p.q"); len(v) != 1 || termsOf(v[0]) != "deep@0" {
		t.Errorf("o.p.q = %+v", v)
	}
	if v := values(d, "d"); len(v) != 1 || v[0].Int != time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC).UnixMilli() {
		t.Errorf("d = %+v", v)
	}
	if v := values(d, "arr"); len(v) != 1 || v[0].Int != 7 {
		t.Errorf("arr = %+v", v)
	}
	merged, err := m.Merge(add)
	if err != nil {
		t.Fatal(err)
	}
	// The same document against the merged mapping adds nothing.
	if _, again := parseDoc(t, merged, `{"s":"x","o":{"p":{"q":"y"}},"dot.ted":2}`); again != nil {
		t.Errorf("second parse added %s", again.JSON())
	}
	// The first value decides; later values are coerced.
	_, add = parseDoc(t, m, `{"mixed":["text", 5, true]}`)
	if f, _ := add.Lookup("mixed"); f.Type != Text {
		t.Errorf("mixed = %+v", f)
	}
	nodetect := mustParse(t, `{"date_detection":false}`)
	if _, add := parseDoc(t, nodetect, `{"d":"2024-01-02"}`); add == nil {
		t.Fatal("no additions")
	} else if f, _ := add.Lookup("d"); f.Type != Text {
		t.Errorf("date_detection false: d = %+v", f)
	}
}

func TestDynamicFalseAndStrict(t *testing.T) {
	m := mustParse(t, `{"dynamic":false,"properties":{"a":{"type":"keyword"},"o":{"dynamic":"strict","properties":{}}}}`)
	d, add := parseDoc(t, m, `{"a":"x","b":{"c":[1,2,{"d":null}]},"e":"y"}`)
	if add != nil || len(d.Fields) != 1 {
		t.Errorf("dynamic false: fields %+v additions %v", d.Fields, add)
	}
	_, _, err := m.ParseDocument("1", []byte(`{"o":{"z":1}}`), nil)
	if !errors.Is(err, ErrStrict) || !strings.Contains(err.Error(), "[z] within [o]") {
		t.Errorf("strict object: %v", err)
	}
	strict := mustParse(t, `{"dynamic":"strict","properties":{"a":{"type":"keyword"}}}`)
	_, _, err = strict.ParseDocument("1", []byte(`{"a":"x","b":1}`), nil)
	if !errors.Is(err, ErrStrict) || !strings.Contains(err.Error(), "[b]") {
		t.Errorf("strict: %v", err)
	}
	_, _, err = strict.ParseDocument("1", []byte(`{"x.y":1}`), nil)
	if !errors.Is(err, ErrStrict) {
		t.Errorf("strict dotted: %v", err)
	}
}

func TestTypeErrors(t *testing.T) {
	m := mustParse(t, `{"properties":{"l":{"type":"long"},"i":{"type":"integer"},"b":{"type":"byte"},"f":{"type":"float"},
	  "d":{"type":"date"},"bo":{"type":"boolean"},"k":{"type":"keyword"},"o":{"properties":{"x":{"type":"long"}}}}}`)
	tests := []struct{ doc, msg string }{
		{`{"l":1.5}`, "field [l] of type [long]: value [1.5] is not an integer"},
		{`{"l":"abc"}`, "field [l] of type [long]: value [abc] is not a number"},
		{`{"l":9223372036854775808}`, "out of range"},
		{`{"i":3000000000}`, "out of range for type [integer]"},
		{`{"b":128}`, "out of range for type [byte]"},
		{`{"l":true}`, "field [l]"},
		{`{"f":1e39}`, "out of range for type [float]"},
		{`{"f":"NaN"}`, "is not a number"},
		{`{"d":"yesterday"}`, "failed to parse date [yesterday]"},
		{`{"d":"2024-02-30"}`, "failed to parse date"},
		{`{"bo":"yes"}`, "field [bo] of type [boolean]"},
		{`{"bo":1}`, "field [bo]"},
		{`{"k":{"a":1}}`, "field [k] of type [keyword] cannot take an object"},
		{`{"o":5}`, "object field [o]"},
		{`{"_id":"x"}`, "metadata field"},
		{`{"o.x":1.25}`, "field [o.x]"},
	}
	for _, tc := range tests {
		_, _, err := m.ParseDocument("1", []byte(tc.doc), nil)
		if !errors.Is(err, ErrType) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("ParseDocument(%s) = %v, want ErrType containing %q", tc.doc, err, tc.msg)
		}
	}
	d, _ := parseDoc(t, m, `{"l":"12","i":2.0,"l2":1,"bo":"","k":12.50,"f":0.1}`)
	if v := values(d, "l"); v[0].Int != 12 {
		t.Errorf("l = %+v", v)
	}
	if v := values(d, "i"); v[0].Int != 2 {
		t.Errorf("i = %+v", v)
	}
	if v := values(d, "k"); v[0].Keyword != "12.50" {
		t.Errorf("k = %+v", v)
	}
	if v := values(d, "f"); v[0].Float != float64(float32(0.1)) {
		t.Errorf("f = %+v", v)
	}
}

func TestMalformed(t *testing.T) {
	m := mustParse(t, ``)
	for _, doc := range []string{`{"a":}`, `{"a":1`, `[1]`, `{"a":1} x`, `{"a":"\x01"}`, `{"a":01}`, `{"a":tru}`, `{"a":"\u12"}`, ``, `{"a" 1}`} {
		_, _, err := m.ParseDocument("1", []byte(doc), nil)
		if !errors.Is(err, ErrParse) || !strings.Contains(err.Error(), "offset") {
			t.Errorf("ParseDocument(%q) = %v, want ErrParse with an offset", doc, err)
		}
	}
	d, _ := parseDoc(t, m, `{"s":"a\"b\u00e9\ud83d\ude00\n"}`)
	if v := values(d, "s.keyword"); len(v) != 1 || v[0].Keyword != "a\"bé😀\n" {
		t.Errorf("escapes: %+v", v)
	}
}

func TestLimits(t *testing.T) {
	m, err := ParseLimits([]byte(`{"properties":{"a":{"type":"long"}}}`), Limits{TotalFields: 3})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := m.ParseDocument("1", []byte(`{"b":1,"c":2}`), nil); err != nil {
		t.Fatalf("within the limit: %v", err)
	}
	_, _, err = m.ParseDocument("1", []byte(`{"b":1,"c":2,"d":3}`), nil)
	if !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), "total fields [3]") {
		t.Errorf("fields limit: %v", err)
	}
	deep := strings.Repeat(`{"a":`, 21) + "1" + strings.Repeat("}", 21)
	_, _, err = mustParse(t, ``).ParseDocument("1", []byte(deep), nil)
	if !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), "depth [20]") {
		t.Errorf("depth limit: %v", err)
	}
	ok := strings.Repeat(`{"a":`, 20) + "1" + strings.Repeat("}", 20)
	if _, _, err := mustParse(t, ``).ParseDocument("1", []byte(ok), nil); err != nil {
		t.Errorf("depth 20: %v", err)
	}
	nested := `{"a":` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + "}"
	if _, _, err := mustParse(t, ``).ParseDocument("1", []byte(nested), nil); !errors.Is(err, ErrLimit) {
		t.Errorf("array nesting: %v", err)
	}
	big := `{"properties":{` + strings.Repeat(`"x":{"type":"long"},`, 0)
	var b strings.Builder
	b.WriteString(big)
	for i := 0; i < 1001; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"f` + itoa(i) + `":{"type":"long"}`)
	}
	b.WriteString("}}")
	if _, err := Parse([]byte(b.String())); !errors.Is(err, ErrLimit) {
		t.Errorf("mapping over 1000 fields: %v", err)
	}
}

func TestDates(t *testing.T) {
	utc := func(y, mo, d, h, mi, s, ms int) int64 {
		return time.Date(y, time.Month(mo), d, h, mi, s, ms*1e6, time.UTC).UnixMilli()
	}
	tests := []struct {
		format, value string
		want          int64
	}{
		{"", "2024", utc(2024, 1, 1, 0, 0, 0, 0)},
		{"", "2024-05", utc(2024, 5, 1, 0, 0, 0, 0)},
		{"", "2024-05-06T07", utc(2024, 5, 6, 7, 0, 0, 0)},
		{"", "2024-05-06T07:08:09Z", utc(2024, 5, 6, 7, 8, 9, 0)},
		{"", "2024-05-06T07:08:09.123456789-0230", utc(2024, 5, 6, 9, 38, 9, 123)},
		{"", "1700000000123", 1700000000123},
		{"epoch_second", "1700000000", 1700000000000},
		{"epoch_second", "1700000000.5", 1700000000500},
		{"yyyy-MM-dd", "2020-02-29", utc(2020, 2, 29, 0, 0, 0, 0)},
		{"dd/MM/yyyy HH:mm", "31/12/1999 23:59", utc(1999, 12, 31, 23, 59, 0, 0)},
		{"dd MMM yyyy", "05 Mar 2021", utc(2021, 3, 5, 0, 0, 0, 0)},
		{"yyyy-MM-dd'T'HH:mm:ssZ", "2021-03-05T01:02:03+01:00", utc(2021, 3, 5, 0, 2, 3, 0)},
		{"basic_date", "20210305", utc(2021, 3, 5, 0, 0, 0, 0)},
		{"strict_date||epoch_millis", "0", 0},
	}
	for _, tc := range tests {
		f := &Field{Type: Date, Format: tc.format}
		got, err := f.ParseDate(tc.value)
		if err != nil || got != tc.want {
			t.Errorf("format %q value %q = %d, %v; want %d", tc.format, tc.value, got, err, tc.want)
		}
	}
	for _, bad := range []string{"2024-13-01", "2024-01-01T25:00", "2024-01-01T10:00+", "24-01-01", "2024-01-01 10:00", "abc"} {
		if _, err := (&Field{Type: Date}).ParseDate(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	m := mustParse(t, `{"properties":{"d":{"type":"date","format":"yyyy||epoch_second"}}}`)
	d, _ := parseDoc(t, m, `{"d":[1700000000, "2001"]}`)
	if v := values(d, "d"); len(v) != 2 || v[0].Int != 1700000000000 || v[1].Int != utc(2001, 1, 1, 0, 0, 0, 0) {
		t.Errorf("d = %+v", v)
	}
}

func TestNormalizer(t *testing.T) {
	reg, err := analysis.NewRegistry([]byte(`{"normalizer":{"fold":{"type":"custom","filter":["lowercase","asciifolding"]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	m := mustParse(t, `{"properties":{"k":{"type":"keyword","normalizer":"fold"},"l":{"type":"keyword","normalizer":"lowercase"},"u":{"type":"keyword","normalizer":"nope"}}}`)
	if !strings.Contains(string(m.JSON()), `"normalizer":"fold"`) {
		t.Errorf("JSON = %s", m.JSON())
	}
	d, _, err := m.ParseDocument("1", []byte(`{"k":"Crème BRÛLÉE","l":"ABC"}`), reg)
	if err != nil {
		t.Fatal(err)
	}
	if v := values(d, "k"); len(v) != 1 || v[0].Keyword != "creme brulee" || termsOf(v[0]) != "creme brulee@0" {
		t.Errorf("k = %+v", v)
	}
	if v := values(d, "l"); len(v) != 1 || v[0].Keyword != "abc" {
		t.Errorf("l = %+v", v)
	}
	if _, _, err := m.ParseDocument("1", []byte(`{"u":"x"}`), reg); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown normalizer: %v", err)
	}
	if err := m.CheckAnalyzers(reg); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "[u]") {
		t.Errorf("CheckAnalyzers = %v", err)
	}
	if _, err := Parse([]byte(`{"properties":{"t":{"type":"text","normalizer":"lowercase"}}}`)); !errors.Is(err, ErrInvalid) {
		t.Errorf("normalizer on text: %v", err)
	}
}

func TestNullValue(t *testing.T) {
	mustParse(t, `{"properties":{"k":{"type":"keyword","normalizer":"custom_one","null_value":"NULL"}}}`)
	m := mustParse(t, `{"properties":{"k":{"type":"keyword","null_value":"NULL"},"n":{"type":"long","null_value":-1},"b":{"type":"boolean","null_value":false},"p":{"type":"keyword"}}}`)
	if got := string(m.JSON()); !strings.Contains(got, `"null_value":"NULL"`) || !strings.Contains(got, `"null_value":-1`) {
		t.Errorf("JSON = %s", got)
	}
	d, _ := parseDoc(t, m, `{"k":null,"n":[1,null],"b":null,"p":null}`)
	if v := values(d, "k"); len(v) != 1 || v[0].Keyword != "NULL" {
		t.Errorf("k = %+v", v)
	}
	if v := values(d, "n"); len(v) != 2 || v[1].Int != -1 {
		t.Errorf("n = %+v", v)
	}
	if v := values(d, "b"); len(v) != 1 || v[0].Int != 0 {
		t.Errorf("b = %+v", v)
	}
	if v := values(d, "p"); len(v) != 0 {
		t.Errorf("p = %+v", v)
	}
	for _, bad := range []string{
		`{"properties":{"n":{"type":"long","null_value":"abc"}}}`,
		`{"properties":{"t":{"type":"text","null_value":"x"}}}`,
		`{"properties":{"k":{"type":"keyword","null_value":[1]}}}`,
	} {
		if _, err := Parse([]byte(bad)); !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%s) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestCopyTo(t *testing.T) {
	m := mustParse(t, `{"properties":{
	  "first": {"type":"text","copy_to":"full"},
	  "last": {"type":"text","copy_to":["full","names"]},
	  "full": {"type":"text","fields":{"raw":{"type":"keyword"}}},
	  "names": {"type":"keyword"},
	  "bad": {"type":"keyword","copy_to":"nowhere"}}}`)
	if got := string(m.JSON()); !strings.Contains(got, `"copy_to":["full","names"]`) || !strings.Contains(got, `"copy_to":["full"]`) {
		t.Errorf("JSON = %s", got)
	}
	d, _ := parseDoc(t, m, `{"first":"John","last":"Smith"}`)
	full := values(d, "full")
	if len(full) != 2 || termsOf(full[0]) != "john@0" || termsOf(full[1]) != "smith@101" {
		t.Errorf("full = %+v", full)
	}
	if raw := values(d, "full.raw"); len(raw) != 2 || raw[1].Keyword != "Smith" {
		t.Errorf("full.raw = %+v", raw)
	}
	if names := values(d, "names"); len(names) != 1 || names[0].Keyword != "Smith" {
		t.Errorf("names = %+v", names)
	}
	if _, _, err := m.ParseDocument("1", []byte(`{"bad":"x"}`), nil); !errors.Is(err, ErrType) || !strings.Contains(err.Error(), "[nowhere]") {
		t.Errorf("unmapped copy_to target: %v", err)
	}
	if _, err := Parse([]byte(`{"properties":{"a":{"type":"text","fields":{"k":{"type":"keyword","copy_to":"b"}}}}}`)); !errors.Is(err, ErrInvalid) {
		t.Errorf("copy_to on a multi-field: %v", err)
	}
}

func TestCustomAnalyzerInDocument(t *testing.T) {
	reg, err := analysis.NewRegistry([]byte(`{"analyzer":{"syn":{"tokenizer":"standard","filter":["lowercase","s"]}},
	  "filter":{"s":{"type":"synonym","synonyms":["tv, television"]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	m := mustParse(t, `{"properties":{"t":{"type":"text","analyzer":"syn"},"u":{"type":"text","analyzer":"nope"}}}`)
	d, _, err := m.ParseDocument("1", []byte(`{"t":"Cheap TV"}`), reg)
	if err != nil {
		t.Fatal(err)
	}
	if v := values(d, "t"); len(v) != 1 || termsOf(v[0]) != "cheap@0 tv@1 television@1" {
		t.Errorf("t = %+v", v)
	}
	if _, _, err := m.ParseDocument("1", []byte(`{"u":"x"}`), reg); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown analyzer: %v", err)
	}
	if err := m.CheckAnalyzers(reg); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "[u]") {
		t.Errorf("CheckAnalyzers = %v", err)
	}
}

func TestParseDocumentConcurrent(t *testing.T) {
	// Fields built by hand (no Parse) compute their paths, multi-fields
	// and date formats on the fly: concurrent parses must not race.
	m := &Mapping{Properties: map[string]*Field{
		"t": {Type: Text, Index: true, Fields: map[string]*Field{"k": {Type: Keyword, Index: true, DocValues: true}}},
		"d": {Type: Date, Index: true, DocValues: true},
		"o": {Type: Object, Properties: map[string]*Field{"n": {Type: Long, Index: true, DocValues: true}}},
	}}
	parsed := mustParse(t, productMapping)
	done := make(chan error, 8)
	for g := 0; g < 8; g++ {
		go func() {
			for i := 0; i < 50; i++ {
				d, add, err := m.ParseDocument("1", []byte(`{"t":"Hello there","d":"2024-01-01","o":{"n":1},"new":"x"}`), nil)
				if err == nil && (len(values(d, "t.k")) != 1 || add == nil) {
					err = errors.New("wrong result")
				}
				if err == nil {
					_, _, err = parsed.ParseDocument("2", []byte(`{"title":"Running","launched":"2024-01-01"}`), nil)
				}
				if err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for g := 0; g < 8; g++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

func FuzzParseDocument(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `{"title":["x","y"],"o":{"p":null}}`, `{"a.b":[1,[2,[3]]]}`, `{"d":"2024-01-01"}`, `{"s":"\u00e9\ud800"}`} {
		f.Add([]byte(s))
	}
	m, err := Parse([]byte(productMapping))
	if err != nil {
		f.Fatal(err)
	}
	m.Dynamic = DynamicTrue
	f.Fuzz(func(t *testing.T, doc []byte) {
		d, add, err := m.ParseDocument("1", doc, nil)
		if err != nil {
			trimmed := strings.TrimSpace(string(doc))
			if errors.Is(err, ErrParse) && json.Valid(doc) && strings.HasPrefix(trimmed, "{") {
				t.Fatalf("refused valid JSON %q: %v", doc, err)
			}
			return
		}
		if valid := json.Valid(doc); !valid {
			t.Fatalf("accepted invalid JSON %q", doc)
		}
		if add != nil {
			if _, err := m.Merge(add); err != nil {
				t.Fatalf("additions do not merge: %v", err)
			}
		}
		_ = d
	})
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(productMapping))
	f.Add([]byte(`{"properties":{"a.b":{"type":"long"}}}`))
	f.Add([]byte(`{"properties":{"k":{"type":"keyword","null_value":"x","copy_to":["c"],"normalizer":"lowercase"},"d":{"type":"date","format":"yyyy||epoch_second","null_value":"2020"}}}`))
	f.Fuzz(func(t *testing.T, js []byte) {
		m, err := Parse(js)
		if err != nil {
			return
		}
		m2, err := Parse(m.JSON())
		if err != nil {
			t.Fatalf("JSON() does not parse: %v\n%s", err, m.JSON())
		}
		if string(m2.JSON()) != string(m.JSON()) {
			t.Fatalf("round trip differs")
		}
	})
}
