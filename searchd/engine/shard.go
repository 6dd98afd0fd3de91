package engine

import (
	"context"
	"errors"
	"fmt"

	"cairn.dev/cairn/searchd/analysis"
	"cairn.dev/cairn/searchd/index"
	"cairn.dev/cairn/searchd/mapping"
	"cairn.dev/cairn/searchd/query"
)

// Errors of the engine.
var (
	// ErrDocumentTooLarge: a source is over Settings.MaxDocumentBytes.
	ErrDocumentTooLarge = errors.New("engine: document too large")
	// ErrClosed: the index is closed.
	ErrClosed = errors.New("engine: index closed")
)

// DefaultMaxDocumentBytes is the default of Settings.MaxDocumentBytes.
const DefaultMaxDocumentBytes = 10 << 20

// NewShard returns a Shard over an open writer. The daemon holds one per
// shard copy: its consumer calls Put/Delete (or Index) in partition order
// and W.Refresh / W.Commit on its schedule; searches call TermStats and
// Search with the request body. All methods are safe for concurrent use;
// SetMapping replaces the mapping (a newer version from the metadata
// group) while they run.
func NewShard(w *index.Writer, m *mapping.Mapping, reg *analysis.Registry, s Settings) *Shard {
	return &Shard{W: w, Mapping: m, Analysis: reg, Query: s.Query, Limits: s.Limits}
}

// SetMapping replaces the shard's mapping.
func (s *Shard) SetMapping(m *mapping.Mapping) {
	s.mu.Lock()
	s.Mapping = m
	s.mu.Unlock()
}

func (s *Shard) mapping() *mapping.Mapping {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.Mapping
}

// Put parses source against the shard's mapping and indexes it (an upsert
// by id). Fields the mapping does not know are indexed as dynamic mapping
// would map them; the daemon makes that mapping durable before the write is
// produced, so by the time a copy applies it the mapping has them.
func (s *Shard) Put(id string, source []byte) error {
	doc, _, err := s.mapping().ParseDocument(id, source, s.Analysis)
	if err != nil {
		return err
	}
	return s.Index(doc)
}

// Apply applies one record of the shard's partition: a put of source, or,
// when source is nil (a tombstone), a delete of id. Replaying a record is
// harmless: puts are upserts by id and deletes are idempotent.
func (s *Shard) Apply(id string, source []byte) error {
	if source == nil {
		_, err := s.Delete(id)
		return err
	}
	return s.Put(id, source)
}

// Index indexes a parsed document, adding its suggestion vocabulary
// (WithSuggestFields).
func (s *Shard) Index(doc *mapping.Document) error {
	return s.W.Index(WithSuggestFields(doc))
}

// Delete deletes a document; false when there was none.
func (s *Shard) Delete(id string) (bool, error) { return s.W.Delete(id) }

// Get returns a document's source (realtime: unrefreshed writes too).
func (s *Shard) Get(id string) ([]byte, bool, error) { return s.W.Get(id) }

// Parse parses a search body against the shard's mapping and analyzers.
func (s *Shard) Parse(body []byte) (*query.Request, error) {
	return query.Parse(body, s.mapping(), s.Analysis, s.Limits)
}

// TermStats is the DFS phase: the shard's statistics for the body's
// query terms, to be summed over every shard (Stats.Add) and passed to
// Search.
func (s *Shard) TermStats(body []byte) (*query.Stats, error) {
	req, err := s.Parse(body)
	if err != nil {
		return nil, err
	}
	r := s.W.Acquire()
	defer r.Release()
	return query.CollectStats(req, r), nil
}

// Search runs body over the shard's last refresh, scoring with stats (nil:
// the shard's own), and returns the shard's top hits for query.Merge.
func (s *Shard) Search(ctx context.Context, body []byte, stats *query.Stats) (*query.ShardResult, error) {
	req, err := s.Parse(body)
	if err != nil {
		return nil, err
	}
	return s.SearchRequest(ctx, req, stats)
}

// SearchRequest is Search with a parsed request.
func (s *Shard) SearchRequest(ctx context.Context, req *query.Request, stats *query.Stats) (*query.ShardResult, error) {
	r := s.W.Acquire()
	defer r.Release()
	return query.Execute(ctx, req, r, stats, s.Query)
}

// Complete completes a prefix from the shard's words (see query.Complete).
func (s *Shard) Complete(fields []string, prefix string, size int, fuzzy bool) []query.Suggestion {
	r := s.W.Acquire()
	defer r.Release()
	return query.Complete(r, fields, prefix, size, fuzzy)
}

// WithSuggestFields returns doc with, for every text value that has
// surface words, a field "<path>._suggest" (query.SuggestSuffix) holding
// those words as terms: the vocabulary of completions and "did you mean".
// doc itself is not changed.
func WithSuggestFields(doc *mapping.Document) *mapping.Document {
	var extra []mapping.FieldValue
	for _, fv := range doc.Fields {
		if fv.Type != mapping.Text || len(fv.Surface) == 0 || !fv.Indexed {
			continue
		}
		toks := make([]analysis.Token, len(fv.Surface))
		for i, w := range fv.Surface {
			toks[i] = analysis.Token{Term: w, Position: i}
		}
		extra = append(extra, mapping.FieldValue{Path: fv.Path + query.SuggestSuffix, Type: mapping.Text,
			Tokens: toks, Indexed: true})
	}
	if len(extra) == 0 {
		return doc
	}
	out := *doc
	out.Fields = append(append(make([]mapping.FieldValue, 0, len(doc.Fields)+len(extra)), doc.Fields...), extra...)
	return &out
}

// checkSize refuses sources over the limit.
func checkSize(source []byte, limit int) error {
	if limit <= 0 {
		limit = DefaultMaxDocumentBytes
	}
	if len(source) > limit {
		return fmt.Errorf("%w: the document is %d bytes, the limit (max_document_bytes) is %d", ErrDocumentTooLarge, len(source), limit)
	}
	return nil
}
