package query

// node is a parsed query clause. Nodes are immutable after Parse and shared
// by every Execute of the request.
type node interface {
	// clauses counts the node's leaf clauses before expansion (for
	// Limits.MaxClauses).
	clauses() int
}

// termNode matches one term of one field. A scoring term is scored with
// BM25 (text and keyword fields); otherwise (numbers, dates, booleans) the
// score is the boost, as Elasticsearch's term query on such fields.
type termNode struct {
	field   string
	term    string
	boost   float64
	scoring bool
}

// termsNode matches any of its terms, with a constant score (the boost), as
// Elasticsearch's terms query.
type termsNode struct {
	field string
	terms []string
	boost float64
}

// boolNode is Elasticsearch's bool query. msm < 0 means the default (1 when
// there are should clauses and no must or filter, else 0).
type boolNode struct {
	must, should, mustNot, filter []node
	msm                           int
	boost                         float64
}

// disMaxNode scores a document with the best of its clauses plus tie times
// the others (multi_match best_fields).
type disMaxNode struct {
	subs  []node
	tie   float64
	boost float64
}

// phraseNode matches the slots in order within slop. Each slot lists terms
// that may stand at its position (synonyms); with prefixLast the last
// slot's single entry is a prefix expanded against the index.
type phraseNode struct {
	field         string
	slots         [][]string
	offsets       []int
	slop          int
	prefixLast    bool
	maxExpansions int
	boost         float64
}

// multiKind says how a multiTermNode expands.
type multiKind int

const (
	multiPrefix multiKind = iota
	multiFuzzy
	multiWildcard
)

// multiTermNode expands to the index terms a pattern accepts: a prefix, a
// fuzzy term (edits, prefixLen, transpositions) or a wildcard pattern. Fuzzy
// terms score with BM25 (boosted by their similarity); prefix and wildcard
// with a constant score (the boost), as Elasticsearch's default rewrites.
type multiTermNode struct {
	kind           multiKind
	field          string
	text           string
	edits          int
	prefixLen      int
	transpositions bool
	maxExpansions  int
	boost          float64
}

// rangeNode matches the terms of a field in [lo, hi] (bounds encoded as
// index terms; nil: unbounded), with a constant score. kind says how the
// field's doc values hold the values, to check them per document instead.
type rangeNode struct {
	field          string
	lo, hi         []byte
	loIncl, hiIncl bool
	boost          float64
	kind           rangeKind
}

// rangeKind is the doc-values type of a range's field.
type rangeKind int

const (
	rangeInt rangeKind = iota
	rangeFloat
	rangeKeyword
)

// existsNode matches documents with an indexed value in the field.
type existsNode struct {
	field string
	boost float64
}

// idsNode matches documents by id.
type idsNode struct {
	ids   map[string]bool
	boost float64
}

// matchAllNode matches every document with score boost.
type matchAllNode struct{ boost float64 }

// matchNoneNode matches nothing.
type matchNoneNode struct{}

// constNode matches what filter matches, with score boost.
type constNode struct {
	filter node
	boost  float64
}

func (n *termNode) clauses() int      { return 1 }
func (n *termsNode) clauses() int     { return len(n.terms) }
func (n *phraseNode) clauses() int    { return len(n.slots) }
func (n *multiTermNode) clauses() int { return 1 }
func (n *rangeNode) clauses() int     { return 1 }
func (n *existsNode) clauses() int    { return 1 }
func (n *idsNode) clauses() int       { return 1 }
func (n *matchAllNode) clauses() int  { return 1 }
func (n *matchNoneNode) clauses() int { return 0 }
func (n *constNode) clauses() int     { return n.filter.clauses() }
func (n *disMaxNode) clauses() int    { return sumClauses(n.subs) }
func (n *boolNode) clauses() int {
	return sumClauses(n.must) + sumClauses(n.should) + sumClauses(n.mustNot) + sumClauses(n.filter)
}

func sumClauses(ns []node) int {
	c := 0
	for _, n := range ns {
		c += n.clauses()
	}
	return c
}
