package engine

import (
	"errors"
	"fmt"
	"runtime"
	"sync"

	"cairn.dev/cairn/searchd/mapping"
)

// Doc is one document of a batch.
type Doc struct {
	ID     string
	Source []byte
}

// PutBatch indexes documents as Put each would (a later document with the
// same id replaces an earlier one), parsing them on every core and
// indexing each shard's share with one index.Writer.IndexBatch. Documents
// that fail to parse are skipped; their errors are returned joined, each
// naming the document id, after the others are indexed.
func (ix *Index) PutBatch(docs []Doc) error {
	if err := ix.check(); err != nil {
		return err
	}
	parsed := make([]*mapping.Document, len(docs))
	errs := make([]error, len(docs))
	workers := max(1, min(runtime.GOMAXPROCS(0), len(docs)/64))
	var next int
	var mu sync.Mutex // guards next
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= len(docs) {
					return
				}
				parsed[i], errs[i] = ix.parse(docs[i])
			}
		})
	}
	wg.Wait()
	perShard := make([][]*mapping.Document, len(ix.shards))
	for i, d := range parsed {
		if d != nil {
			s := ShardOf(d.ID, len(ix.shards))
			perShard[s] = append(perShard[s], WithSuggestFields(d))
		}
		if errs[i] != nil {
			errs[i] = fmt.Errorf("document %q: %w", docs[i].ID, errs[i])
		}
	}
	for s, ds := range perShard {
		if err := ix.shards[s].W.IndexBatch(ds); err != nil {
			return err
		}
	}
	return errors.Join(errs...)
}

// parse checks and parses one document, applying a dynamic mapping update
// first when it needs one.
func (ix *Index) parse(d Doc) (*mapping.Document, error) {
	if err := checkSize(d.Source, ix.settings.MaxDocumentBytes); err != nil {
		return nil, err
	}
	doc, add, err := ix.Mapping().ParseDocument(d.ID, d.Source, ix.reg)
	if err != nil {
		return nil, err
	}
	if add != nil {
		if err := ix.addMapping(add); err != nil {
			return nil, err
		}
	}
	return doc, nil
}
