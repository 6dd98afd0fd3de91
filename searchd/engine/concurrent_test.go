package engine

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
)

// TestConcurrentPutSearch writes (with dynamic mapping updates) while
// searching; run with -race.
func TestConcurrentPutSearch(t *testing.T) {
	ix, err := Open(filepath.Join(t.TempDir(), "conc"), []byte(`{"properties":{"f1":{"type":"long"}}}`), Settings{Shards: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				src := fmt.Sprintf(`{"title":"item %d of writer %d","f%d":%d}`, i, w, i%7, i)
				if err := ix.Put(fmt.Sprintf("w%d-%d", w, i), []byte(src)); err != nil {
					errs <- err
					return
				}
				if i%25 == 0 {
					if err := ix.Refresh(); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	for s := 0; s < 2; s++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 30; i++ {
				if _, err := ix.Search(context.Background(), []byte(`{"query":{"match":{"title":"item writer"}},"aggs":{"m":{"max":{"field":"f1"}}}}`)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if err := ix.Refresh(); err != nil {
		t.Fatal(err)
	}
	r := search(t, ix, `{"query":{"match":{"title":"writer"}}}`)
	if r.Hits.Total.Value != 200 {
		t.Fatalf("total %d", r.Hits.Total.Value)
	}
}
