package httpcache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// fetchPlan is one trip to the origin.
type fetchPlan struct {
	key string
	id  string // the variant id looked up (the flight's id)
	// old is the stored response being revalidated (nil on a miss); its
	// body is closed by fetchAndServe.
	old     *meta
	oldBody Body
	fetch   Fetch
	req     directives
	flight  *flight // non-nil when leading a flight: landed by fetchAndServe
	// pass: the request is forwarded as it is (hit-for-pass or a follower
	// of an uncacheable flight); a cacheable response is still stored.
	pass bool
	// background: a stale-while-revalidate refresh; w discards.
	background bool
	// epoch is the purge epoch when the fetch began: what it brings is
	// stored only if no purge ran since (Cache.purgeMu).
	epoch uint64
}

// conditionalFields are the request fields the cache removes before
// fetching a full response it may store.
var conditionalFields = []string{"Range", "If-Range", "If-None-Match", "If-Modified-Since", "If-Match", "If-Unmodified-Since"}

// fetchAndServe fetches r's response through p.fetch, stores it when
// storable (streaming it to w and to the storage at once), and answers w.
func (c *Cache) fetchAndServe(w http.ResponseWriter, r *http.Request, p fetchPlan) (o Outcome) {
	if p.flight != nil {
		defer c.land(p.id, p.flight)
	}
	if p.oldBody != nil {
		defer func() {
			if p.oldBody != nil {
				p.oldBody.Close()
			}
		}()
	}
	// A shared fetch outlives the request that started it.
	base := r.Context()
	if p.flight != nil || p.background {
		base = context.WithoutCancel(base)
	}
	ctx, cancel := context.WithTimeout(base, c.opts.FetchTimeout)
	defer cancel()
	up := r.Clone(ctx)
	up.Header = r.Header.Clone()
	if cacheable(r.Method) {
		for _, f := range conditionalFields {
			up.Header.Del(f)
		}
		up.Method = http.MethodGet // a HEAD fetches what can be stored
		// The origin sees the coding the variant is normalised to, so a
		// response stored for "gzip" is never in a coding another "gzip"
		// client did not accept.
		up.Header.Set("Accept-Encoding", bestEncoding(strings.Join(r.Header.Values("Accept-Encoding"), ", ")))
	}
	p.epoch = c.epoch()
	resp, reqTime, respTime, err := c.roundTrip(ctx, up, &p)
	if err != nil {
		c.opts.Logger.Debug("httpcache: fetch failed", "key", p.key, "err", err)
		if p.flight != nil {
			p.flight.failed = true
		}
		return c.originFailed(w, r, &p, respTime, "origin unreachable", errors.Is(err, context.DeadlineExceeded))
	}
	defer resp.Body.Close()

	switch {
	case resp.StatusCode == http.StatusNotModified && p.old != nil:
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		return c.refreshed(w, r, &p, resp.Header, reqTime, respTime)
	case isServerError(resp.StatusCode) && p.old != nil && c.staleOnError(p.old, respTime):
		if p.flight != nil {
			p.flight.failed = true
		}
		return c.originFailed(w, r, &p, respTime, "origin error", false)
	}
	return c.storeAndStream(w, r, &p, resp, reqTime, respTime)
}

