package edgechaos

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// origin is the edges' HTTP origin, run in the test process. Its listener
// is bound when the scenario is built (the edges' --origin names it) and
// served from the workload's Run; kill closes it (connections refused)
// and restart binds the same address again.
type origin struct {
	addr  string
	delay atomic.Int64 // added latency, ns

	mu       sync.Mutex // protects the fields below
	ln       net.Listener
	srv      *http.Server
	versions map[string]int64 // /pv path -> current version
	served   bool
}

// listenOrigin binds the origin's listener on 127.0.0.1.
func listenOrigin() (*origin, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	return &origin{addr: ln.Addr().String(), ln: ln, versions: map[string]int64{}}, nil
}

// URL is the origin's base URL.
func (o *origin) URL() string { return "http://" + o.addr }

// start serves the listener bound by listenOrigin. It fails when the
// origin was already served once.
func (o *origin) start() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.served || o.ln == nil {
		return errors.New("edgechaos: the origin was already served (a workload runs once)")
	}
	o.served = true
	o.serveLocked(o.ln)
	o.ln = nil
	return nil
}

func (o *origin) serveLocked(ln net.Listener) {
	srv := &http.Server{Handler: http.HandlerFunc(o.handle), ReadHeaderTimeout: 5 * time.Second}
	o.srv = srv
	go func() { _ = srv.Serve(ln) }()
}

// kill closes the listener and every connection: the edges' fetches fail.
func (o *origin) kill() {
	o.mu.Lock()
	srv := o.srv
	o.srv = nil
	o.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// restart serves again on the same address, retrying the bind until ctx
// ends.
func (o *origin) restart(ctx context.Context) error {
	for {
		ln, err := net.Listen("tcp", o.addr)
		if err == nil {
			o.mu.Lock()
			o.serveLocked(ln)
			o.mu.Unlock()
			return nil
		}
		t := time.NewTimer(20 * time.Millisecond) // retry interval of the bind
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(ctx.Err(), err)
		case <-t.C:
		}
	}
}

// close stops the origin for good.
func (o *origin) close() {
	o.kill()
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.ln != nil {
		_ = o.ln.Close()
		o.ln = nil
	}
}

// slow adds d of latency to every answer (0: none).
func (o *origin) slow(d time.Duration) { o.delay.Store(int64(d)) }

// bump increments the versions of paths and returns them.
func (o *origin) bump(paths []string) map[string]int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make(map[string]int64, len(paths))
	for _, p := range paths {
		v := o.versions[p]
		if v == 0 {
			v = firstVersion
		}
		v++
		o.versions[p] = v
		out[p] = v
	}
	return out
}

// version is the current version of a /pv path.
func (o *origin) version(path string) int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	if v := o.versions[path]; v != 0 {
		return v
	}
	return firstVersion
}

// handle answers one request. The latency comes first, so that a /pv
// answer holds the version current when it is sent.
func (o *origin) handle(w http.ResponseWriter, r *http.Request) {
	if d := time.Duration(o.delay.Load()); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-r.Context().Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
	path := r.URL.Path
	h := w.Header()
	switch {
	case isSie(path):
		h.Set("Cache-Control", sieControl)
		h.Set("Content-Type", "text/plain; charset=utf-8")
		o.answer(w, r, `"sie-`+strings.TrimPrefix(path, "/sie/")+`"`, sieBody(path))
	case isPv(path):
		g, i, ok := parsePvPath(path)
		if !ok {
			http.NotFound(w, r)
			return
		}
		ver := o.version(path)
		h.Set("Cache-Control", pvControl)
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("Surrogate-Key", groupTag(g)+" "+objectTag(g, i))
		o.answer(w, r, `"pv-g`+strconv.Itoa(g)+"-"+strconv.Itoa(i)+"-v"+strconv.FormatInt(ver, 10)+`"`, pvBody(path, ver, pvSize(i)))
	case isPrivate(path):
		if strings.HasPrefix(path, "/priv/") {
			h.Set("Cache-Control", privControl)
		} else {
			h.Set("Cache-Control", noStoreCtl)
		}
		h.Set("Content-Type", "text/plain; charset=utf-8")
		b := privBody(path, r.Header.Get("X-Client"), r.Header.Get("X-Request-Id"))
		h.Set("Content-Length", strconv.Itoa(len(b)))
		_, _ = w.Write(b)
	default:
		http.NotFound(w, r)
	}
}

// answer writes body with etag, or 304 when the request's If-None-Match
// names it (weak comparison, RFC 9110 §13.1.2).
func (o *origin) answer(w http.ResponseWriter, r *http.Request, etag string, body []byte) {
	w.Header().Set("ETag", etag)
	for _, v := range r.Header.Values("If-None-Match") {
		for t := range strings.SplitSeq(v, ",") {
			if strings.TrimPrefix(strings.TrimSpace(t), "W/") == etag {
				w.WriteHeader(http.StatusNotModified)
				return
			}
		}
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}
