package sqlchaos

import (
	"fmt"
	"strconv"
	"strings"
)

// Mop is one micro-operation of a list-append transaction: an append of Elem
// to the list of Key, or a read of that list (Read, valid when Done: the
// elements in order; a key without a row reads as the empty list).
type Mop struct {
	Append bool
	Key    int
	Elem   int   // the appended element
	Read   []int // what the read returned
	Done   bool  // whether Read holds the read's result
}

// Append returns the micro-op appending e to k.
func Append(k, e int) Mop { return Mop{Append: true, Key: k, Elem: e} }

// Read returns the micro-op reading k that returned list (nil: the empty
// list).
func Read(k int, list ...int) Mop { return Mop{Key: k, Read: list, Done: true} }

// String encodes m: "a<key>=<elem>" for an append, "r<key>" for a read
// without result, "r<key>:<e1>,<e2>,…" for a read with one (nothing after
// the colon: the empty list).
func (m Mop) String() string {
	switch {
	case m.Append:
		return fmt.Sprintf("a%d=%d", m.Key, m.Elem)
	case !m.Done:
		return fmt.Sprintf("r%d", m.Key)
	}
	return fmt.Sprintf("r%d:%s", m.Key, joinInts(m.Read))
}

// joinInts writes list as "e1,e2,…".
func joinInts(list []int) string {
	parts := make([]string, len(list))
	for i, e := range list {
		parts[i] = strconv.Itoa(e)
	}
	return strings.Join(parts, ",")
}

// splitInts parses joinInts.
func splitInts(s string) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, ",")
	out := make([]int, len(parts))
	for i, p := range parts {
		e, err := strconv.Atoi(p)
		if err != nil {
			return nil, fmt.Errorf("element %q is not an integer", p)
		}
		out[i] = e
	}
	return out, nil
}

// EncodeMops encodes a transaction's micro-ops, separated by spaces: the
// Value of a list-append op.
func EncodeMops(mops []Mop) string {
	parts := make([]string, len(mops))
	for i, m := range mops {
		parts[i] = m.String()
	}
	return strings.Join(parts, " ")
}

// DecodeMops parses EncodeMops.
func DecodeMops(s string) ([]Mop, error) {
	var out []Mop
	for _, f := range strings.Fields(s) {
		m, err := parseMop(f)
		if err != nil {
			return nil, fmt.Errorf("sqlchaos: micro-op %q: %w", f, err)
		}
		out = append(out, m)
	}
	return out, nil
}

func parseMop(f string) (Mop, error) {
	if len(f) < 2 {
		return Mop{}, fmt.Errorf("too short")
	}
	body := f[1:]
	switch f[0] {
	case 'a':
		k, e, ok := strings.Cut(body, "=")
		key, err1 := strconv.Atoi(k)
		elem, err2 := strconv.Atoi(e)
		if !ok || err1 != nil || err2 != nil {
			return Mop{}, fmt.Errorf("want a<key>=<elem>")
		}
		return Append(key, elem), nil
	case 'r':
		k, list, done := strings.Cut(body, ":")
		key, err := strconv.Atoi(k)
		if err != nil {
			return Mop{}, fmt.Errorf("want r<key>[:<elements>]")
		}
		m := Mop{Key: key, Done: done}
		if done {
			if m.Read, err = splitInts(list); err != nil {
				return Mop{}, err
			}
		}
		return m, nil
	}
	return Mop{}, fmt.Errorf("want an append (a…) or a read (r…)")
}
