package engine

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
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

func TestPutBatch(t *testing.T) {
	ix := openIndex(t, "batch", 3)
	var docs []Doc
	for i := 0; i < 500; i++ {
		docs = append(docs, Doc{ID: fmt.Sprint(i % 400), Source: []byte(fmt.Sprintf(`{"title":"batch doc %d","n%d":%d}`, i, i%3, i))})
	}
	docs = append(docs, Doc{ID: "bad", Source: []byte(`{"title":`)})
	err := ix.PutBatch(docs)
	if err == nil || !strings.Contains(err.Error(), `"bad"`) {
		t.Fatalf("batch error %v", err)
	}
	if err := ix.Refresh(); err != nil {
		t.Fatal(err)
	}
	r := search(t, ix, `{"query":{"match":{"title":"batch"}}}`)
	if r.Hits.Total.Value != 400 {
		t.Fatalf("total %d", r.Hits.Total.Value)
	}
	// the later copy of a repeated id wins.
	src, ok, err := ix.Get("7")
	if err != nil || !ok || !strings.Contains(string(src), "doc 407") {
		t.Fatalf("get 7: %s %v %v", src, ok, err)
	}
	if _, ok := ix.Mapping().Lookup("n2"); !ok {
		t.Fatal("dynamic field of a batch not mapped")
	}
}
