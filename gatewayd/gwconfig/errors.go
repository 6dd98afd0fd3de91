package gwconfig

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"cairn.dev/cairn/node/yamldoc"
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
	return yamldoc.Problem{Path: e.Path, Message: e.Message, Line: e.Line}.String()
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
		if c := yamldoc.ComparePaths(es[i].Path, es[j].Path); c != 0 {
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
