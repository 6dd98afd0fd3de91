package rules

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// ErrInvalid is matched (errors.Is) by every error Parse, Validate and
// Compile return.
var ErrInvalid = errors.New("rules: invalid document")

// Error is one problem in a document: Path names the field
// ("rewrites[2].match"; empty for the document as a whole), Message says
// what is wrong, and Line is its 1-based line in the YAML source when known.
type Error struct {
	Path    string
	Message string
	Line    int
}

// Error formats the problem as "path: message (line N)".
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

// Is reports whether target is ErrInvalid.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// Errors is every problem found in a document, sorted by path.
type Errors []*Error

// Error lists the problems, one per line.
func (es Errors) Error() string {
	switch len(es) {
	case 0:
		return "rules: no errors"
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

// Is reports whether target is ErrInvalid.
func (es Errors) Is(target error) bool { return target == ErrInvalid }

// errList collects problems while a document is decoded or compiled.
type errList struct{ errs Errors }

func (l *errList) add(path string, line int, format string, args ...any) {
	l.errs = append(l.errs, &Error{Path: path, Line: line, Message: fmt.Sprintf(format, args...)})
}

// err is the collected problems sorted by path (indices as numbers), or nil.
func (l *errList) err() error {
	if len(l.errs) == 0 {
		return nil
	}
	sort.SliceStable(l.errs, func(i, j int) bool { return pathLess(l.errs[i].Path, l.errs[j].Path) })
	return l.errs
}

// pathLess orders paths piecewise, comparing list indices as numbers so
// rewrites[2] sorts before rewrites[10].
func pathLess(a, b string) bool {
	for a != "" && b != "" {
		ai, bi := strings.IndexByte(a, '['), strings.IndexByte(b, '[')
		if ai < 0 || bi < 0 || a[:ai] != b[:bi] {
			return a < b
		}
		a, b = a[ai+1:], b[bi+1:]
		ae, be := strings.IndexByte(a, ']'), strings.IndexByte(b, ']')
		if ae < 0 || be < 0 {
			return a < b
		}
		an, aerr := strconv.Atoi(a[:ae])
		bn, berr := strconv.Atoi(b[:be])
		if aerr != nil || berr != nil {
			if a[:ae] != b[:be] {
				return a[:ae] < b[:be]
			}
		} else if an != bn {
			return an < bn
		}
		a, b = a[ae+1:], b[be+1:]
	}
	return a < b
}

func indexPath(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

func fieldPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// keyPath names a map entry: path.key, or path["key"] when the key is not a
// plain name.
func keyPath(path, key string) string {
	plain := key != ""
	for _, c := range key {
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
