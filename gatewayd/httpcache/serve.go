package httpcache

import (
	"net/http"
)

// maxLookups bounds how often one request looks the cache up again after
// waiting on another request's fetch (whose response may have had another
// Vary, or been refused by the storage).
const maxLookups = 3

func cacheable(method string) bool { return method == http.MethodGet || method == http.MethodHead }

func safe(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	return false
}

// Serve answers r under cache key key, calling fetch on a miss or a
// revalidation, and reports how. GET and HEAD are served from the cache
// (a HEAD miss fetches and stores the GET); other methods are forwarded,
// and an unsafe method's success (status below 400) removes every variant
// of key (RFC 9111 §4.4). Responses carry Age, X-Cache (the Outcome) and
// Cache-Status (RFC 9211, named Options.Name). Concurrent misses of one
// variant make one fetch; the first request's response streams to it while
// it is stored and the others are answered from the stored object once it
// is committed. Serve writes w completely; the caller must not write to it
// afterwards.
func (c *Cache) Serve(w http.ResponseWriter, r *http.Request, key string, fetch Fetch) Outcome {
	c.st.requests.Add(1)
	o := c.serve(w, r, key, fetch)
	c.st.count(o)
	return o
}

func (c *Cache) serve(w http.ResponseWriter, r *http.Request, key string, fetch Fetch) Outcome {
	req := requestDirectives(r.Header)
	if !cacheable(r.Method) {
		return c.fetchAndServe(w, r, fetchPlan{key: key, fetch: fetch, req: req, pass: true})
	}
	// Requests that do not share their response (no-store, Authorization)
	// fetch on their own instead of leading a flight.
	private := req.noStore || r.Header.Get("Authorization") != ""
	for range maxLookups {
		names := c.idx.varyOf(key)
		values := varyValues(names, r.Header)
		id := variantID(key, names, values)
		m, body := c.lookup(id, values)
		if m == nil && req.onlyIfCached {
			return c.errorResponse(w, http.StatusGatewayTimeout, "only-if-cached and not cached")
		}
		plan := fetchPlan{key: key, id: id, old: m, oldBody: body, fetch: fetch, req: req}
		if m != nil {
			if o, done := c.fromStore(w, r, req, id, m, body, fetch); done {
				return o
			}
		}
		if private {
			return c.fetchAndServe(w, r, plan)
		}
		if m == nil && c.isPass(id) {
			plan.pass = true
			return c.fetchAndServe(w, r, plan)
		}
		f, leader := c.join(id)
		if leader {
			plan.flight = f
			return c.fetchAndServe(w, r, plan)
		}
		if body != nil {
			body.Close()
		}
		c.st.coalesced.Add(1)
		select {
		case <-f.done:
		case <-r.Context().Done():
			return Error // the client is gone: nobody to answer
		}
		if f.failed {
			m, body := c.lookup(id, values)
			if m != nil && c.staleOnError(m, c.now()) {
				return c.serveStored(w, r, m, body, Stale, "hit; ttl="+ttlSeconds(m, c.now())+"; detail=stale-if-error; collapsed")
			}
			code := http.StatusBadGateway
			if m != nil {
				body.Close()
				if m.has(flagNoStale) || m.has(flagNoCache) {
					code = http.StatusGatewayTimeout
				}
			}
			return c.errorResponse(w, code, "origin failed")
		}
		if !f.stored {
			// Uncacheable or refused: fetch on our own.
			return c.fetchAndServe(w, r, fetchPlan{key: key, id: id, fetch: fetch, req: req, pass: true})
		}
		names = c.idx.varyOf(key)
		values = varyValues(names, r.Header)
		if nid := variantID(key, names, values); nid == f.id {
			if m, body := c.lookup(nid, values); m != nil {
				return c.serveStored(w, r, m, body, Hit, "fwd=uri-miss; collapsed")
			}
		}
		// Another variant was stored: look up again.
	}
	return c.fetchAndServe(w, r, fetchPlan{key: key, fetch: fetch, req: req, pass: true})
}

