package httpcache_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"

	"cairn.dev/cairn/gatewayd/httpcache"
)

// exampleStore is a tiny Storage for the example (package cachestore is
// the real one).
type exampleStore struct {
	mu   sync.Mutex
	objs map[string][2][]byte
}

type exampleBody struct{ b []byte }

func (b exampleBody) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(b.b)) {
		return 0, io.EOF
	}
	n := copy(p, b.b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
func (b exampleBody) Close() error { return nil }
func (b exampleBody) Size() int64  { return int64(len(b.b)) }
func (b exampleBody) Tier() string { return "memory" }

type exampleWriter struct {
	s        *exampleStore
	id       string
	meta, bd []byte
}

func (w *exampleWriter) Write(p []byte) (int, error) { w.bd = append(w.bd, p...); return len(p), nil }
func (w *exampleWriter) Commit() error {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	w.s.objs[w.id] = [2][]byte{w.meta, w.bd}
	return nil
}
func (w *exampleWriter) Abort() {}

func (s *exampleStore) Get(id string) ([]byte, httpcache.Body, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objs[id]
	return o[0], exampleBody{o[1]}, ok
}
func (s *exampleStore) Touch(string) {}
func (s *exampleStore) Create(id string, meta []byte, size int64) (httpcache.Writer, error) {
	return &exampleWriter{s: s, id: id, meta: meta}, nil
}
func (s *exampleStore) SetMeta(id string, meta []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objs[id]
	if ok {
		s.objs[id] = [2][]byte{meta, o[1]}
	}
	return ok
}
func (s *exampleStore) Delete(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.objs[id]
	delete(s.objs, id)
	return ok
}
func (s *exampleStore) Range(fn func(string, []byte) bool) {}
func (s *exampleStore) Usage() httpcache.Usage             { return httpcache.Usage{} }

func Example() {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		fmt.Fprint(w, "hello")
	}))
	defer origin.Close()
	fetch := func(ctx context.Context, r *http.Request) (*http.Response, error) {
		out, _ := http.NewRequestWithContext(ctx, r.Method, origin.URL+r.URL.RequestURI(), nil)
		out.Header = r.Header.Clone()
		return http.DefaultClient.Do(out)
	}
	c, err := httpcache.New(httpcache.Options{Storage: &exampleStore{objs: map[string][2][]byte{}}, Name: "edge-1"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	edge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.Serve(w, r, r.URL.RequestURI(), fetch)
	}))
	defer edge.Close()
	for range 2 {
		resp, err := http.Get(edge.URL + "/greeting")
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(resp.Header.Get("X-Cache"), string(body))
	}
	// Output:
	// MISS hello
	// HIT hello
}
