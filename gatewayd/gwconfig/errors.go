package gwconfig

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Sentinel errors. Every error Parse and Validate return matches ErrInvalid
// with errors.Is; a document over MaxDocumentBytes also matches ErrTooLarge.
var (
	// ErrInvalid marks a document that was rejected (the Errors list says why).
	ErrInvalid = errors.New("gwconfig: invalid document")
	// ErrTooLarge marks a document longer than MaxDocumentBytes.
	ErrTooLarge = errors.New("gwconfig: document too large")
)

// Error is one problem in a document: Path names the field
// ("routes[2].rate_limits[0].per"; empty for the document as a whole),
// Message says what is wrong with it, and Line is its 1-based line in the
// YAML source when known (0 otherwise, e.g. for documents built in Go).
type Error struct {
	Path    string
	Message string
	Line    int

	kind error // a sentinel besides ErrInvalid that this error matches, or nil
}

// Error formats the problem as `path: message (line N)`.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	if e.Line > 0 {
		fmt.Fprintf(&b, " (line %d)", e.Line)
	}
	return b.String()
}

// Is reports whether target is ErrInvalid (or ErrTooLarge for a document
// over the size limit).
func (e *Error) Is(target error) bool {
	return target == ErrInvalid || (e.kind != nil && target == e.kind)
}

// Errors is every problem found in a document, sorted by path (list indices
// compare as numbers, so routes[2] comes before routes[10]).
type Errors []*Error

// Error lists every problem, one per line.
func (es Errors) Error() string {
	switch len(es) {
	case 0:
		return "gwconfig: no errors"
	case 1:
		return es[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d problems:", len(es))
	for _, e := range es {
		b.WriteString("\n")
		b.WriteString(e.Error())
	}
	return b.String()
}

// Is reports whether target is ErrInvalid, or is matched by one of the
// errors in the list (ErrTooLarge).
func (es Errors) Is(target error) bool {
	if target == ErrInvalid {
		return true
	}
	for _, e := range es {
		if e.Is(target) {
			return true
		}
	}
	return false
}

// MaxErrors is the most problems an Errors lists; beyond it, the last entry
// says how many more there were.
const MaxErrors = 200

// sortErrors orders es by path (naturally: numeric indices numerically), then
// by message, drops exact duplicates and keeps the first MaxErrors.
func sortErrors(es Errors) Errors {
	sort.SliceStable(es, func(i, j int) bool {
		if c := comparePaths(es[i].Path, es[j].Path); c != 0 {
			return c < 0
		}
		return es[i].Message < es[j].Message
	})
	out := es[:0]
	for i, e := range es {
		if i > 0 && e.Path == es[i-1].Path && e.Message == es[i-1].Message {
			continue
		}
		out = append(out, e)
	}
	if len(out) > MaxErrors {
		more := len(out) - MaxErrors
		out = append(out[:MaxErrors:MaxErrors], &Error{Message: strconv.Itoa(more) + " more problems not listed"})
	}
	return out
}

// comparePaths compares two paths, runs of digits as numbers.
func comparePaths(a, b string) int {
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

func digitRun(s string) int {
	n := 0
	for n < len(s) && n < 18 && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

// fieldPath appends a field name to a path.
func fieldPath(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

// indexPath appends a list index to a path.
func indexPath(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// keyPath appends a map key to a path: `.key` when the key is a plain word,
// `["key"]` (Go-quoted) otherwise.
func keyPath(path, key string) string {
	plain := key != ""
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			plain = false
			break
		}
	}
	if plain {
		return fieldPath(path, key)
	}
	return path + "[" + strconv.Quote(key) + "]"
}
