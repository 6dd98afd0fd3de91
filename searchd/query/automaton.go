package query

import (
	"strconv"
	"strings"
)

// Automata over term bytes for index.TermDict.Iterate, built lazily: each
// state is created the first time a transition reaches it. They count
// edits and match wildcards per byte (a non-ASCII letter is several bytes,
// so it costs more than one edit; terms are ASCII-folded by the default
// analyzers). Not safe for concurrent use.

const (
	stateDead   = 0
	stateAlways = 1
)

// levAutomaton accepts the terms within k edits (insertions, deletions,
// substitutions and, with transpositions, swaps of adjacent bytes) of q;
// in prefix mode, the terms with a prefix of at least len(q) bytes within k
// edits of q (autocomplete).
type levAutomaton struct {
	q              []byte
	k              int
	transpositions bool
	prefix         bool
	states         []levState
	ids            map[string]int
	next           transitions
}

// transitions caches a lazy automaton's transitions: per state, 256
// entries holding the next state plus one (0: not computed yet).
type transitions [][]int32

func (t *transitions) get(s int, c byte) (int, bool) {
	if s < len(*t) && (*t)[s] != nil {
		if v := (*t)[s][c]; v != 0 {
			return int(v - 1), true
		}
	}
	return 0, false
}

func (t *transitions) set(s int, c byte, n int) {
	for len(*t) <= s {
		*t = append(*t, nil)
	}
	if (*t)[s] == nil {
		(*t)[s] = make([]int32, 256)
	}
	(*t)[s][c] = int32(n + 1)
}

// levState is a row of the edit-distance table (capped at k+1), the row
// before it and the byte that led here (for transpositions).
type levState struct {
	row, prev []int8
	last      int16
	depth     int
}

func newLevAutomaton(q string, k int, transpositions, prefix bool) *levAutomaton {
	a := &levAutomaton{q: []byte(q), k: k, transpositions: transpositions, prefix: prefix,
		ids: map[string]int{}}
	a.states = make([]levState, 2) // dead, always
	row := make([]int8, len(a.q)+1)
	for j := range row {
		row[j] = int8(min(j, k+1))
	}
	a.intern(levState{row: row, last: -1})
	return a
}

func (a *levAutomaton) intern(s levState) int {
	var b strings.Builder
	for _, v := range s.row {
		b.WriteByte(byte(v))
	}
	b.WriteByte(0xff)
	if a.transpositions {
		for _, v := range s.prev {
			b.WriteByte(byte(v))
		}
		b.WriteString(strconv.Itoa(int(s.last)))
	}
	if a.prefix {
		b.WriteString("|" + strconv.Itoa(s.depth))
	}
	key := b.String()
	if id, ok := a.ids[key]; ok {
		return id
	}
	a.states = append(a.states, s)
	id := len(a.states) - 1
	a.ids[key] = id
	return id
}

func (a *levAutomaton) Start() int { return 2 }

func (a *levAutomaton) IsMatch(s int) bool {
	if s == stateAlways {
		return true
	}
	if s == stateDead || a.prefix {
		return false
	}
	st := a.states[s]
	return int(st.row[len(a.q)]) <= a.k
}

func (a *levAutomaton) CanMatch(s int) bool        { return s != stateDead }
func (a *levAutomaton) WillAlwaysMatch(s int) bool { return s == stateAlways }

func (a *levAutomaton) Accept(s int, c byte) int {
	if s == stateDead || s == stateAlways {
		return s
	}
	if n, ok := a.next.get(s, c); ok {
		return n
	}
	n := a.step(s, c)
	a.next.set(s, c, n)
	return n
}

