package edge

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"

	"cairn.dev/cairn/gatewayd/edge/origin"
	"cairn.dev/cairn/gatewayd/httpcache"
)

// ServeHTTP answers one request: protection (deny list, per-IP limits),
// the edge rules (redirects, rewrites, normalisation, A/B buckets), then
// the cache, whose misses go through fetch (image transform, compression,
// the shield tier or the origin).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.stats.requests.Add(1)
	// The hop header is not authenticated: a hop is limited like any
	// request, and all it changes is where a miss goes (never what a key
	// maps to).
	hop := origin.IsShieldHop(r)
	if s.policy.refuse(w, r) {
		return
	}
	keyExtra, done := s.policy.apply(w, r)
	if done {
		return
	}
	img, isImage, err := s.policy.image(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if hop && s.behindOnPurges(r) {
		// The asking edge began a purge this one has not finished: what
		// this cache holds for the URL may be what was purged, and must not
		// be handed out, even stale when the origin fails. The request
		// goes to the origin past the cache.
		s.passHop(w, r)
		return
	}
	key := cacheKey(r, keyExtra)
	hw := &headerHookWriter{ResponseWriter: w, beforeHeader: s.policy.responseHeaders}
	s.cache.Serve(hw, r, key, s.fetcher(hop, img, isImage))
}

// cacheKey is the request's cache key: its path and query (the rules have
// normalised them), then, after a NUL, what the rules add (the A/B
// bucket). Keys do not hold the host: an edge serves one site.
func cacheKey(r *http.Request, extra string) string {
	k := r.URL.EscapedPath()
	if r.URL.RawQuery != "" {
		k += "?" + r.URL.RawQuery
	}
	if extra != "" {
		k += "\x00" + extra
	}
	return k
}

// purgeKey turns a purge's URL ("/a/b?x=1", or a full URL) into the key it
// names.
func purgeKey(raw string) string {
	if i := strings.Index(raw, "://"); i >= 0 {
		rest := raw[i+3:]
		if j := strings.IndexByte(rest, '/'); j >= 0 {
			return rest[j:]
		}
		return "/"
	}
	return raw
}

// fetcher returns the cache's Fetch for one request: a shield hop (this
// node owns the URL) or a node without a shield tier asks the origin;
// otherwise the shield routes it. Image transforms and compression apply
// to what comes back.
func (s *Server) fetcher(hop bool, img imageParams, isImage bool) httpcache.Fetch {
	return func(ctx context.Context, r *http.Request) (*http.Response, error) {
		if isImage {
			r = withoutImageQuery(r)
		}
		var resp *http.Response
		var err error
		switch {
		case s.shield == nil:
			s.stats.originFetches.Add(1)
			resp, err = s.policy.observe(s.origin.Fetch)(ctx, r)
		case hop || s.shield.Owner(cacheKey(r, "")) == s.cfg.ID:
			// The shield serves a hop from the origin itself and marks an
			// origin failure as such, so the asking edge does not eject
			// this one for it.
			s.stats.originFetches.Add(1)
			resp, err = s.policy.observe(s.shield.Fetch)(ctx, r)
		default:
			s.stats.shieldFetches.Add(1)
			resp, err = s.shield.Fetch(ctx, s.withPurgeSeq(r))
		}
		if err != nil {
			return nil, err
		}
		if isImage {
			resp = s.policy.transform(r, resp, img)
		}
		return s.policy.compress(r, resp), nil
	}
}

// headerHookWriter runs beforeHeader on the header just before it is sent
// (the rules' response header edits).
type headerHookWriter struct {
	http.ResponseWriter
	beforeHeader func(http.Header)
	wrote        bool
}

func (c *headerHookWriter) WriteHeader(code int) {
	if !c.wrote && code >= 200 {
		c.wrote = true
		c.beforeHeader(c.Header())
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *headerHookWriter) Write(p []byte) (int, error) {
	if !c.wrote {
		c.WriteHeader(http.StatusOK)
	}
	return c.ResponseWriter.Write(p)
}

// Flush passes flushes through (streamed responses).
func (c *headerHookWriter) Flush() {
	if !c.wrote {
		c.WriteHeader(http.StatusOK)
	}
	http.NewResponseController(c.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the connection.
func (c *headerHookWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// counters are the node's own counts (the cache keeps the rest).
type counters struct {
	requests      atomic.Int64
	originFetches atomic.Int64
	shieldFetches atomic.Int64
	purgesApplied atomic.Int64
}

// headerPurgeSeq carries, on a shield hop, the sequence number of the last
// purge the asking edge applied.
const headerPurgeSeq = "Cairn-Purge-Seq"

// withPurgeSeq returns r carrying the last purge this edge has begun to
// apply (its cache may miss because of it), for the shield owner (see
// behindOnPurges).
func (s *Server) withPurgeSeq(r *http.Request) *http.Request {
	if s.purges == nil {
		return r
	}
	r = r.Clone(r.Context())
	seq := max(s.purgeSeqApplying.Load(), s.purges.LastApplied())
	r.Header.Set(headerPurgeSeq, strconv.FormatInt(seq, 10))
	return r
}

// behindOnPurges reports whether a shield hop comes from an edge that has
// begun a purge this one has not finished applying to its cache: between two edges applying the same
// purge, the owner could otherwise hand the asker the purged content, which
// the asker would keep after the purge was acknowledged.
func (s *Server) behindOnPurges(r *http.Request) bool {
	if s.purges == nil {
		return false
	}
	seq, err := strconv.ParseInt(r.Header.Get(headerPurgeSeq), 10, 64)
	return err == nil && seq > max(s.purgeSeqDone.Load(), s.purges.LastApplied())
}

// passHop answers a shield hop from the origin without the cache (see
// behindOnPurges); an origin failure is marked as the origin's, as the
// shield does for every hop.
func (s *Server) passHop(w http.ResponseWriter, r *http.Request) {
	s.stats.originFetches.Add(1)
	resp, err := s.policy.observe(s.shield.Fetch)(r.Context(), r)
	if err != nil {
		http.Error(w, "edge: origin: "+err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	h := w.Header()
	for k, v := range resp.Header {
		h[k] = v
	}
	h.Set("X-Cache", string(httpcache.Pass))
	w.WriteHeader(resp.StatusCode)
	if r.Method != http.MethodHead {
		_, _ = io.Copy(w, resp.Body)
	}
}
