package route

import (
	"net/http"
	"strings"
)

// node is a pattern trie node: the patterns whose segments lead here from
// the root. Every entry at one node has the same shape (literal count,
// segment count, rest param or not), so each list is ordered by entry.less
// alone.
type node struct {
	lit   map[string]*node // literal segment → child
	param *node            // {param} child
	end   []*entry         // patterns ending here
	rest  []*entry         // patterns ending here with {rest...}
}

// insert adds e under its pattern's segments.
func (n *node) insert(e *entry) {
	for _, s := range e.segs {
		switch {
		case s.Rest:
			n.rest = append(n.rest, e)
			return
		case s.Param != "":
			if n.param == nil {
				n.param = &node{}
			}
			n = n.param
		default:
			if n.lit == nil {
				n.lit = map[string]*node{}
			}
			c := n.lit[s.Literal]
			if c == nil {
				c = &node{}
				n.lit[s.Literal] = c
			}
			n = c
		}
	}
	n.end = append(n.end, e)
}

// each calls f for every list of entries in the trie.
func (n *node) each(f func([]*entry)) {
	f(n.end)
	f(n.rest)
	for _, c := range n.lit {
		c.each(f)
	}
	if n.param != nil {
		n.param.each(f)
	}
}

// walk offers every entry list whose pattern matches the path to m. p is
// the path after the "/" that ends the segments consumed so far; atEnd says
// the last segment was consumed with no "/" after it. Each node is visited
// at most once per walk.
func (n *node) walk(m *matcher, p string, atEnd bool) {
	if atEnd {
		m.consider(n.end, true)
		return
	}
	m.consider(n.rest, true)
	seg, next, end := p, "", true
	if j := strings.IndexByte(p, '/'); j >= 0 {
		seg, next, end = p[:j], p[j+1:], false
	}
	if c := n.lit[seg]; c != nil {
		c.walk(m, next, end)
	}
	if seg != "" && n.param != nil {
		n.param.walk(m, next, end)
	}
}

// matcher is one Match call's state; it lives on the caller's stack.
type matcher struct {
	host, method string
	h            http.Header
	best         *entry // the best fully matching entry so far
	methodMiss   bool   // an entry failed only on the method
	allow        map[string]bool
}

// consider offers a list of entries, ordered best first, that match the
// path. With patterns set, the first entry that fully matches replaces best
// when it beats it by patternLess; otherwise the first full match becomes
// best (exact and prefix lists are tried in precedence order by the
// caller). When allow is set, it collects instead the methods of every
// entry matching host and headers.
func (m *matcher) consider(es []*entry, patterns bool) {
	for _, e := range es {
		if m.best != nil && patterns && !patternLess(e, m.best) {
			return
		}
		if !e.matchHost(m.host) || !e.matchHeaders(m.h) {
			continue
		}
		if m.allow != nil {
			for _, meth := range e.methods {
				m.allow[meth] = true
				if meth == "GET" {
					m.allow["HEAD"] = true
				}
			}
			continue
		}
		if !e.matchMethod(m.method) {
			m.methodMiss = true
			continue
		}
		m.best = e
		return
	}
}
