package searchbench

import (
	"context"
	"fmt"

	"cairn.dev/cairn/searchd/engine"
)

// InProcess is searchd's engine as a library: an engine.Index in a
// directory of its own, with Mapping and the engine's defaults (BM25 k1
// 1.2, b 0.75, searchd's default text analyzer).
type InProcess struct {
	dir string
	ix  *engine.Index
}

// NewInProcess creates the index in dir (which it then owns) with the given
// number of shards.
func NewInProcess(dir string, shards int) (*InProcess, error) {
	ix, err := engine.Open(dir, []byte(Mapping), engine.Settings{Shards: shards})
	if err != nil {
		return nil, fmt.Errorf("searchbench: opening the engine in %s: %w", dir, err)
	}
	return &InProcess{dir: dir, ix: ix}, nil
}

// Name is "cairn".
func (p *InProcess) Name() string { return "cairn" }

// Supports every kind.
func (p *InProcess) Supports(Kind) bool { return true }

// Index puts each document.
func (p *InProcess) Index(ctx context.Context, docs []Doc) error {
	for _, d := range docs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := p.ix.Put(d.ID, d.Source()); err != nil {
			return fmt.Errorf("put %s: %w", d.ID, err)
		}
	}
	return nil
}

// Refresh refreshes the index.
func (p *InProcess) Refresh(context.Context) error { return p.ix.Refresh() }

// Search runs ESBody(q).
func (p *InProcess) Search(ctx context.Context, q Query) (int64, error) {
	resp, err := p.ix.Search(ctx, ESBody(q))
	if err != nil {
		return 0, err
	}
	return esTotal(resp)
}

// Finish closes the index (a commit) and measures its directory.
func (p *InProcess) Finish(context.Context) (int64, error) {
	if err := p.ix.Close(); err != nil {
		return 0, err
	}
	return DirSize(p.dir)
}
