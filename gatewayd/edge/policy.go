package edge

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"

	"cairn.dev/cairn/gatewayd/edge/compress"
	"cairn.dev/cairn/gatewayd/edge/imageopt"
	"cairn.dev/cairn/gatewayd/edge/origin"
	"cairn.dev/cairn/gatewayd/edge/protect"
	"cairn.dev/cairn/gatewayd/edge/rules"
	"cairn.dev/cairn/gatewayd/httpcache"
)

// policy is what the edge does around the cache: the rules of
// Settings.RulesFile (deny list, redirects, rewrites, normalisation, A/B
// buckets, header edits), per-IP request and connection limits, the
// origin-overload detector that switches the cache to serving stale, image
// transforms and compression.
type policy struct {
	logger   *slog.Logger
	rules    *rules.Engine    // nil without a rules file
	limiter  *protect.Limiter // nil without IPRate
	conns    int              // per-IP connection cap, 0: none
	detector *protect.AttackDetector
	attack   atomic.Bool
	images   bool
	// transforms bounds the image transforms running at once (a decoded
	// image may take hundreds of MB): one per CPU.
	transforms chan struct{}
	compressOn bool
}

// newPolicy builds the policy of st; cache is switched to under-attack
// mode while the detector says the origin is overwhelmed.
func newPolicy(st Settings, cache *httpcache.Cache, logger *slog.Logger) (*policy, error) {
	p := &policy{logger: logger, conns: st.IPConns, images: !st.NoImages, compressOn: !st.NoCompress,
		transforms: make(chan struct{}, runtime.GOMAXPROCS(0))}
	if st.RulesFile != "" {
		raw, err := os.ReadFile(st.RulesFile)
		if err != nil {
			return nil, fmt.Errorf("edge: rules_file: %w", err)
		}
		cfg, err := rules.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("edge: rules_file %s: %w", st.RulesFile, err)
		}
		if p.rules, err = cfg.Compile(); err != nil {
			return nil, fmt.Errorf("edge: rules_file %s: %w", st.RulesFile, err)
		}
	}
	if st.IPRate > 0 {
		l, err := protect.NewLimiter(protect.LimiterConfig{Rate: st.IPRate, Burst: st.IPBurst})
		if err != nil {
			return nil, fmt.Errorf("edge: ip_rate: %w", err)
		}
		p.limiter = l
	}
	d, err := protect.NewAttackDetector(protect.DetectorConfig{
		Logger: logger,
		OnChange: func(on bool) {
			p.attack.Store(on)
			cache.SetUnderAttack(on)
		},
	})
	if err != nil {
		return nil, fmt.Errorf("edge: attack detector: %w", err)
	}
	p.detector = d
	return p, nil
}

// wrapListener caps connections per client IP (Settings.IPConns).
func (p *policy) wrapListener(ln net.Listener) net.Listener {
	if p.conns <= 0 {
		return ln
	}
	cl, err := protect.NewConnLimiter(ln, protect.ConnLimiterConfig{MaxPerClient: p.conns, Logger: p.logger})
	if err != nil {
		p.logger.Error("per-IP connection limit not applied", "err", err)
		return ln
	}
	return cl
}

// refuse answers r when the per-IP request limit refuses it (429), and
// reports whether it did.
func (p *policy) refuse(w http.ResponseWriter, r *http.Request) bool {
	if p.limiter == nil {
		return false
	}
	ip, ok := rules.RemoteAddr(r)
	if !ok {
		return false
	}
	if ok, retry := p.limiter.Allow(ip); !ok {
		protect.WriteTooManyRequests(w, retry)
		return true
	}
	return false
}

// apply runs the edge rules on r: done when they answered (deny,
// redirect); keyExtra is what they add to the cache key (A/B buckets).
// Response header rules are applied as the response is written.
func (p *policy) apply(w http.ResponseWriter, r *http.Request) (keyExtra string, done bool) {
	if p.rules == nil {
		return "", false
	}
	return p.rules.Apply(w, r)
}

// responseHeaders applies the rules' response header edits to h.
func (p *policy) responseHeaders(h http.Header) {
	if p.rules != nil {
		p.rules.ResponseHeaders(h)
	}
}

// observe runs an origin fetch and tells the detector how it went.
func (p *policy) observe(fetch func(context.Context, *http.Request) (*http.Response, error)) func(context.Context, *http.Request) (*http.Response, error) {
	return p.detector.Wrap(fetch)
}

