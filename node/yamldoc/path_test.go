package yamldoc

import (
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestPaths(t *testing.T) {
	tests := []struct{ got, want string }{
		{FieldPath("", "a"), "a"},
		{FieldPath("a", "b"), "a.b"},
		{IndexPath("a", 3), "a[3]"},
		{IndexPath("", 0), "[0]"},
		{KeyPath("h", "X-Edge_1"), "h.X-Edge_1"},
		{KeyPath("h", "a b"), `h["a b"]`},
		{KeyPath("h", ""), `h[""]`},
		{KeyPath("h", "é"), `h["é"]`},
		{KeyPath("", "k"), "k"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestComparePaths(t *testing.T) {
	paths := []string{"b", "a[10].x", "a[2].y", "a[2]", "a", "a[2].x", "a.b", `a["z"]`, "a[100]"}
	sort.Slice(paths, func(i, j int) bool { return ComparePaths(paths[i], paths[j]) < 0 })
	want := `a a.b a["z"] a[2] a[2].x a[2].y a[10].x a[100] b`
	if got := strings.Join(paths, " "); got != want {
		t.Errorf("sorted: %s\nwant:   %s", got, want)
	}
	if ComparePaths("x", "x") != 0 || ComparePaths("a[1]", "a[01]") != 0 {
		t.Error("equal paths do not compare 0")
	}
}

func TestLineOf(t *testing.T) {
	const src = `name: x
items:
  - name: a
  - name: b
    weight: 2
labels:
  "a b": c
  plain: d
alias: &l
  - {name: e}
again: *l
`
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(src), &root); err != nil {
		t.Fatal(err)
	}
	n := root.Content[0]
	tests := []struct {
		path string
		want int
	}{
		{"", 1},
		{"name", 1},
		{"items", 2},
		{"items[1]", 4},
		{"items[1].weight", 5},
		{"items[1].missing", 4},
		{"items[7].name", 2},
		{`labels["a b"]`, 7},
		{"labels.plain", 8},
		{"again[0].name", 10},
		{"nope", 1},
		{"items[x]", 2},
		{`labels["unterminated`, 6},
	}
	for _, tt := range tests {
		if got := LineOf(n, tt.path); got != tt.want {
			t.Errorf("LineOf(%q) = %d, want %d", tt.path, got, tt.want)
		}
	}
	if LineOf(nil, "a") != 0 {
		t.Error("LineOf(nil) is not 0")
	}
}

func TestProblemString(t *testing.T) {
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{Path: "a[1]", Message: "bad", Line: 3}, "a[1]: bad (line 3)"},
		{Problem{Message: "bad", Line: 3}, "bad (line 3)"},
		{Problem{Path: "a", Message: "bad"}, "a: bad"},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.p, got, tt.want)
		}
	}
}

func TestClosest(t *testing.T) {
	names := []string{"routes", "upstreams", "version"}
	tests := map[string]string{"route": "routes", "rutes": "routes", "upstream": "upstreams", "verison": "version", "x": "", "": "", strings.Repeat("r", 100): ""}
	for key, want := range tests {
		if got := closest(key, names); got != want {
			t.Errorf("closest(%q) = %q, want %q", key, got, want)
		}
	}
}
