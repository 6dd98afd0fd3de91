package httpcache

import (
	"strconv"
	"testing"
)

func TestIndexSweepForgetsEvictedObjects(t *testing.T) {
	c, st, _ := newTestCache(t, Options{})
	o := &origin{}
	o.set(respond(200, "x", "Cache-Control: max-age=60"))
	for i := range minSweep - 1 {
		do(c, o, "GET", "/k/"+strconv.Itoa(i))
	}
	// The storage evicts everything without telling the engine.
	st.b.mu.Lock()
	clear(st.b.objs)
	st.b.mu.Unlock()
	do(c, o, "GET", "/last")
	waitFor(t, "the sweep", func() bool {
		n, _ := c.idx.size()
		return n == 1
	})
	if ids := c.idx.idsOfPrefix("/"); len(ids) != 1 || ids[0] != "/last\x00" {
		t.Fatalf("index holds %v", ids)
	}
}