// underAttack reports whether the detector has the cache serving stale.
func (p *policy) underAttack() bool { return p.attack.Load() }

// imageParams are a request's image transform, if any.
type imageParams = imageopt.Params

// image reads r's image transform parameters; ok is false when r asks for
// none (or transforms are off).
func (p *policy) image(r *http.Request) (imageParams, bool, error) {
	if !p.images || (r.Method != http.MethodGet && r.Method != http.MethodHead) || r.URL.RawQuery == "" {
		return imageParams{}, false, nil
	}
	return imageopt.Parse(r.URL.Query())
}

// imageQueryParams are the query parameters of an image transform, dropped
// from the request for the original.
var imageQueryParams = []string{"width", "height", "fit", "format", "quality"}

// withoutImageQuery returns a copy of r asking for the original image.
func withoutImageQuery(r *http.Request) *http.Request {
	q := r.URL.Query()
	for _, k := range imageQueryParams {
		q.Del(k)
	}
	r2 := r.Clone(r.Context())
	r2.URL.RawQuery = q.Encode()
	r2.RequestURI = ""
	return r2
}

// transform turns an origin response holding an image into the
// transformed image, keeping its caching headers. A response that is not
// a 200 image passes unchanged; a transform error becomes a 422 (not
// cached: no freshness).
func (p *policy) transform(r *http.Request, resp *http.Response, img imageParams) *http.Response {
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "image/") {
		return resp
	}
	defer resp.Body.Close()
	select {
	case p.transforms <- struct{}{}:
		defer func() { <-p.transforms }()
	case <-r.Context().Done():
		return origin.TextResponse(r, http.StatusServiceUnavailable, "image transform: request ended while waiting")
	}
	out, ct, err := imageopt.Transform(resp.Body, resp.Header.Get("Content-Type"), img, imageopt.Limits{})
	if err != nil {
		return origin.TextResponse(r, http.StatusUnprocessableEntity, "image transform: "+err.Error())
	}
	h := resp.Header.Clone()
	h.Set("Content-Type", ct)
	h.Set("Content-Length", strconv.Itoa(len(out)))
	h.Del("Content-Encoding")
	if et := h.Get("ETag"); et != "" {
		h.Set("ETag", strings.TrimSuffix(et, `"`)+"-"+img.Canonical()+`"`)
	}
	return &http.Response{
		Status: resp.Status, StatusCode: resp.StatusCode, Proto: resp.Proto, ProtoMajor: resp.ProtoMajor, ProtoMinor: resp.ProtoMinor,
		Header: h, Body: io.NopCloser(bytes.NewReader(out)), ContentLength: int64(len(out)), Request: resp.Request,
	}
}

// compress encodes an origin response for r's Accept-Encoding when it is
// worth it, streaming, with Vary: Accept-Encoding; the cache then keeps
// one variant per encoding.
func (p *policy) compress(r *http.Request, resp *http.Response) *http.Response {
	if !p.compressOn || resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Encoding") != "" ||
		strings.Contains(resp.Header.Get("Cache-Control"), "no-transform") {
		return resp
	}
	varyAcceptEncoding(resp.Header)
	enc := compress.Negotiate(r.Header.Get("Accept-Encoding"))
	if enc == "" || !compress.Compressible(resp.Header.Get("Content-Type"), resp.ContentLength) {
		return resp
	}
	pr, pw := io.Pipe()
	zw, err := compress.NewWriter(pw, enc, 0)
	if err != nil {
		return resp
	}
	body := resp.Body
	go func() {
		_, err := io.Copy(zw, body)
		if cerr := zw.Close(); err == nil {
			err = cerr
		}
		body.Close()
		pw.CloseWithError(err)
	}()
	h := resp.Header.Clone()
	h.Set("Content-Encoding", enc)
	h.Del("Content-Length")
	if et := h.Get("ETag"); et != "" && !strings.HasPrefix(et, "W/") {
		h.Set("ETag", "W/"+et)
	}
	out := *resp
	out.Header, out.Body, out.ContentLength = h, pr, -1
	return &out
}

// varyAcceptEncoding adds Accept-Encoding to h's Vary unless it is there.
func varyAcceptEncoding(h http.Header) {
	for _, v := range h.Values("Vary") {
		for _, f := range strings.Split(v, ",") {
			if f = strings.TrimSpace(f); strings.EqualFold(f, "Accept-Encoding") || f == "*" {
				return
			}
		}
	}
	h.Add("Vary", "Accept-Encoding")
}
