package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"cairn.dev/cairn/searchd/analysis"
	"cairn.dev/cairn/searchd/index"
	"cairn.dev/cairn/searchd/mapping"
	"cairn.dev/cairn/searchd/query"
)

// Files of a local index's directory, beside one directory per shard
// ("shard-0", ...).
const (
	settingsFile = "settings.json"
	mappingFile  = "mapping.json"
)

// Index is a local, single-process index. Safe for concurrent use.
type Index struct {
	dir      string
	name     string
	settings Settings
	reg      *analysis.Registry
	shards   []*Shard

	mu      sync.RWMutex // guards the fields below; held for writing while the mapping changes
	mapping *mapping.Mapping
	closed  bool
}

// storedSettings is settings.json.
type storedSettings struct {
	Shards           int             `json:"shards"`
	K1               float64         `json:"bm25_k1,omitempty"`
	B                float64         `json:"bm25_b,omitempty"`
	Analysis         json.RawMessage `json:"analysis,omitempty"`
	MaxDocumentBytes int             `json:"max_document_bytes,omitempty"`
}

// Open opens or creates a local index in dir. A new index takes
// mappingsJSON and s and writes them to dir; an existing one keeps the
// shard count, analysis, scoring settings and mapping it was created with
// (s.Limits always apply). The index's name (in responses) is dir's base
// name.
func Open(dir string, mappingsJSON []byte, s Settings) (*Index, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	st, m, err := loadOrCreate(dir, mappingsJSON, s)
	if err != nil {
		return nil, err
	}
	s.Shards, s.Query.K1, s.Query.B, s.AnalysisJSON = st.Shards, st.K1, st.B, st.Analysis
	if st.MaxDocumentBytes > 0 {
		s.MaxDocumentBytes = st.MaxDocumentBytes
	}
	reg, err := analysis.NewRegistry(s.AnalysisJSON)
	if err != nil {
		return nil, err
	}
	ix := &Index{dir: dir, name: filepath.Base(dir), settings: s, reg: reg, mapping: m}
	for i := 0; i < s.Shards; i++ {
		w, err := index.Open(index.Options{Dir: filepath.Join(dir, "shard-"+strconv.Itoa(i))})
		if err != nil {
			for _, sh := range ix.shards {
				sh.W.Close()
			}
			return nil, err
		}
		ix.shards = append(ix.shards, NewShard(w, m, reg, s))
	}
	return ix, nil
}

// loadOrCreate reads dir's settings and mapping, or writes them.
func loadOrCreate(dir string, mappingsJSON []byte, s Settings) (storedSettings, *mapping.Mapping, error) {
	var st storedSettings
	raw, err := os.ReadFile(filepath.Join(dir, settingsFile))
	switch {
	case err == nil:
		if err := json.Unmarshal(raw, &st); err != nil {
			return st, nil, fmt.Errorf("engine: %s: %w", settingsFile, err)
		}
		mraw, err := os.ReadFile(filepath.Join(dir, mappingFile))
		if err != nil {
			return st, nil, err
		}
		m, err := mapping.Parse(mraw)
		return st, m, err
	case !errors.Is(err, os.ErrNotExist):
		return st, nil, err
	}
	st = storedSettings{Shards: max(s.Shards, 1), K1: s.Query.K1, B: s.Query.B, MaxDocumentBytes: s.MaxDocumentBytes}
	if len(s.AnalysisJSON) > 0 {
		st.Analysis = json.RawMessage(s.AnalysisJSON)
	}
	m, err := mapping.Parse(mappingsJSON)
	if err != nil {
		return st, nil, err
	}
	if err := writeFileSync(filepath.Join(dir, mappingFile), m.JSON()); err != nil {
		return st, nil, err
	}
	b, err := json.Marshal(st)
	if err != nil {
		return st, nil, err
	}
	return st, m, writeFileSync(filepath.Join(dir, settingsFile), b)
}