// lookup returns the stored variant id when its Vary values are values; the
// caller closes body.
func (c *Cache) lookup(id string, values []string) (*meta, Body) {
	b, body, ok := c.store.Get(id)
	if !ok {
		c.store.Touch(id)
		return nil, nil
	}
	m, err := decodeMeta(b)
	if err != nil {
		body.Close()
		c.opts.Logger.Warn("httpcache: dropping an object with unreadable metadata", "id", id, "err", err)
		c.store.Delete(id)
		c.idx.remove(id)
		return nil, nil
	}
	if !equalStrings(m.varyValues, values) {
		body.Close()
		return nil, nil
	}
	return m, body
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// fromStore answers r from the stored m when the request and the response
// allow it (fresh; or stale under max-stale, under-attack grace or
// stale-while-revalidate). done is false when the origin must be asked;
// body is then still open.
func (c *Cache) fromStore(w http.ResponseWriter, r *http.Request, req directives, id string, m *meta, body Body, fetch Fetch) (Outcome, bool) {
	now := c.now()
	age := m.currentAge(now)
	if m.fresh(now) && !m.has(flagNoCache) && !req.revalidate() &&
		(req.maxAge < 0 || age <= secs(req.maxAge)) &&
		(req.minFresh < 0 || m.lifetime-age >= secs(req.minFresh)) {
		return c.serveStored(w, r, m, body, Hit, "hit; ttl="+ttlSeconds(m, now)), true
	}
	stale := m.staleness(now)
	mayStale := !m.has(flagNoStale) && !m.has(flagNoCache) && stale > 0
	if mayStale && !req.revalidate() && req.maxStale >= 0 && stale <= secs(req.maxStale) {
		return c.serveStored(w, r, m, body, Stale, "hit; ttl="+ttlSeconds(m, now)+"; detail=max-stale"), true
	}
	if req.onlyIfCached {
		body.Close()
		return c.errorResponse(w, http.StatusGatewayTimeout, "only-if-cached and not fresh"), true
	}
	if mayStale && c.underAttack.Load() && stale <= c.opts.Grace {
		return c.serveStored(w, r, m, body, Stale, "hit; ttl="+ttlSeconds(m, now)+"; detail=grace"), true
	}
	if mayStale && !req.revalidate() && m.swr >= 0 && stale <= m.swr {
		c.revalidateLater(r, m.key, id, fetch)
		return c.serveStored(w, r, m, body, Stale, "hit; ttl="+ttlSeconds(m, now)+"; detail=stale-while-revalidate"), true
	}
	return "", false
}

// revalidateLater refreshes id in the background unless a fetch of it is
// already running.
func (c *Cache) revalidateLater(r *http.Request, key, id string, fetch Fetch) {
	f, ok := c.tryLead(id)
	if !ok {
		return
	}
	bg := r.Clone(r.Context())
	bg.Method = http.MethodGet
	started := c.goBackground(func() {
		names := c.idx.varyOf(key)
		m, body := c.lookup(id, varyValues(names, bg.Header))
		p := fetchPlan{key: key, id: id, old: m, oldBody: body, fetch: fetch, req: parseDirectives(nil), flight: f, background: true}
		c.fetchAndServe(discard{h: http.Header{}}, bg, p)
	})
	if !started {
		c.land(id, f)
	}
}

// discard is the ResponseWriter of background revalidations.
type discard struct{ h http.Header }

func (d discard) Header() http.Header         { return d.h }
func (d discard) Write(p []byte) (int, error) { return len(p), nil }
func (d discard) WriteHeader(int)             {}

// invalidate removes every variant of key.
func (c *Cache) invalidate(key string) {
	for _, id := range c.idx.idsOfKey(key) {
		c.store.Delete(id)
		c.idx.remove(id)
	}
}