// roundTrip sends up, conditional on p.old's validators when it is set. A
// 304 whose strong ETag is not the stored one does not validate it (RFC
// 9111 §4.3.4): the stored response is dropped and the request repeated
// unconditionally.
func (c *Cache) roundTrip(ctx context.Context, up *http.Request, p *fetchPlan) (resp *http.Response, reqTime, respTime time.Time, err error) {
	for {
		up.Header.Del("If-None-Match")
		up.Header.Del("If-Modified-Since")
		if p.old != nil {
			if etag := p.old.header.Get("Etag"); etag != "" {
				up.Header.Set("If-None-Match", etag)
			}
			if lm := p.old.header.Get("Last-Modified"); lm != "" {
				up.Header.Set("If-Modified-Since", lm)
			}
		}
		reqTime = c.now()
		c.st.fetches.Add(1)
		resp, err = p.fetch(ctx, up)
		respTime = c.now()
		if err != nil || resp.StatusCode != http.StatusNotModified || p.old == nil {
			return resp, reqTime, respTime, err
		}
		got, have := resp.Header.Get("Etag"), p.old.header.Get("Etag")
		if got == "" || have == "" || got == have {
			return resp, reqTime, respTime, nil
		}
		resp.Body.Close()
		c.opts.Logger.Debug("httpcache: 304 for another ETag; dropping the stored response", "key", p.key, "stored", have, "got", got)
		c.store.Delete(p.id)
		c.idx.remove(p.id)
		p.oldBody.Close()
		p.old, p.oldBody = nil, nil
	}
}

func isServerError(code int) bool {
	return code == 500 || code == 502 || code == 503 || code == 504
}

// staleOnError reports whether m may be served after an origin failure at
// now: within its stale-if-error window or Grace, unless it forbids stale.
func (c *Cache) staleOnError(m *meta, now time.Time) bool {
	if m.has(flagNoStale) || m.has(flagNoCache) {
		return false
	}
	s := m.staleness(now)
	return s <= c.opts.Grace || m.sie >= 0 && s <= m.sie
}

// originFailed answers when the origin could not: the stale entry when
// allowed, else 504 (timeout, or an entry that must be revalidated) or 502.
func (c *Cache) originFailed(w http.ResponseWriter, r *http.Request, p *fetchPlan, now time.Time, detail string, timeout bool) Outcome {
	if p.background {
		return Error
	}
	if p.old != nil && c.staleOnError(p.old, now) {
		body := p.oldBody
		p.oldBody = nil
		return c.serveStored(w, r, p.old, body, Stale, "hit; ttl="+ttlSeconds(p.old, now)+"; detail=stale-if-error")
	}
	if timeout || p.old != nil && (p.old.has(flagNoStale) || p.old.has(flagNoCache)) {
		return c.errorResponse(w, http.StatusGatewayTimeout, detail)
	}
	return c.errorResponse(w, http.StatusBadGateway, detail)
}

func ttlSeconds(m *meta, now time.Time) string {
	return strconv.FormatInt(int64(-m.staleness(now)/time.Second), 10)
}

// refreshed applies a 304 to the stored response (RFC 9111 §4.3.4): its
// fields replace the stored ones, its times restart the entry's age, and a
// soft purge is cleared. The stored body answers r.
func (c *Cache) refreshed(w http.ResponseWriter, r *http.Request, p *fetchPlan, h304 http.Header, reqTime, respTime time.Time) Outcome {
	h := p.old.header.Clone()
	for k, v := range storedHeader(h304, respTime) {
		if k == "Content-Type" || k == "Content-Encoding" || k == "Content-Range" {
			continue
		}
		h[k] = v
	}
	m := c.newMeta(p.key, p.old.status, h, h304, p.old.varyNames, p.old.varyValues, reqTime, respTime)
	m.stored = p.old.stored
	if !c.storeIfUnpurged(p.epoch, func() {
		c.store.SetMeta(p.id, encodeMeta(m))
		c.indexAdd(p.id, m)
	}) {
		c.opts.Logger.Debug("httpcache: a purge ran during the revalidation; not refreshing", "key", p.key)
	}
	if p.flight != nil {
		p.flight.stored, p.flight.id = true, p.id
	}
	if p.background {
		return Revalidated
	}
	body := p.oldBody
	p.oldBody = nil
	return c.serveStored(w, r, m, body, Revalidated, "fwd=stale; fwd-status=304")
}