// writeFileSync replaces a file atomically and durably.
func writeFileSync(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Mapping returns the index's current mapping.
func (ix *Index) Mapping() *mapping.Mapping {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.mapping
}

// Shards returns the index's shards, in shard order.
func (ix *Index) Shards() []*Shard { return ix.shards }

// Put indexes a JSON document (dynamic mapping updates applied in place:
// merged into the mapping, written to dir and given to every shard before
// the document is indexed).
func (ix *Index) Put(id string, source []byte) error {
	if err := ix.check(); err != nil {
		return err
	}
	doc, err := ix.parse(Doc{ID: id, Source: source})
	if err != nil {
		return err
	}
	return ix.shards[ShardOf(id, len(ix.shards))].Index(doc)
}

// addMapping merges add into the mapping and persists it.
func (ix *Index) addMapping(add *mapping.Mapping) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	merged, err := ix.mapping.Merge(add)
	if err != nil {
		return err
	}
	if err := writeFileSync(filepath.Join(ix.dir, mappingFile), merged.JSON()); err != nil {
		return err
	}
	ix.mapping = merged
	for _, s := range ix.shards {
		s.SetMapping(merged)
	}
	return nil
}

// Delete deletes a document; false if absent.
func (ix *Index) Delete(id string) (bool, error) {
	if err := ix.check(); err != nil {
		return false, err
	}
	return ix.shards[ShardOf(id, len(ix.shards))].Delete(id)
}

// Get returns a document's source (realtime).
func (ix *Index) Get(id string) ([]byte, bool, error) {
	if err := ix.check(); err != nil {
		return nil, false, err
	}
	return ix.shards[ShardOf(id, len(ix.shards))].Get(id)
}

func (ix *Index) check() error {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.closed {
		return ErrClosed
	}
	return nil
}

// Refresh makes every write searchable.
func (ix *Index) Refresh() error {
	if err := ix.check(); err != nil {
		return err
	}
	for _, s := range ix.shards {
		if err := s.W.Refresh(); err != nil {
			return err
		}
	}
	return nil
}

// Search answers an Elasticsearch _search body with Elasticsearch's
// response JSON: the DFS phase over every shard, then the query phase with
// the summed statistics (shards in parallel), then Merge and Response.
func (ix *Index) Search(ctx context.Context, body []byte) (json.RawMessage, error) {
	start := time.Now()
	res, err := ix.SearchResult(ctx, body)
	if err != nil {
		return nil, err
	}
	name := ix.name
	return Response(res, func(int) string { return name }, time.Since(start).Milliseconds(), len(ix.shards)), nil
}

// SearchResult is Search without the rendering.
func (ix *Index) SearchResult(ctx context.Context, body []byte) (*query.Result, error) {
	if err := ix.check(); err != nil {
		return nil, err
	}
	req, err := query.Parse(body, ix.Mapping(), ix.reg, ix.settings.Limits)
	if err != nil {
		return nil, err
	}
	readers := make([]*index.Reader, len(ix.shards))
	for i, s := range ix.shards {
		readers[i] = s.W.Acquire()
	}
	defer func() {
		for _, r := range readers {
			r.Release()
		}
	}()
	stats := &query.Stats{}
	for _, r := range readers {
		stats.Add(query.CollectStats(req, r))
	}
	results := make([]*query.ShardResult, len(readers))
	errs := make([]error, len(readers))
	var wg sync.WaitGroup
	for i, r := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = query.Execute(ctx, req, r, stats, ix.settings.Query)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return query.Merge(req, results)
}

// Complete completes a prefix from the words of the index's text fields
// (all when fields is empty), merged over the shards.
func (ix *Index) Complete(fields []string, prefix string, size int, fuzzy bool) ([]query.Suggestion, error) {
	if err := ix.check(); err != nil {
		return nil, err
	}
	var parts [][]query.Suggestion
	for _, s := range ix.shards {
		parts = append(parts, s.Complete(fields, prefix, size, fuzzy))
	}
	return MergeSuggestions(parts, size), nil
}

// Close commits and closes the index.
func (ix *Index) Close() error {
	ix.mu.Lock()
	if ix.closed {
		ix.mu.Unlock()
		return nil
	}
	ix.closed = true
	ix.mu.Unlock()
	var errs []error
	for _, s := range ix.shards {
		errs = append(errs, s.W.Commit(nil), s.W.Close())
	}
	return errors.Join(errs...)
}
