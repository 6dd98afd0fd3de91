package yamldoc

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Problem is one thing wrong with a document: Path names the field
// (empty for the document as a whole), Message says what is wrong, and Line
// is its 1-based line in the YAML source (0 when unknown).
type Problem struct {
	Path    string
	Message string
	Line    int
}

// String formats the problem as "path: message (line N)", leaving out the
// path when empty and the line when 0.
func (p Problem) String() string {
	var b strings.Builder
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	if p.Line > 0 {
		fmt.Fprintf(&b, " (line %d)", p.Line)
	}
	return b.String()
}

// sortProblems orders ps by path (see ComparePaths), stably.
func sortProblems(ps []Problem) {
	sort.SliceStable(ps, func(i, j int) bool { return ComparePaths(ps[i].Path, ps[j].Path) < 0 })
}

// ComparePaths compares two paths as strings, except that runs of digits
// compare as numbers, so routes[2] sorts before routes[10]. It returns a
// negative number, 0 or a positive number as a sorts before, with or after b.
func ComparePaths(a, b string) int {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da > 0 && db > 0 {
			na, _ := strconv.ParseUint(a[:da], 10, 64)
			nb, _ := strconv.ParseUint(b[:db], 10, 64)
			if na != nb {
				if na < nb {
					return -1
				}
				return 1
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			if a[0] < b[0] {
				return -1
			}
			return 1
		}
		a, b = a[1:], b[1:]
	}
	return len(a) - len(b)
}

// digitRun is the length of the run of digits that starts s (at most 18, so
// it always fits a uint64).
func digitRun(s string) int {
	n := 0
	for n < len(s) && n < 18 && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}