// newMeta builds the meta of a response to store.
// Its age comes from src, the header as received (with Age).
func (c *Cache) newMeta(key string, status int, h, src http.Header, names, values []string, reqTime, respTime time.Time) *meta {
	rr := rulesOf(h)
	life, _ := c.lifetime(status, h, rr, respTime)
	m := &meta{
		key: key, status: status, reqTime: reqTime, respTime: respTime, stored: respTime,
		initialAge: initialAge(src, reqTime, respTime), lifetime: life,
		swr: -1, sie: -1, varyNames: names, varyValues: values, header: h,
		tags: strings.Fields(strings.Join(h.Values("Surrogate-Key"), " ")),
	}
	if rr.cc.swr >= 0 {
		m.swr = secs(rr.cc.swr)
	}
	if rr.cc.sie >= 0 {
		m.sie = secs(rr.cc.sie)
	}
	if rr.cc.noCache {
		m.flags |= flagNoCache
	}
	if rr.noStale() {
		m.flags |= flagNoStale
	}
	return m
}

// storable decides whether resp may be stored for r; reason says why not
// (and, with responseFault, that the response itself is uncacheable rather
// than this request or the storage).
func (c *Cache) storable(r *http.Request, p *fetchPlan, resp *http.Response, respTime time.Time) (reason string, responseFault bool) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return "method", false
	}
	rr := rulesOf(resp.Header)
	if why := c.notStorable(p.req, r.Header, resp.StatusCode, resp.Header, rr); why != "" {
		return why, why != "request no-store" && why != "authorization"
	}
	life, ok := c.lifetime(resp.StatusCode, resp.Header, rr, respTime)
	if !ok {
		return "no freshness", true
	}
	validators := resp.Header.Get("Etag") != "" || resp.Header.Get("Last-Modified") != ""
	if (life == 0 || rr.cc.noCache) && !validators && rr.cc.swr <= 0 && rr.cc.sie <= 0 {
		return "not reusable", true
	}
	if resp.ContentLength > c.opts.MaxObjectBytes {
		return "too large", true
	}
	return "", false
}

