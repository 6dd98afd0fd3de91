package rules

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"cairn.dev/cairn/node/yamldoc"
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
	return yamldoc.Problem{Path: e.Path, Message: e.Message, Line: e.Line}.String()
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

// err is the collected problems sorted by path (indices as numbers, see
// yamldoc.ComparePaths), or nil.
func (l *errList) err() error {
	if len(l.errs) == 0 {
		return nil
	}
	sort.SliceStable(l.errs, func(i, j int) bool { return yamldoc.ComparePaths(l.errs[i].Path, l.errs[j].Path) < 0 })
	return l.errs
}
