package origin

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Origin fetches what the edge misses. It has the shape of httpcache.Fetch:
// Fetch answers r (method, URL, headers; a conditional request when
// revalidating) and the caller reads and closes the response body. An error
// means no answer at all (the origin could not be reached, ctx ended);
// answers the origin gives, errors included, are responses. Implementations
// are safe for concurrent use.
type Origin interface {
	Fetch(ctx context.Context, r *http.Request) (*http.Response, error)
}

// Func adapts a function to Origin.
type Func func(ctx context.Context, r *http.Request) (*http.Response, error)

// Fetch calls f.
func (f Func) Fetch(ctx context.Context, r *http.Request) (*http.Response, error) { return f(ctx, r) }

// Sentinel errors.
var (
	// ErrBadConfig: a constructor's argument is out of range; the message
	// names the field.
	ErrBadConfig = errors.New("origin: invalid configuration")
)

// TextResponse is a small plain-text answer to r (msg and a newline) that no
// cache stores: what an origin or shield says when it cannot answer.
func TextResponse(r *http.Request, code int, msg string) *http.Response {
	body := msg + "\n"
	h := http.Header{
		"Content-Type":           {"text/plain; charset=utf-8"},
		"Content-Length":         {strconv.Itoa(len(body))},
		"X-Content-Type-Options": {"nosniff"},
		"Date":                   {time.Now().UTC().Format(http.TimeFormat)},
	}
	if code >= 500 {
		h.Set("Cache-Control", "no-store")
	}
	resp := newResponse(r, code, h, int64(len(body)))
	if r.Method != http.MethodHead {
		resp.Body = readCloser(strings.NewReader(body))
	}
	return resp
}

// newResponse is a response to r with an empty body.
func newResponse(r *http.Request, code int, h http.Header, length int64) *http.Response {
	return &http.Response{
		Status:        strconv.Itoa(code) + " " + http.StatusText(code),
		StatusCode:    code,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          http.NoBody,
		ContentLength: length,
		Request:       r,
	}
}

type nopCloser struct{ *strings.Reader }

func (nopCloser) Close() error { return nil }

func readCloser(r *strings.Reader) nopCloser { return nopCloser{r} }

// hopByHop are the hop-by-hop headers (RFC 9110 section 7.6.1 and the
// historical Proxy-Connection and Keep-Alive), canonical.
var hopByHop = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// endToEnd returns a copy of h without its hop-by-hop headers, those its
// Connection header lists, and the shield headers.
func endToEnd(h http.Header) http.Header {
	out := h.Clone()
	if out == nil {
		out = http.Header{}
	}
	for _, v := range h["Connection"] {
		for _, name := range strings.Split(v, ",") {
			if name = strings.TrimSpace(name); name != "" {
				out.Del(name)
			}
		}
	}
	for _, k := range hopByHop {
		delete(out, k)
	}
	delete(out, HeaderShield)
	delete(out, HeaderShieldOwner)
	return out
}

// stripHopByHop removes the hop-by-hop headers of a response in place.
func stripHopByHop(h http.Header) {
	for _, v := range h["Connection"] {
		for _, name := range strings.Split(v, ",") {
			if name = strings.TrimSpace(name); name != "" {
				h.Del(name)
			}
		}
	}
	for _, k := range hopByHop {
		delete(h, k)
	}
}
