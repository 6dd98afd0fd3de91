package yamldoc

import (
	"strings"
	"testing"
)

// FuzzDecode checks that no document makes Decode panic, that every
// problem has a message and a line within the document, and that problems
// come sorted by path.
func FuzzDecode(f *testing.F) {
	f.Add([]byte("name: x\non: true\ncount: 3\nwait: 1s\nsize: 4k\nitems: [{name: a}]\nlabels: {a: b}\n"))
	f.Add([]byte("ptr: {name: p}\nby_name: {a: {weight: 2}}\nany: {a: [1, 2.5, x]}\nratio: .5\n"))
	f.Add([]byte("a: &a [x, x]\nb: &b [*a, *a]\ntags: *b\n"))
	f.Add([]byte("nested:\n  <<: {name: x}\nname: 1\nname: 2\n---\n"))
	f.Add([]byte("items: [\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		var d doc
		opts := testOptions()
		opts.MaxNodes, opts.MaxItems = 1000, 50
		_, problems := Decode(src, &d, opts)
		lines := strings.Count(string(src), "\n") + strings.Count(string(src), "\r") + 1 // YAML breaks lines at CR too
		for i, p := range problems {
			if p.Message == "" {
				t.Errorf("problem %d has no message: %#v", i, p)
			}
			if p.Line < 0 || p.Line > lines+1 {
				t.Errorf("problem %d line %d is outside the %d-line document", i, p.Line, lines)
			}
			if i > 0 && ComparePaths(problems[i-1].Path, p.Path) > 0 {
				t.Errorf("problems not sorted: %q before %q", problems[i-1].Path, p.Path)
			}
		}
	})
}
