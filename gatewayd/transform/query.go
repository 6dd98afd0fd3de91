package transform

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// queryEdits is a compiled gwconfig.HeaderEdits for query parameters. It
// edits the raw query string pair by pair, so parameters no edit names keep
// their position and their exact encoding.
type queryEdits struct {
	remove map[string]bool
	rename [][2]string // from, to; sorted by from
	add    [][2]string // name, value; sorted by name
}

func (e *queryEdits) empty() bool {
	return len(e.remove) == 0 && len(e.rename) == 0 && len(e.add) == 0
}

func compileQuery(remove []string, rename, add map[string]string) (queryEdits, error) {
	e := queryEdits{remove: map[string]bool{}}
	for _, n := range remove {
		if n == "" {
			return e, fmt.Errorf("%w: empty name in remove", ErrBadQuery)
		}
		e.remove[n] = true
	}
	for from, to := range rename {
		if from == "" || to == "" {
			return e, fmt.Errorf("%w: empty name in rename", ErrBadQuery)
		}
		e.rename = append(e.rename, [2]string{from, to})
	}
	for n, v := range add {
		if n == "" {
			return e, fmt.Errorf("%w: empty name in add", ErrBadQuery)
		}
		e.add = append(e.add, [2]string{n, v})
	}
	sort.Slice(e.rename, func(i, j int) bool { return e.rename[i][0] < e.rename[j][0] })
	sort.Slice(e.add, func(i, j int) bool { return e.add[i][0] < e.add[j][0] })
	return e, nil
}

// queryPair is one "name=value" of a raw query; name is decoded.
type queryPair struct {
	name string
	raw  string // the pair as it was, or re-encoded after a rename
}

// apply returns the edited raw query.
func (e *queryEdits) apply(rawQuery string) string {
	var pairs []queryPair
	for part := range strings.SplitSeq(rawQuery, "&") {
		if part == "" {
			continue
		}
		rawName, _, _ := strings.Cut(part, "=")
		name, err := url.QueryUnescape(rawName)
		if err != nil {
			name = rawName
		}
		pairs = append(pairs, queryPair{name: name, raw: part})
	}
	kept := pairs[:0]
	for _, p := range pairs {
		if !e.remove[p.name] {
			kept = append(kept, p)
		}
	}
	pairs = kept
	for _, r := range e.rename {
		for i := range pairs {
			if pairs[i].name != r[0] {
				continue
			}
			_, val, hasVal := strings.Cut(pairs[i].raw, "=")
			pairs[i].name = r[1]
			pairs[i].raw = url.QueryEscape(r[1])
			if hasVal {
				pairs[i].raw += "=" + val
			}
		}
	}
	for _, a := range e.add {
		kept := pairs[:0]
		for _, p := range pairs {
			if p.name != a[0] {
				kept = append(kept, p)
			}
		}
		pairs = append(kept, queryPair{name: a[0], raw: url.QueryEscape(a[0]) + "=" + url.QueryEscape(a[1])})
	}
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.raw)
	}
	return b.String()
}
