package httpcache

import (
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// step is one request of a conformance case.
type step struct {
	advance time.Duration
	method  string   // default GET
	req     []string // request header lines
	// origin, when set, is what the origin answers from this step on;
	// originErr makes fetches fail from this step on (until origin is set).
	origin    *reply
	originErr bool
	do        func(c *Cache) // before the request (purge, under attack)

	want       Outcome
	wantStatus int      // default 200
	wantFetch  bool     // the origin is called during this step
	wantHdr    []string // "Name: value" exact; "Name:" absent
	wantBody   *string  // nil: not checked
	wantSent   []string // header lines the origin must have received ("Name:" absent)
	background bool     // wait for background revalidations after the request
}

type reply struct {
	status int
	body   string
	hdr    []string
}

func str(s string) *string { return &s }

var dateToken = regexp.MustCompile(`\{now([+-]\d+)?\}`)

// expand replaces {now}, {now+N} and {now-N} (seconds) with HTTP dates.
func expand(s string, now time.Time) string {
	return dateToken.ReplaceAllStringFunc(s, func(tok string) string {
		m := dateToken.FindStringSubmatch(tok)
		t := now
		if m[1] != "" {
			n, _ := strconv.Atoi(m[1])
			t = now.Add(time.Duration(n) * time.Second)
		}
		return t.UTC().Format(http.TimeFormat)
	})
}

func ok200(body string, hdr ...string) *reply { return &reply{status: 200, body: body, hdr: hdr} }

const day = 24 * 3600

func TestConformance(t *testing.T) {
	cases := []struct {
		name  string
		steps []step
	}{
		{"max-age fresh then hit with Age", []step{
			{origin: ok200("a", "Cache-Control: max-age=60"), want: Miss, wantFetch: true, wantBody: str("a"), wantHdr: []string{"Age: 0", "X-Cache: MISS"}},
			{advance: 30 * time.Second, want: Hit, wantBody: str("a"), wantHdr: []string{"Age: 30", "X-Cache: HIT", "Cache-Status: edge-t; hit; ttl=30"}},
		}},
		{"max-age expired refetch", []step{
			{origin: ok200("a", "Cache-Control: max-age=60"), want: Miss, wantFetch: true},
			{advance: 61 * time.Second, origin: ok200("b", "Cache-Control: max-age=60"), want: Miss, wantFetch: true, wantBody: str("b")},
			{advance: time.Second, want: Hit, wantBody: str("b")},
		}},
		{"s-maxage wins over max-age", []step{
			{origin: ok200("a", "Cache-Control: max-age=10, s-maxage=100"), want: Miss, wantFetch: true},
			{advance: 50 * time.Second, want: Hit},
		}},
		{"Expires minus Date", []step{
			{origin: ok200("a", "Date: {now}", "Expires: {now+60}"), want: Miss, wantFetch: true},
			{advance: 59 * time.Second, want: Hit},
			{advance: 2 * time.Second, want: Miss, wantFetch: true},
		}},
		{"max-age beats Expires", []step{
			{origin: ok200("a", "Cache-Control: max-age=100", "Expires: {now-10}"), want: Miss, wantFetch: true},
			{advance: 50 * time.Second, want: Hit},
		}},
		{"invalid Expires is stale, not reusable without validator", []step{
			{origin: ok200("a", "Expires: 0"), want: Miss, wantFetch: true},
			{want: Pass, wantFetch: true},
		}},
		{"heuristic freshness from Last-Modified", []step{
			{origin: ok200("a", "Date: {now}", "Last-Modified: {now-864000}"), want: Miss, wantFetch: true},
			{advance: 23 * time.Hour, want: Hit},
			{advance: 2 * time.Hour, origin: &reply{status: 304}, want: Revalidated, wantFetch: true,
				wantSent: []string{"If-Modified-Since: {now-954000}"}},
		}},
		{"no heuristic for 302", []step{
			{origin: &reply{status: 302, hdr: []string{"Location: /x", "Last-Modified: {now-864000}"}}, want: Miss, wantStatus: 302, wantFetch: true},
			{want: Pass, wantStatus: 302, wantFetch: true},
		}},
		{"404 with max-age stored", []step{
			{origin: &reply{status: 404, body: "nf", hdr: []string{"Cache-Control: max-age=60"}}, want: Miss, wantStatus: 404, wantFetch: true},
			{want: Hit, wantStatus: 404, wantBody: str("nf")},
		}},
		{"500 without freshness not stored", []step{
			{origin: &reply{status: 500, body: "x"}, want: Miss, wantStatus: 500, wantFetch: true},
			{want: Miss, wantStatus: 500, wantFetch: true, wantBody: str("x")},
		}},
		{"204 stored", []step{
			{origin: &reply{status: 204, hdr: []string{"Cache-Control: max-age=60"}}, want: Miss, wantStatus: 204, wantFetch: true},
			{want: Hit, wantStatus: 204, wantBody: str("")},
		}},
		{"response no-store", []step{
			{origin: ok200("a", "Cache-Control: no-store, max-age=60"), want: Miss, wantFetch: true},
			{want: Pass, wantFetch: true},
		}},
		{"Surrogate-Control no-store", []step{
			{origin: ok200("a", "Cache-Control: max-age=60", "Surrogate-Control: no-store"), want: Miss, wantFetch: true},
			{want: Pass, wantFetch: true},
		}},
		{"private", []step{
			{origin: ok200("a", "Cache-Control: private, max-age=60"), want: Miss, wantFetch: true},
			{want: Pass, wantFetch: true},
		}},
		{"Set-Cookie never stored", []step{
			{origin: ok200("a", "Cache-Control: max-age=60", "Set-Cookie: s=1"), want: Miss, wantFetch: true},
			{want: Pass, wantFetch: true},
		}},
		{"Vary star not stored", []step{
			{origin: ok200("a", "Cache-Control: max-age=60", "Vary: *"), want: Miss, wantFetch: true},
			{want: Pass, wantFetch: true},
		}},
		{"Authorization without public not stored", []step{
			{req: []string{"Authorization: Bearer x"}, origin: ok200("a", "Cache-Control: max-age=60"), want: Miss, wantFetch: true},
			{want: Miss, wantFetch: true},
			{want: Hit},
		}},
		{"Authorization with public stored", []step{
			{req: []string{"Authorization: Bearer x"}, origin: ok200("a", "Cache-Control: public, max-age=60"), want: Miss, wantFetch: true},
			{want: Hit},
		}},
		{"Authorization with s-maxage stored", []step{
			{req: []string{"Authorization: Bearer x"}, origin: ok200("a", "Cache-Control: s-maxage=60"), want: Miss, wantFetch: true},
			{want: Hit},
		}},
		{"request no-store not stored but served from cache", []step{
			{req: []string{"Cache-Control: no-store"}, origin: ok200("a", "Cache-Control: max-age=60"), want: Miss, wantFetch: true},
			{want: Miss, wantFetch: true},
			{req: []string{"Cache-Control: no-store"}, want: Hit},
		}},
		{"response no-cache revalidates every time", []step{
			{origin: ok200("a", "Cache-Control: no-cache, max-age=600", `ETag: "v1"`), want: Miss, wantFetch: true},
			{origin: &reply{status: 304, hdr: []string{`ETag: "v1"`}}, want: Revalidated, wantFetch: true, wantBody: str("a"),
				wantSent: []string{`If-None-Match: "v1"`}, wantHdr: []string{"X-Cache: REVALIDATED"}},
			{want: Revalidated, wantFetch: true},
		}},
		{"response no-cache on origin error is not served stale", []step{
			{origin: ok200("a", "Cache-Control: no-cache", `ETag: "v1"`), want: Miss, wantFetch: true},
			{originErr: true, want: Error, wantStatus: 504, wantFetch: true},
		}},
		{"request no-cache revalidates a fresh entry", []step{
			{origin: ok200("a", "Cache-Control: max-age=600", `ETag: "v1"`), want: Miss, wantFetch: true},
			{req: []string{"Cache-Control: no-cache"}, origin: &reply{status: 304}, want: Revalidated, wantFetch: true, wantBody: str("a")},
		}},
		{"Pragma no-cache revalidates", []step{
			{origin: ok200("a", "Cache-Control: max-age=600", `ETag: "v1"`), want: Miss, wantFetch: true},
			{req: []string{"Pragma: no-cache"}, origin: &reply{status: 304}, want: Revalidated, wantFetch: true},
		}},
		{"Pragma ignored with Cache-Control", []step{
			{origin: ok200("a", "Cache-Control: max-age=600", `ETag: "v1"`), want: Miss, wantFetch: true},
			{req: []string{"Pragma: no-cache", "Cache-Control: max-stale"}, want: Hit},
		}},
		{"request max-age=0 revalidates", []step{
			{origin: ok200("a", "Cache-Control: max-age=600", `ETag: "v1"`), want: Miss, wantFetch: true},
			{req: []string{"Cache-Control: max-age=0"}, origin: &reply{status: 304}, want: Revalidated, wantFetch: true},
		}},
		{"request max-age=N", []step{
			{origin: ok200("a", "Cache-Control: max-age=600", `ETag: "v1"`), want: Miss, wantFetch: true},
			{advance: 30 * time.Second, req: []string{"Cache-Control: max-age=40"}, want: Hit},
			{req: []string{"Cache-Control: max-age=10"}, origin: &reply{status: 304}, want: Revalidated, wantFetch: true, wantHdr: []string{"Age: 0"}},
		}},
		{"request min-fresh", []step{
			{origin: ok200("a", "Cache-Control: max-age=60"), want: Miss, wantFetch: true},
			{advance: 30 * time.Second, req: []string{"Cache-Control: min-fresh=20"}, want: Hit},
			{req: []string{"Cache-Control: min-fresh=40"}, want: Miss, wantFetch: true},
		}},
		{"request max-stale", []step{
			{origin: ok200("a", "Cache-Control: max-age=60"), want: Miss, wantFetch: true},
			{advance: 90 * time.Second, req: []string{"Cache-Control: max-stale=60"}, want: Stale, wantHdr: []string{"Age: 90"}},
			{req: []string{"Cache-Control: max-stale"}, want: Stale},
			{req: []string{"Cache-Control: max-stale=10"}, want: Miss, wantFetch: true},
		}},
		{"must-revalidate ignores max-stale", []step{
			{origin: ok200("a", "Cache-Control: max-age=60, must-revalidate"), want: Miss, wantFetch: true},
			{advance: 90 * time.Second, req: []string{"Cache-Control: max-stale=60"}, want: Miss, wantFetch: true},
		}},
		{"only-if-cached", []step{
			{req: []string{"Cache-Control: only-if-cached"}, want: Error, wantStatus: 504},
			{origin: ok200("a", "Cache-Control: max-age=60"), want: Miss, wantFetch: true},
			{req: []string{"Cache-Control: only-if-cached"}, want: Hit},
			{advance: 90 * time.Second, req: []string{"Cache-Control: only-if-cached"}, want: Error, wantStatus: 504},
			{req: []string{"Cache-Control: only-if-cached, max-stale"}, want: Stale},
		}},
		{"Age from origin counts", []step{
			{origin: ok200("a", "Cache-Control: max-age=60", "Age: 20"), want: Miss, wantFetch: true, wantHdr: []string{"Age: 20"}},
			{advance: 30 * time.Second, want: Hit, wantHdr: []string{"Age: 50"}},
			{advance: 11 * time.Second, want: Miss, wantFetch: true},
		}},
		{"apparent age from Date", []step{
			{origin: ok200("a", "Cache-Control: max-age=60", "Date: {now-30}"), want: Miss, wantFetch: true, wantHdr: []string{"Age: 30"}},
			{advance: 29 * time.Second, want: Hit, wantHdr: []string{"Age: 59"}},
			{advance: 2 * time.Second, want: Miss, wantFetch: true},
		}},
		{"304 updates stored headers and freshness", []step{
			{origin: ok200("a", "Cache-Control: max-age=60", `ETag: "v1"`, "X-V: 1"), want: Miss, wantFetch: true},
			{advance: 61 * time.Second, origin: &reply{status: 304, hdr: []string{"Cache-Control: max-age=100", "X-V: 2", `ETag: "v1"`}},
				want: Revalidated, wantFetch: true, wantBody: str("a"), wantHdr: []string{"X-V: 2", "Cache-Status: edge-t; fwd=stale; fwd-status=304"}},
			{advance: 90 * time.Second, want: Hit, wantHdr: []string{"X-V: 2", "Cache-Control: max-age=100"}},
		}},
		{"304 for another ETag does not validate", []step{
			{origin: ok200("a", "Cache-Control: max-age=60", `ETag: "v1"`), want: Miss, wantFetch: true},
			{advance: 61 * time.Second, origin: &reply{status: 304, hdr: []string{`ETag: "v2"`}}, want: Miss, wantStatus: 304, wantFetch: true,
				wantSent: []string{"If-None-Match:"}},
		}},
		{"revalidation with a new 200 replaces", []step{
			{origin: ok200("a", "Cache-Control: max-age=60", `ETag: "v1"`), want: Miss, wantFetch: true},
			{advance: 61 * time.Second, origin: ok200("b", "Cache-Control: max-age=60", `ETag: "v2"`), want: Miss, wantFetch: true, wantBody: str("b")},
			{want: Hit, wantBody: str("b"), wantHdr: []string{`Etag: "v2"`}},
		}},
		{"client If-None-Match on a fresh entry answers 304", []step{
			{origin: ok200("a", "Cache-Control: max-age=60", `ETag: "v1"`), want: Miss, wantFetch: true},
			{req: []string{`If-None-Match: "v0", W/"v1"`}, want: Hit, wantStatus: 304, wantBody: str("")},
			{req: []string{`If-None-Match: "v0"`}, want: Hit, wantStatus: 200, wantBody: str("a")},
		}},
		{"client If-Modified-Since on a fresh entry", []step{
			{origin: ok200("a", "Cache-Control: max-age=60", "Last-Modified: {now-100}"), want: Miss, wantFetch: true},
			{req: []string{"If-Modified-Since: {now-50}"}, want: Hit, wantStatus: 304},
			{req: []string{"If-Modified-Since: {now-200}"}, want: Hit, wantStatus: 200},
		}},
		{"client conditional on a miss answers 304 and still stores", []step{
			{req: []string{`If-None-Match: "v1"`}, origin: ok200("a", "Cache-Control: max-age=60", `ETag: "v1"`), want: Miss, wantStatus: 304, wantFetch: true,
				wantSent: []string{"If-None-Match:"}},
			{want: Hit, wantBody: str("a")},
		}},
		{"stale-while-revalidate serves stale and refreshes once", []step{
			{origin: ok200("a", "Cache-Control: max-age=60, stale-while-revalidate=30"), want: Miss, wantFetch: true},
			{advance: 70 * time.Second, origin: ok200("b", "Cache-Control: max-age=60, stale-while-revalidate=30"), want: Stale, wantFetch: true,
				background: true, wantBody: str("a"), wantHdr: []string{"Cache-Status: edge-t; hit; ttl=-10; detail=stale-while-revalidate"}},
			{want: Hit, wantBody: str("b")},
		}},
		{"stale-while-revalidate window passed", []step{
			{origin: ok200("a", "Cache-Control: max-age=60, stale-while-revalidate=30"), want: Miss, wantFetch: true},
			{advance: 100 * time.Second, origin: ok200("b", "Cache-Control: max-age=60"), want: Miss, wantFetch: true, wantBody: str("b")},
		}},
		{"request no-cache ignores stale-while-revalidate", []step{
			{origin: ok200("a", "Cache-Control: max-age=60, stale-while-revalidate=30"), want: Miss, wantFetch: true},
			{advance: 70 * time.Second, req: []string{"Cache-Control: no-cache"}, origin: ok200("b", "Cache-Control: max-age=60"), want: Miss, wantFetch: true, wantBody: str("b")},
		}},
		{"stale-if-error on a fetch error", []step{
			{origin: ok200("a", "Cache-Control: max-age=60, stale-if-error=100"), want: Miss, wantFetch: true},
			{advance: 90 * time.Second, originErr: true, want: Stale, wantFetch: true, wantBody: str("a")},
			{advance: 100 * time.Second, want: Error, wantStatus: 502, wantFetch: true},
		}},
		{"stale-if-error on 503", []step{
			{origin: ok200("a", "Cache-Control: max-age=60, stale-if-error=100"), want: Miss, wantFetch: true},
			{advance: 90 * time.Second, origin: &reply{status: 503, body: "down"}, want: Stale, wantFetch: true, wantBody: str("a")},
		}},
		{"404 is not an error for stale-if-error", []step{
			{origin: ok200("a", "Cache-Control: max-age=60, stale-if-error=100"), want: Miss, wantFetch: true},
			{advance: 90 * time.Second, origin: &reply{status: 404, body: "gone"}, want: Miss, wantStatus: 404, wantFetch: true},
		}},
		{"grace on origin error without stale-if-error", []step{
			{origin: ok200("a", "Cache-Control: max-age=60"), want: Miss, wantFetch: true},
			{advance: 65 * time.Second, originErr: true, want: Stale, wantFetch: true},
			{advance: 10 * time.Second, want: Error, wantStatus: 502, wantFetch: true},
		}},
		{"must-revalidate answers 504 on error", []step{
			{origin: ok200("a", "Cache-Control: max-age=60, must-revalidate, stale-if-error=100"), want: Miss, wantFetch: true},
			{advance: 61 * time.Second, originErr: true, want: Error, wantStatus: 504, wantFetch: true},
		}},
		{"s-maxage implies proxy-revalidate", []step{
			{origin: ok200("a", "Cache-Control: s-maxage=60, stale-while-revalidate=100"), want: Miss, wantFetch: true},
			{advance: 61 * time.Second, originErr: true, want: Error, wantStatus: 504, wantFetch: true},
		}},
		{"under attack serves stale within grace", []step{
			{origin: ok200("a", "Cache-Control: max-age=60"), want: Miss, wantFetch: true},
			{advance: 65 * time.Second, do: func(c *Cache) { c.SetUnderAttack(true) }, want: Stale, wantHdr: []string{"Cache-Status: edge-t; hit; ttl=-5; detail=grace"}},
			{advance: 10 * time.Second, want: Miss, wantFetch: true},
			{advance: 65 * time.Second, do: func(c *Cache) { c.SetUnderAttack(false) }, want: Miss, wantFetch: true},
		}},
		{"soft purge revalidates", []step{
			{origin: ok200("a", "Cache-Control: max-age=600", `ETag: "v1"`), want: Miss, wantFetch: true},
			{do: func(c *Cache) { c.PurgeKey("/k", true) }, origin: &reply{status: 304}, want: Revalidated, wantFetch: true},
			{want: Hit},
		}},
		{"soft purge serves stale on error", []step{
			{origin: ok200("a", "Cache-Control: max-age=600", `ETag: "v1"`), want: Miss, wantFetch: true},
			{do: func(c *Cache) { c.PurgeKey("/k", true) }, originErr: true, want: Stale, wantFetch: true},
		}},
		{"hard purge", []step{
			{origin: ok200("a", "Cache-Control: max-age=600"), want: Miss, wantFetch: true},
			{do: func(c *Cache) { c.PurgeKey("/k", false) }, want: Miss, wantFetch: true},
		}},
		{"Vary Accept-Encoding normalised", []step{
			{req: []string{"Accept-Encoding: gzip"}, origin: &reply{status: 200, body: "gz", hdr: []string{"Cache-Control: max-age=60", "Vary: accept-encoding"}}, want: Miss, wantFetch: true},
			{req: []string{"Accept-Encoding: deflate,  gzip"}, want: Hit, wantBody: str("gz")},
			{req: []string{"Accept-Encoding: deflate, br, gzip;q=0.5"}, origin: &reply{status: 200, body: "br", hdr: []string{"Cache-Control: max-age=60", "Vary: Accept-Encoding"}},
				want: Miss, wantFetch: true, wantSent: []string{"Accept-Encoding: br"}},
			{req: []string{"Accept-Encoding: br"}, want: Hit, wantBody: str("br")},
			{req: []string{"Accept-Encoding: gzip;q=0.5, br"}, want: Hit, wantBody: str("br")},
			{req: []string{"Accept-Encoding: gzip;q=1, br;q=0"}, want: Hit, wantBody: str("gz")},
			{origin: &reply{status: 200, body: "id", hdr: []string{"Cache-Control: max-age=60", "Vary: Accept-Encoding"}}, want: Miss, wantFetch: true},
			{req: []string{"Accept-Encoding: compress"}, want: Hit, wantBody: str("id")},
		}},
		{"Vary values trimmed and collapsed", []step{
			{req: []string{"X-Lang:  en   us "}, origin: &reply{status: 200, body: "en", hdr: []string{"Cache-Control: max-age=60", "Vary: x-lang"}}, want: Miss, wantFetch: true},
			{req: []string{"x-lang: en us"}, want: Hit, wantBody: str("en")},
			{req: []string{"X-Lang: fr"}, origin: &reply{status: 200, body: "fr", hdr: []string{"Cache-Control: max-age=60", "Vary: x-lang"}}, want: Miss, wantFetch: true},
			{req: []string{"X-Lang: en us"}, want: Hit, wantBody: str("en")},
		}},
		{"Surrogate-Control max-age wins and is stripped", []step{
			{origin: ok200("a", "Cache-Control: max-age=10", "Surrogate-Control: max-age=100"), want: Miss, wantFetch: true, wantHdr: []string{"Surrogate-Control:", "Cache-Control: max-age=10"}},
			{advance: 50 * time.Second, want: Hit, wantHdr: []string{"Surrogate-Control:"}},
		}},
		{"CDN-Cache-Control replaces Cache-Control", []step{
			{origin: ok200("a", "Cache-Control: no-store", "CDN-Cache-Control: max-age=100"), want: Miss, wantFetch: true},
			{advance: 50 * time.Second, want: Hit},
			{advance: 51 * time.Second, want: Miss, wantFetch: true},
		}},
		{"CDN-Cache-Control no-store", []step{
			{origin: ok200("a", "Cache-Control: max-age=100", "CDN-Cache-Control: no-store"), want: Miss, wantFetch: true},
			{want: Pass, wantFetch: true},
		}},
		{"Surrogate-Key stripped unless Cairn-Debug", []step{
			{origin: ok200("a", "Cache-Control: max-age=100", "Surrogate-Key: t1 t2"), want: Miss, wantFetch: true, wantHdr: []string{"Surrogate-Key:"}},
			{req: []string{"Cairn-Debug: 1"}, want: Hit, wantHdr: []string{"Surrogate-Key: t1 t2"}},
			{do: func(c *Cache) { c.PurgeTag("t2", false) }, want: Miss, wantFetch: true},
		}},
		{"unsafe method invalidates on success", []step{
			{origin: ok200("a", "Cache-Control: max-age=100"), want: Miss, wantFetch: true},
			{method: "POST", origin: ok200("posted"), want: Pass, wantFetch: true, wantBody: str("posted")},
			{origin: ok200("b", "Cache-Control: max-age=100"), want: Miss, wantFetch: true, wantBody: str("b")},
		}},
		{"unsafe method failing does not invalidate", []step{
			{origin: ok200("a", "Cache-Control: max-age=100"), want: Miss, wantFetch: true},
			{method: "DELETE", origin: &reply{status: 500}, want: Pass, wantStatus: 500, wantFetch: true},
			{want: Hit, wantBody: str("a")},
		}},
		{"HEAD miss stores the GET", []step{
			{method: "HEAD", origin: ok200("abc", "Cache-Control: max-age=100"), want: Miss, wantFetch: true, wantBody: str(""), wantHdr: []string{"Content-Length: 3"}},
			{want: Hit, wantBody: str("abc")},
			{method: "HEAD", want: Hit, wantBody: str(""), wantHdr: []string{"Content-Length: 3"}},
		}},
		{"Range from cache", []step{
			{origin: ok200("0123456789", "Cache-Control: max-age=100", `ETag: "r"`), want: Miss, wantFetch: true},
			{req: []string{"Range: bytes=2-4"}, want: Hit, wantStatus: 206, wantBody: str("234"), wantHdr: []string{"Content-Range: bytes 2-4/10", "Content-Length: 3"}},
			{req: []string{"Range: bytes=7-"}, want: Hit, wantStatus: 206, wantBody: str("789")},
			{req: []string{"Range: bytes=-3"}, want: Hit, wantStatus: 206, wantBody: str("789")},
			{req: []string{"Range: bytes=5-100"}, want: Hit, wantStatus: 206, wantBody: str("56789")},
			{req: []string{"Range: bytes=10-"}, want: Hit, wantStatus: 416, wantHdr: []string{"Content-Range: bytes */10"}},
			{req: []string{"Range: bytes=0-1,4-5"}, want: Hit, wantStatus: 200, wantBody: str("0123456789")},
			{req: []string{"Range: bytes=2-4", `If-Range: "other"`}, want: Hit, wantStatus: 200},
			{req: []string{"Range: bytes=2-4", `If-Range: "r"`}, want: Hit, wantStatus: 206, wantBody: str("234")},
		}},
		{"Range on a miss streams the window and stores all", []step{
			{req: []string{"Range: bytes=3-5"}, origin: ok200("0123456789", "Cache-Control: max-age=100"), want: Miss, wantFetch: true,
				wantStatus: 206, wantBody: str("345"), wantSent: []string{"Range:"}},
			{want: Hit, wantBody: str("0123456789")},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, _, clock := newTestCache(t, Options{Grace: 10 * time.Second})
			o := &origin{}
			for i, s := range tc.steps {
				clock.Advance(s.advance)
				now := clock.Now()
				if s.origin != nil {
					rp := *s.origin
					hdr := make([]string, len(rp.hdr))
					for j, h := range rp.hdr {
						hdr[j] = expand(h, now)
					}
					o.mu.Lock()
					o.err = nil
					o.mu.Unlock()
					o.set(respond(rp.status, rp.body, hdr...))
				}
				if s.originErr {
					o.mu.Lock()
					o.err = errors.New("connection refused")
					o.mu.Unlock()
				}
				if s.do != nil {
					s.do(c)
				}
				method := s.method
				if method == "" {
					method = "GET"
				}
				req := make([]string, len(s.req))
				for j, h := range s.req {
					req[j] = expand(h, now)
				}
				before := o.count()
				w, out := do(c, o, method, "/k", req...)
				if s.background {
					waitIdle(t, c)
				}
				fetched := o.count() > before
				wantStatus := s.wantStatus
				if wantStatus == 0 {
					wantStatus = 200
				}
				if out != s.want || w.Code != wantStatus || fetched != s.wantFetch {
					t.Fatalf("step %d: outcome %s status %d fetched %v, want %s %d %v (headers %v, body %q)",
						i, out, w.Code, fetched, s.want, wantStatus, s.wantFetch, w.Header(), w.Body.String())
				}
				if got := w.Header().Get("X-Cache"); got != string(out) {
					t.Fatalf("step %d: X-Cache %q, outcome %s", i, got, out)
				}
				if s.wantBody != nil && w.Body.String() != *s.wantBody {
					t.Fatalf("step %d: body %q, want %q", i, w.Body.String(), *s.wantBody)
				}
				for _, h := range s.wantHdr {
					k, v, _ := strings.Cut(h, ":")
					v = strings.TrimSpace(expand(v, now))
					if got := strings.Join(w.Header().Values(k), ", "); got != v {
						t.Fatalf("step %d: %s is %q, want %q (headers %v)", i, k, got, v, w.Header())
					}
				}
				for _, h := range s.wantSent {
					k, v, _ := strings.Cut(h, ":")
					v = strings.TrimSpace(expand(v, now))
					if got := o.last().Header.Get(k); got != v {
						t.Fatalf("step %d: origin got %s %q, want %q", i, k, got, v)
					}
				}
			}
		})
	}
}