// storeAndStream answers r with a full response, writing its body to the
// storage as it streams to the client when it is storable.
func (c *Cache) storeAndStream(w http.ResponseWriter, r *http.Request, p *fetchPlan, resp *http.Response, reqTime, respTime time.Time) Outcome {
	var (
		sw     Writer
		m      *meta
		newID  string
		reason string
		fault  bool
	)
	reason, fault = c.storable(r, p, resp, respTime)
	if reason == "" {
		h := storedHeader(resp.Header, respTime)
		names := varyNames(h)
		values := varyValues(names, r.Header)
		newID = variantID(p.key, names, values)
		m = c.newMeta(p.key, resp.StatusCode, h, resp.Header, names, values, reqTime, respTime)
		size := resp.ContentLength
		if !bodyAllowed(resp.StatusCode) {
			size = 0
		}
		var err error
		if sw, err = c.store.Create(newID, encodeMeta(m), size); err != nil {
			// Too large for the storage is a property of the response;
			// not admitted is the storage's choice of the moment.
			reason, sw, fault = "storage: "+err.Error(), nil, errors.Is(err, ErrTooLarge)
		}
	}
	outcome := Miss
	if p.pass && sw == nil {
		outcome = Pass
	}
	if !safe(r.Method) && resp.StatusCode < 400 {
		c.invalidate(p.key) // RFC 9111 §4.4
	}
	if reason != "" && isServerError(resp.StatusCode) && cacheable(r.Method) {
		// An origin in trouble: followers answer an error (or stale) instead
		// of each asking it again; the stored response is kept.
		if p.flight != nil {
			p.flight.failed = true
		}
		fault = false
	}
	if reason != "" {
		c.opts.Logger.Debug("httpcache: not storing", "key", p.key, "reason", reason)
		if fault && p.flight != nil {
			c.markPass(p.id)
		}
		if fault && p.old != nil {
			c.store.Delete(p.id)
			c.idx.remove(p.id)
		}
	}

	// The client's answer.
	h := resp.Header
	if m != nil {
		h = m.header
		w.Header().Set("Age", ageSeconds(m.initialAge))
	} else {
		h = storedHeader(resp.Header, respTime)
		if a := resp.Header.Get("Age"); a != "" {
			w.Header().Set("Age", a)
		}
	}
	c.writeHeader(w, r, h)
	cs := "fwd=uri-miss"
	switch {
	case p.pass:
		cs = "fwd=bypass"
	case p.old != nil:
		cs = "fwd=stale"
	case p.req.revalidate():
		cs = "fwd=request"
	}
	cs += "; fwd-status=" + strconv.Itoa(resp.StatusCode)
	if sw != nil {
		cs += "; stored"
	}
	c.setStatusHeaders(w, outcome, cs)

	var client io.Writer = w
	code := resp.StatusCode
	toClient := r.Method != http.MethodHead && bodyAllowed(code)
	var ww *windowWriter
	switch {
	case code == http.StatusOK && notModified(r, h):
		dropContentHeaders(w.Header())
		code, toClient = http.StatusNotModified, false
	case code == http.StatusOK && resp.ContentLength >= 0:
		w.Header().Set("Accept-Ranges", "bytes")
		start, end, kind := rangeOf(r, h, resp.ContentLength)
		switch kind {
		case rangeOne:
			code = http.StatusPartialContent
			w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end-1, resp.ContentLength))
			w.Header().Set("Content-Length", strconv.FormatInt(end-start, 10))
			ww = &windowWriter{w: w, start: start, end: end}
			client = ww
		case rangeUnsatisfiable:
			w.Header().Set("Content-Range", fmt.Sprintf("bytes */%d", resp.ContentLength))
			w.Header().Set("Content-Length", "0")
			code, toClient = http.StatusRequestedRangeNotSatisfiable, false
		default:
			w.Header().Set("Content-Length", strconv.FormatInt(resp.ContentLength, 10))
		}
	case resp.ContentLength >= 0 && bodyAllowed(code):
		w.Header().Set("Content-Length", strconv.FormatInt(resp.ContentLength, 10))
	}
	if !p.background {
		w.WriteHeader(code)
	}
	if !toClient || p.background {
		client = nil
	}

	// Stream: the body goes to the client and to the storage; a client that
	// goes away does not stop the storage write (followers wait on it).
	var total, served int64
	bufp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bufp)
	buf := *bufp
	var readErr error
	for {
		if client == nil && sw == nil {
			break
		}
		n, err := resp.Body.Read(buf)
		if n > 0 {
			total += int64(n)
			if sw != nil && total > c.opts.MaxObjectBytes {
				sw.Abort()
				sw = nil
				c.opts.Logger.Debug("httpcache: not storing", "key", p.key, "reason", "too large")
				if p.flight != nil {
					c.markPass(p.id)
				}
			}
			if sw != nil {
				if _, werr := sw.Write(buf[:n]); werr != nil {
					sw.Abort()
					sw = nil
				}
			}
			if client != nil {
				wn, werr := client.Write(buf[:n])
				if ww == nil {
					served += int64(wn)
				}
				if werr != nil || ww != nil && ww.err != nil {
					client = nil
				}
			}
		}
		if err != nil {
			if err != io.EOF {
				readErr = err
			}
			break
		}
	}
	if ww != nil {
		served = ww.n
	}
	c.st.bytesServed.Add(served)
	if readErr != nil {
		c.opts.Logger.Debug("httpcache: origin body failed", "key", p.key, "err", readErr)
		if sw != nil {
			sw.Abort()
		}
		return Error
	}
	if sw != nil {
		var err error
		if !c.storeIfUnpurged(p.epoch, func() {
			if err = sw.Commit(); err == nil {
				c.indexAdd(newID, m)
			}
		}) {
			sw.Abort()
			c.opts.Logger.Debug("httpcache: a purge ran during the fetch; not storing", "key", p.key)
		} else if err != nil {
			c.opts.Logger.Debug("httpcache: storage refused", "key", p.key, "err", err)
		} else {
			c.clearPass(p.id)
			if p.flight != nil {
				p.flight.stored, p.flight.id = true, newID
			}
		}
	}
	return outcome
}
