package respcache_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"cairn.dev/cairn/gatewayd/gwconfig"
	"cairn.dev/cairn/gatewayd/respcache"
)

func ExampleCache() {
	c := respcache.New(respcache.Config{}) // local tier only; set Store to share
	defer c.Close()
	spec := &gwconfig.Cache{TTL: time.Minute}
	upstream := func(w http.ResponseWriter) {
		w.Header().Set("Cache-Control", "public, max-age=60")
		w.Write([]byte("hello"))
	}
	handle := func(r *http.Request) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		key := respcache.Key("greeting", r, spec)
		if e, ok := c.Lookup(r.Context(), key, r); ok {
			e.Serve(w, r)
			return w
		}
		c.Do(r.Context(), key, r, func() *respcache.Entry {
			rec := c.NewRecorder(w, 1<<20)
			upstream(rec)
			ttl, ok := respcache.StorableHeader(r, rec.Status(), rec.Header(), spec, time.Now())
			if !ok {
				return nil
			}
			return rec.Finish(context.Background(), key, r, 0, nil, ttl)
		})
		return w
	}
	for range 2 {
		w := handle(httptest.NewRequest("GET", "/hello", nil))
		fmt.Println(w.Code, w.Header().Get("X-Cache"), w.Body.String())
	}
	w := handle(httptest.NewRequest("HEAD", "/hello", nil))
	fmt.Println(w.Code, w.Header().Get("X-Cache"), w.Header().Get("Content-Length"), w.Body.Len())
	// Output:
	// 200 MISS hello
	// 200 HIT hello
	// 200 HIT 5 0
}
