package yamldoc

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

type size int64

type inner struct {
	Name   string `yaml:"name"`
	Weight int    `yaml:"weight"`
}

type doc struct {
	Name     string            `yaml:"name"`
	On       bool              `yaml:"on"`
	Count    int               `yaml:"count"`
	Big      int64             `yaml:"big"`
	Ratio    float64           `yaml:"ratio"`
	Wait     time.Duration     `yaml:"wait"`
	Size     size              `yaml:"size"`
	Items    []inner           `yaml:"items"`
	Ptr      *inner            `yaml:"ptr"`
	Labels   map[string]string `yaml:"labels"`
	ByName   map[string]inner  `yaml:"by_name"`
	Any      any               `yaml:"any"`
	Tags     []string          `yaml:"tags"`
	Nested   inner             `yaml:"nested"`
	Ignored  string            `yaml:"-"`
	Untagged string
	hidden   string `yaml:"hidden"`
}

var errSize = errors.New("bad size")

// testOptions preset inner weights to 1 and read size as "<n>k".
func testOptions() Options {
	return Options{
		Preset: func(p any) {
			if in, ok := p.(*inner); ok {
				in.Weight = 1
			}
		},
		Scalars: map[reflect.Type]Scalar{
			reflect.TypeOf(size(0)): {Kind: "a size", Example: "like 4k", Parse: func(s string) (any, error) {
				n, err := strconv.ParseInt(strings.TrimSuffix(s, "k"), 10, 64)
				if err != nil || !strings.HasSuffix(s, "k") {
					return nil, errSize
				}
				return n * 1024, nil
			}},
		},
	}
}