func (a *levAutomaton) step(s int, c byte) int {
	st := a.states[s]
	n := len(a.q)
	cap8 := int8(a.k + 1)
	row := make([]int8, n+1)
	row[0] = min(st.row[0]+1, cap8)
	best := row[0]
	for j := 1; j <= n; j++ {
		cost := int8(1)
		if a.q[j-1] == c {
			cost = 0
		}
		v := min(st.row[j]+1, row[j-1]+1, st.row[j-1]+cost)
		if a.transpositions && j > 1 && st.prev != nil && st.last >= 0 &&
			a.q[j-1] == byte(st.last) && a.q[j-2] == c {
			v = min(v, st.prev[j-2]+1)
		}
		row[j] = min(v, cap8)
		best = min(best, row[j])
	}
	if int(best) > a.k {
		return stateDead
	}
	depth := st.depth + 1
	if a.prefix {
		if depth >= n && int(row[n]) <= a.k {
			return stateAlways
		}
		if depth > n+a.k {
			return stateDead
		}
	}
	return a.intern(levState{row: row, prev: st.row, last: int16(c), depth: depth})
}

// wildcardAutomaton accepts the terms a pattern of literal bytes, *
// (any run of bytes) and ? (one byte) matches; \ escapes the next byte.
type wildcardAutomaton struct {
	pat    []patItem
	states [][]int // sets of pattern positions
	ids    map[string]int
	next   transitions
}

type patItem struct {
	c    byte
	kind byte // 'c' literal, '*', '?'
}

func newWildcardAutomaton(pattern string) *wildcardAutomaton {
	var items []patItem
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; {
		case c == '\\' && i+1 < len(pattern):
			i++
			items = append(items, patItem{c: pattern[i], kind: 'c'})
		case c == '*':
			items = append(items, patItem{kind: '*'})
		case c == '?':
			items = append(items, patItem{kind: '?'})
		default:
			items = append(items, patItem{c: c, kind: 'c'})
		}
	}
	a := &wildcardAutomaton{pat: items, ids: map[string]int{}}
	a.states = make([][]int, 2)
	a.intern(a.closure([]int{0}))
	return a
}

// literalPrefix returns the pattern's bytes before its first wildcard.
func (a *wildcardAutomaton) literalPrefix() string {
	var b []byte
	for _, it := range a.pat {
		if it.kind != 'c' {
			break
		}
		b = append(b, it.c)
	}
	return string(b)
}

func (a *wildcardAutomaton) closure(set []int) []int {
	seen := map[int]bool{}
	var out []int
	var add func(p int)
	add = func(p int) {
		if seen[p] {
			return
		}
		seen[p] = true
		out = append(out, p)
		if p < len(a.pat) && a.pat[p].kind == '*' {
			add(p + 1)
		}
	}
	for _, p := range set {
		add(p)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func (a *wildcardAutomaton) intern(set []int) int {
	if len(set) == 0 {
		return stateDead
	}
	var b strings.Builder
	for _, p := range set {
		b.WriteString(strconv.Itoa(p))
		b.WriteByte(',')
	}
	key := b.String()
	if id, ok := a.ids[key]; ok {
		return id
	}
	a.states = append(a.states, set)
	a.ids[key] = len(a.states) - 1
	return len(a.states) - 1
}

func (a *wildcardAutomaton) Start() int { return 2 }
func (a *wildcardAutomaton) IsMatch(s int) bool {
	if s < 2 {
		return false
	}
	for _, p := range a.states[s] {
		if p == len(a.pat) {
			return true
		}
	}
	return false
}
func (a *wildcardAutomaton) CanMatch(s int) bool        { return s != stateDead }
func (a *wildcardAutomaton) WillAlwaysMatch(s int) bool { return false }
func (a *wildcardAutomaton) Accept(s int, c byte) int {
	if s < 2 {
		return stateDead
	}
	if n, ok := a.next.get(s, c); ok {
		return n
	}
	var set []int
	for _, p := range a.states[s] {
		if p >= len(a.pat) {
			continue
		}
		switch it := a.pat[p]; it.kind {
		case '*':
			set = append(set, p)
		case '?':
			set = append(set, p+1)
		default:
			if it.c == c {
				set = append(set, p+1)
			}
		}
	}
	n := a.intern(a.closure(set))
	a.next.set(s, c, n)
	return n
}

// editDistance is the optimal-string-alignment distance between a and b
// (with or without adjacent transpositions), by bytes.
func editDistance(a, b string, transpositions bool) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if transpositions && i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// prefixEnd returns the smallest byte string greater than every string
// with prefix p (nil when there is none).
func prefixEnd(p string) []byte {
	b := []byte(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return b[:i+1]
		}
	}
	return nil
}
