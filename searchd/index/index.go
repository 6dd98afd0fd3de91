// Package index is searchd's storage engine for one shard copy: documents
// are buffered in memory, turned into immutable segments on refresh
// (near-real-time search), merged by a tiered merge policy, and made
// durable by commits (fsynced segment files plus a commit point naming them
// and the caller's user data, e.g. the partition offset the commit covers).
//
// A segment holds, per field: a term dictionary (a vellum FST, so prefix,
// range and Levenshtein lookups are cheap), compressed postings with term
// frequencies and positions, per-document field lengths (norms), doc values
// (int64/float64 columns and sorted keyword ordinals) for sorting and
// aggregations; and per document its id and its compressed _source.
// Deletes and replacements tombstone the old document (a live-docs bitmap
// per segment) until a merge drops it.
//
// Numeric, date and boolean values are also indexed as terms (EncodeInt /
// EncodeFloat: 8 bytes, order-preserving), so range queries walk the term
// dictionary. Keyword values are indexed as their bytes. Float doc values
// are kept as SortableFloat int64s.
//
// Files in Dir: seg_<n>.sdx (one immutable segment; layout in
// segment_write.go), seg_<n>_<gen>.del (a segment's deletes as of commit
// <gen>), commit_<gen> (a commit point) and write.lock (one Writer per
// directory). A file is deleted once no open segment, reader, the last
// commit point or a CommitFiles pin needs it; Open deletes what its commit
// point does not name.
//
// Slices a Reader hands out (terms of a TermIterator until its next Next,
// KeywordValues.Lookup, NormsSegment.Norms, Fields) point into the
// memory-mapped files: read-only, valid until the Reader is released.
package index

// NoMoreDocs ends a postings iterator.
const NoMoreDocs = ^uint32(0)

// Segment is one immutable segment as a reader sees it. Document numbers
// are per segment, 0..MaxDoc()-1.
type Segment interface {
	MaxDoc() uint32
	// Live reports whether doc is not deleted (as of the reader).
	Live(doc uint32) bool
	// LiveCount counts live documents.
	LiveCount() uint32
	// ID returns the document's id.
	ID(doc uint32) string
	// Source returns the document's _source.
	Source(doc uint32) ([]byte, error)
	// Terms returns a field's term dictionary, nil when no document of the
	// segment has the field indexed.
	Terms(field string) TermDict
	// FieldStats returns statistics of an indexed field.
	FieldStats(field string) FieldStats
	// FieldLength returns the number of tokens of a text field in doc
	// (decoded from a one-byte norm, so approximate above 40), 0 if absent.
	FieldLength(field string, doc uint32) uint32
	// Ints returns an integer/date/boolean field's doc values (nil when
	// the segment has none); Floats a float field's; Keywords a keyword
	// field's.
	Ints(field string) NumericValues
	Floats(field string) FloatValues
	Keywords(field string) KeywordValues
	// Fields lists the indexed fields of the segment.
	Fields() []string
}

// FieldStats are a field's BM25 inputs over one segment (live and deleted
// documents alike, as Lucene counts them).
type FieldStats struct {
	// DocCount counts documents with the field; SumTotalTermFreq sums its
	// tokens; SumDocFreq sums its terms' document frequencies.
	DocCount, SumTotalTermFreq, SumDocFreq int64
}

// TermDict is a field's term dictionary in one segment.
type TermDict interface {
	// Get returns a term's entry.
	Get(term []byte) (TermInfo, bool)
	// Iterate walks the terms in [start, end) (nil: unbounded) accepted by
	// the automaton (nil: all), in byte order. vellum's Levenshtein and
	// regexp automata implement Automaton.
	Iterate(a Automaton, start, end []byte) TermIterator
	// Postings iterates a term's documents; with positions, Positions works.
	Postings(t TermInfo, positions bool) Postings
	// Len counts the terms.
	Len() int
}

// Automaton is vellum's automaton interface.
type Automaton interface {
	Start() int
	IsMatch(state int) bool
	CanMatch(state int) bool
	WillAlwaysMatch(state int) bool
	Accept(state int, b byte) int
}

// TermInfo describes one term of one segment's field.
type TermInfo struct {
	DocFreq       uint32
	TotalTermFreq uint64
	// MaxFreq is the term's largest frequency in a document and
	// MinFieldLength the smallest field length among the documents holding
	// it: together an upper bound of its BM25 score in the segment (for
	// WAND / MaxScore pruning).
	MaxFreq, MinFieldLength uint32
	// Ref locates the postings; opaque.
	Ref uint64
}

// TermIterator walks terms in order. Next returns false at the end.
type TermIterator interface {
	Next() bool
	Term() []byte
	Info() TermInfo
	Err() error
}

// Postings iterates the documents of a term in increasing order, from
// before the first document: call Next or Advance first.
type Postings interface {
	// Next moves to the next document; NoMoreDocs at the end.
	Next() uint32
	// Advance moves to the first document >= target.
	Advance(target uint32) uint32
	// Doc is the current document.
	Doc() uint32
	// Freq is the term's frequency in the current document.
	Freq() uint32
	// Positions appends the term's positions in the current document.
	Positions(dst []uint32) []uint32
	// Cost is an upper bound of the documents left (the doc freq).
	Cost() int64
}

// NumericValues are per-document int64 values (sorted ascending when a
// document has several).
type NumericValues interface {
	Values(doc uint32, dst []int64) []int64
}

// FloatValues are per-document float64 values.
type FloatValues interface {
	Values(doc uint32, dst []float64) []float64
}

// KeywordValues map documents to ordinals of the segment's sorted keyword
// values (ordinals follow byte order).
type KeywordValues interface {
	Ords(doc uint32, dst []uint32) []uint32
	Lookup(ord uint32) []byte
	Count() uint32
}