func TestDecodeGood(t *testing.T) {
	tests := []struct {
		name, src string
		want      doc
	}{
		{"empty", "", doc{}},
		{"comments only", "# nothing\n", doc{}},
		{"document marker", "---\n", doc{}},
		{"null root", "~\n", doc{}},
		{"scalars", "name: x\non: true\ncount: -3\nbig: 9000000000\nratio: 2\nwait: 1m30s\nsize: 4k\n",
			doc{Name: "x", On: true, Count: -3, Big: 9000000000, Ratio: 2, Wait: 90 * time.Second, Size: 4096}},
		{"float", "ratio: 0.25\n", doc{Ratio: 0.25}},
		{"list with presets", "items: [{name: a}, {name: b, weight: 0}]\n",
			doc{Items: []inner{{Name: "a", Weight: 1}, {Name: "b", Weight: 0}}}},
		{"pointer preset", "ptr: {name: p}\n", doc{Ptr: &inner{Name: "p", Weight: 1}}},
		{"map values preset", "by_name: {a: {name: x}}\n", doc{ByName: map[string]inner{"a": {Name: "x", Weight: 1}}}},
		{"string map", "labels: {a: '1', 'b c': d}\n", doc{Labels: map[string]string{"a": "1", "b c": "d"}}},
		{"empty list and map are nil", "tags: []\nlabels: {}\n", doc{}},
		{"null is absent", "name: ~\nitems: null\n", doc{}},
		{"any", "any: {a: [1, two]}\n", doc{Any: map[string]any{"a": []any{1, "two"}}}},
		{"alias", "name: &x y\ntags: [*x, *x]\n", doc{Name: "y", Tags: []string{"y", "y"}}},
		{"nested struct", "nested:\n  name: n\n  weight: 5\n", doc{Nested: inner{Name: "n", Weight: 5}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got doc
			_, problems := Decode([]byte(tt.src), &got, testOptions())
			if problems != nil {
				t.Fatalf("problems: %v", problems)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestDecodeKeepsPriorValues(t *testing.T) {
	got := doc{Name: "default", Count: 7}
	if _, problems := Decode([]byte("count: 0\n"), &got, Options{}); problems != nil {
		t.Fatal(problems)
	}
	if got.Name != "default" || got.Count != 0 {
		t.Errorf("got %+v, want the name kept and count set to 0", got)
	}
}

func TestDecodeBad(t *testing.T) {
	tests := []struct {
		name, src string
		opts      Options
		want      []string // every problem's String, in order
	}{
		{"unknown field suggested", "nmae: x\n", Options{}, []string{"nmae: unknown field (did you mean name?) (line 1)"}},
		{"unknown field far", "colour: x\n", Options{}, []string{"colour: unknown field (line 1)"}},
		{"unknown field listed", "nested: {nme: x}\n", Options{ListKnownFields: true},
			[]string{"nested.nme: unknown field (known: name, weight) (line 1)"}},
		{"ignored fields are unknown", "Untagged: x\nhidden: y\n", Options{}, []string{
			"Untagged: unknown field (line 1)", "hidden: unknown field (line 2)"}},
		{"duplicate key", "name: a\nname: b\n", Options{}, []string{"name: duplicate key (line 2)"}},
		{"duplicate map key", "labels:\n  'a b': x\n  'a b': y\n", Options{}, []string{`labels["a b"]: duplicate key (line 3)`}},
		{"anchored unknown field", "zzzz: &b {name: x}\n", Options{}, []string{"zzzz: unknown field (line 1)"}},
		{"merge key in mapping", "nested: &n {name: x}\nptr:\n  <<: *n\n", Options{}, []string{"ptr: merge keys (<<) are not supported (line 3)"}},
		{"non-string key", "labels: {[a]: b}\n", Options{}, []string{"labels: keys must be strings, not a list (line 1)"}},
		{"string for int", "count: many\n", Options{}, []string{`count: "many" is not an integer (line 1)`}},
		{"float for int", "count: 1.5\n", Options{}, []string{`count: "1.5" is not an integer (line 1)`}},
		{"int overflow", "big: 99999999999999999999\n", Options{}, []string{`big: "99999999999999999999" is not an integer (line 1)`}},
		{"quoted int", "count: '1'\n", Options{}, []string{`count: "1" is not an integer (line 1)`}},
		{"bool", "on: yes please\n", Options{}, []string{`on: "yes please" is not true or false (line 1)`}},
		{"NaN", "ratio: .nan\n", Options{}, []string{`ratio: ".nan" is not a number (line 1)`}},
		{"infinity", "ratio: .inf\n", Options{}, []string{`ratio: ".inf" is not a number (line 1)`}},
		{"duration", "wait: 1x\n", Options{}, []string{`wait: "1x" is not a duration (like 500ms, 30s, 5m) (line 1)`}},
		{"bare number duration", "wait: 30\n", Options{}, []string{`wait: "30" is not a duration (like 500ms, 30s, 5m) (line 1)`}},
		{"list for duration", "wait: [1s]\n", Options{}, []string{`wait: must be a duration, not a list (line 1)`}},
		{"custom scalar", "size: 4m\n", testOptions(), []string{`size: "4m" is not a size (like 4k) (line 1)`}},
		{"custom scalar kind", "size: {a: 1}\n", testOptions(), []string{`size: must be a size, not a mapping (line 1)`}},
		{"list for string", "name: [a]\n", Options{}, []string{"name: must be a string, not a list (line 1)"}},
		{"mapping for list", "items: {a: 1}\n", Options{}, []string{"items: must be a list, not a mapping (line 1)"}},
		{"scalar for struct", "nested: yes\n", Options{}, []string{`nested: must be a mapping, not "yes" (line 1)`}},
		{"root not a mapping", "- a\n", Options{}, []string{"must be a mapping, not a list (line 1)"}},
		{"too many list items", "tags: [a, b, c]\n", Options{MaxItems: 2}, []string{"tags: has 3 entries, the limit is 2 (line 1)"}},
		{"too many map entries", "labels: {a: x, b: y, c: z}\n", Options{MaxItems: 2}, []string{"labels: has 3 entries, the limit is 2 (line 1)"}},
		{"node limit", "tags: [a, b, c, d]\n", Options{MaxNodes: 3}, []string{"tags[1]: document expands to more than 3 nodes (aliases?) (line 1)"}},
		{"two documents", "name: a\n---\nname: b\n", Options{}, []string{"more than one YAML document (---) (line 2)"}},
		{"syntax", "items: [\n", Options{}, []string{"yaml syntax: did not find expected node content (line 1)"}},
		{"unknown anchor", "name: *x\n", Options{}, []string{`yaml syntax: unknown anchor 'x' referenced`}},
		{"sorted naturally", "items:\n" + strings.Repeat("  - {name: a}\n", 10) + "  - {nme: b}\n  - {weight: x}\n  - {nme: c}\n", Options{}, []string{
			"items[10].nme: unknown field (did you mean name?) (line 12)",
			`items[11].weight: "x" is not an integer (line 13)`,
			"items[12].nme: unknown field (did you mean name?) (line 14)",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d doc
			_, problems := Decode([]byte(tt.src), &d, tt.opts)
			checkProblems(t, problems, tt.want)
		})
	}
}

// TestDecodeAliasBomb checks that a document whose aliases expand to
// millions of nodes is refused after MaxNodes, with one problem.
func TestDecodeAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("items:\n  - &a0 {name: x}\n")
	b.WriteString("tags: &t0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 8; i++ {
		prev := "*t" + strconv.Itoa(i-1)
		b.WriteString("l" + strconv.Itoa(i) + ": &t" + strconv.Itoa(i) + " [" + strings.Repeat(prev+", ", 9) + prev + "]\n")
	}
	var d struct {
		Items []inner                `yaml:"items"`
		T0    []string               `yaml:"tags"`
		L7    [][][][][][][][]string `yaml:"l7"`
	}
	_, problems := Decode([]byte(b.String()), &d, Options{MaxNodes: 10000})
	n := 0
	for _, p := range problems {
		if strings.Contains(p.Message, "more than 10000 nodes") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d node-limit problems, want 1: %v", n, problems)
	}
}

func TestDecodeUnsupported(t *testing.T) {
	var d struct {
		C chan int         `yaml:"c"`
		M map[int]string   `yaml:"m"`
		E error            `yaml:"e"`
		U uint             `yaml:"u"`
		F map[string]int32 `yaml:"f"`
	}
	_, problems := Decode([]byte("c: 1\nm: {1: a}\ne: x\nu: 1\nf: {a: 1}\n"), &d, Options{})
	want := []string{
		"c: unsupported field type chan int (line 1)",
		"e: unsupported field type error (line 3)",
		"f.a: unsupported field type int32 (line 5)",
		"m: unsupported map type map[int]string (line 2)",
		"u: unsupported field type uint (line 4)",
	}
	checkProblems(t, problems, want)
}

// checkProblems fails t unless problems, formatted, are want in order.
func checkProblems(t *testing.T, problems []Problem, want []string) {
	t.Helper()
	got := make([]string, len(problems))
	for i, p := range problems {
		got[i] = p.String()
	}
	if g, w := strings.Join(got, "\n"), strings.Join(want, "\n"); g != w {
		t.Errorf("problems:\n%s\nwant:\n%s", g, w)
	}
}

func TestDecodePanicsOnBadTarget(t *testing.T) {
	for _, v := range []any{nil, doc{}, (*doc)(nil), new(int)} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Decode into %T did not panic", v)
				}
			}()
			Decode([]byte("name: x"), v, Options{})
		}()
	}
}

func TestFields(t *testing.T) {
	var names []string
	for _, f := range Fields(reflect.TypeOf(inner{})) {
		names = append(names, f.Name+"="+strconv.Itoa(f.Index))
	}
	if got := strings.Join(names, " "); got != "name=0 weight=1" {
		t.Errorf("Fields(inner) = %s", got)
	}
	fs := Fields(reflect.TypeOf(doc{}))
	if len(fs) != 14 || fs[13].Name != "nested" {
		t.Errorf("Fields(doc) = %v", fs)
	}
}
