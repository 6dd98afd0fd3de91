package origin

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/blobd"
	"cairn.dev/cairn/blobd/blobdtest"
	blobdclient "cairn.dev/cairn/blobd/client"
	blobdv1 "cairn.dev/cairn/proto/cairn/blobd/v1"
)

// newBlobd starts a one-node blobd and returns a client of it.
func newBlobd(t *testing.T) (*blobdtest.Cluster, *blobdclient.Client) {
	t.Helper()
	c := blobdtest.New(t, 1, func(cfg *blobd.Config) { cfg.Replicas, cfg.GCGrace = 1, time.Minute })
	cl, err := blobdclient.New(blobdclient.Config{Endpoints: c.Endpoints(), RequestTimeout: 10 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { cl.Close() })
	return c, cl
}

func TestBlob(t *testing.T) {
	_, cl := newBlobd(t)
	ctx := testCtx(t)
	rng := newRand(t)
	_, err := cl.CreateBucket(ctx, "site")
	require.NoError(t, err)

	small := randomBytes(rng, 3000)
	obj, err := cl.Put(ctx, "site", "css/a b.css", bytes.NewReader(small), int64(len(small)), blobdclient.WithHeaders(&blobdv1.ObjectHeaders{
		ContentType: "text/css", CacheControl: "public, max-age=60", ContentDisposition: "inline",
		ContentEncoding: "identity", Expires: "Thu, 01 Jan 2099 00:00:00 GMT",
		UserMetadata: map[string]string{"surrogate-key": "css home", "owner": "ada", "evil": "x\r\nSet-Cookie: a=b"},
	}))
	require.NoError(t, err)
	etag := `"` + obj.GetEtag() + `"`
	lastMod := obj.GetCreated().AsTime().UTC().Format(http.TimeFormat)
	big := randomBytes(rng, 2<<20+12345) // three 1 MiB chunks
	_, err = cl.Put(ctx, "site", "video.bin", bytes.NewReader(big), int64(len(big)))
	require.NoError(t, err)
	_, err = cl.Put(ctx, "site", "empty", bytes.NewReader(nil), 0)
	require.NoError(t, err)

	b := NewBlob(cl, BlobOptions{})
	const path = "/site/css/a%20b.css"

	t.Run("get", func(t *testing.T) {
		resp, body := fetch(t, b, http.MethodGet, path)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, small, body)
		h := resp.Header
		require.Equal(t, "text/css", h.Get("Content-Type"))
		require.Equal(t, "public, max-age=60", h.Get("Cache-Control"))
		require.Equal(t, "inline", h.Get("Content-Disposition"))
		require.Equal(t, "identity", h.Get("Content-Encoding"))
		require.Equal(t, "Thu, 01 Jan 2099 00:00:00 GMT", h.Get("Expires"))
		require.Equal(t, etag, h.Get("ETag"))
		require.Equal(t, lastMod, h.Get("Last-Modified"))
		require.Equal(t, "css home", h.Get("Surrogate-Key"))
		require.Equal(t, "ada", h.Get("X-Amz-Meta-Owner"))
		require.Empty(t, h.Values("X-Amz-Meta-Surrogate-Key"), "surrogate-key is served as Surrogate-Key only")
		require.Empty(t, h.Values("X-Amz-Meta-Evil"), "a value with CR LF is left out")
		require.Empty(t, h.Values("Set-Cookie"))
		require.Equal(t, "bytes", h.Get("Accept-Ranges"))
		require.Equal(t, "3000", h.Get("Content-Length"))
		require.EqualValues(t, 3000, resp.ContentLength)
		_, err := http.ParseTime(h.Get("Date"))
		require.NoError(t, err)
	})

	t.Run("head", func(t *testing.T) {
		resp, body := fetch(t, b, http.MethodHead, path, "Range", "bytes=0-9")
		require.Equal(t, http.StatusOK, resp.StatusCode, "HEAD ignores Range")
		require.Empty(t, body)
		require.Equal(t, "3000", resp.Header.Get("Content-Length"))
		require.Equal(t, etag, resp.Header.Get("ETag"))
		require.Equal(t, "css home", resp.Header.Get("Surrogate-Key"))
		resp, _ = fetch(t, b, http.MethodHead, path, "If-None-Match", etag)
		require.Equal(t, http.StatusNotModified, resp.StatusCode)
	})

	t.Run("range", func(t *testing.T) {
		for _, tc := range []struct {
			rng, contentRange string
			code              int
			want              []byte
		}{
			{"bytes=10-19", "bytes 10-19/3000", 206, small[10:20]},
			{"bytes=-5", "bytes 2995-2999/3000", 206, small[2995:]},
			{"bytes=2990-", "bytes 2990-2999/3000", 206, small[2990:]},
			{"bytes=2990-9999", "bytes 2990-2999/3000", 206, small[2990:]},
			{"bytes=-99999", "bytes 0-2999/3000", 206, small},
			{"Bytes=0-0", "bytes 0-0/3000", 206, small[:1]},
			{"bytes=3000-", "bytes */3000", 416, nil},
			{"bytes=-0", "bytes */3000", 416, nil},
			{"bytes=0-1,5-6", "", 200, small},
			{"bytes=9-1", "", 200, small},
			{"items=0-1", "", 200, small},
		} {
			resp, body := fetch(t, b, http.MethodGet, path, "Range", tc.rng)
			require.Equal(t, tc.code, resp.StatusCode, tc.rng)
			require.Equal(t, tc.contentRange, resp.Header.Get("Content-Range"), tc.rng)
			if tc.code != 416 {
				require.Equal(t, tc.want, body, tc.rng)
				require.Equal(t, strconv.Itoa(len(tc.want)), resp.Header.Get("Content-Length"), tc.rng)
			}
		}
		// Across chunk boundaries of a large object.
		resp, body := fetch(t, b, http.MethodGet, "/site/video.bin", "Range", "bytes=1048000-2098000")
		require.Equal(t, http.StatusPartialContent, resp.StatusCode)
		require.Equal(t, big[1048000:2098001], body)
		resp, body = fetch(t, b, http.MethodGet, "/site/video.bin")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.True(t, bytes.Equal(big, body), "the whole large object")
		// An empty object ignores Range.
		for _, rg := range []string{"bytes=0-", "bytes=5-", "bytes=-3"} {
			resp, body = fetch(t, b, http.MethodGet, "/site/empty", "Range", rg)
			require.Equal(t, http.StatusOK, resp.StatusCode, rg)
			require.Empty(t, body)
		}
	})

	t.Run("conditional", func(t *testing.T) {
		hourAgo := obj.GetCreated().AsTime().Add(-time.Hour).UTC().Format(http.TimeFormat)
		for _, tc := range []struct {
			name string
			hdr  []string
			code int
		}{
			{"inm match", []string{"If-None-Match", etag}, 304},
			{"inm weak", []string{"If-None-Match", "W/" + etag}, 304},
			{"inm list", []string{"If-None-Match", `"x", ` + etag}, 304},
			{"inm star", []string{"If-None-Match", "*"}, 304},
			{"inm other", []string{"If-None-Match", `"other"`}, 200},
			{"ims equal", []string{"If-Modified-Since", lastMod}, 304},
			{"ims older", []string{"If-Modified-Since", hourAgo}, 200},
			{"ims bad date", []string{"If-Modified-Since", "yesterday"}, 200},
			{"inm over ims", []string{"If-None-Match", `"other"`, "If-Modified-Since", lastMod}, 200},
			{"im match", []string{"If-Match", etag}, 200},
			{"im other", []string{"If-Match", `"other"`}, 412},
			{"im weak", []string{"If-Match", "W/" + etag}, 412},
			{"ius older", []string{"If-Unmodified-Since", hourAgo}, 412},
			{"ius equal", []string{"If-Unmodified-Since", lastMod}, 200},
			{"if-range etag", []string{"Range", "bytes=0-9", "If-Range", etag}, 206},
			{"if-range other", []string{"Range", "bytes=0-9", "If-Range", `"other"`}, 200},
			{"if-range date", []string{"Range", "bytes=0-9", "If-Range", lastMod}, 206},
			{"if-range older", []string{"Range", "bytes=0-9", "If-Range", hourAgo}, 200},
			{"inm beats range", []string{"Range", "bytes=0-9", "If-None-Match", etag}, 304},
		} {
			resp, body := fetch(t, b, http.MethodGet, path, tc.hdr...)
			require.Equal(t, tc.code, resp.StatusCode, tc.name)
			switch tc.code {
			case 304:
				require.Empty(t, body, tc.name)
				require.Equal(t, etag, resp.Header.Get("ETag"), tc.name)
				require.Equal(t, lastMod, resp.Header.Get("Last-Modified"), tc.name)
				require.Equal(t, "public, max-age=60", resp.Header.Get("Cache-Control"), tc.name)
				require.Equal(t, "css home", resp.Header.Get("Surrogate-Key"), tc.name)
				require.Empty(t, resp.Header.Get("Content-Length"), tc.name)
			case 200:
				require.Equal(t, small, body, tc.name)
			case 206:
				require.Equal(t, small[:10], body, tc.name)
			case 412:
				require.Contains(t, string(body), "precondition", tc.name)
			}
		}
	})

	t.Run("errors", func(t *testing.T) {
		resp, body := fetch(t, b, http.MethodGet, "/site/nope.css")
		require.Equal(t, http.StatusNotFound, resp.StatusCode)
		require.Contains(t, string(body), `no object "nope.css" in bucket "site"`)
		require.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"))
		resp, body = fetch(t, b, http.MethodGet, "/nobucket/x")
		require.Equal(t, http.StatusNotFound, resp.StatusCode)
		require.Contains(t, string(body), `no bucket "nobucket"`)
		resp, body = fetch(t, b, http.MethodHead, "/site/nope.css")
		require.Equal(t, http.StatusNotFound, resp.StatusCode)
		require.Empty(t, body)
		for _, p := range []string{"/", "/site", "/site/", "//key"} {
			resp, body = fetch(t, b, http.MethodGet, p)
			require.Equal(t, http.StatusBadRequest, resp.StatusCode, p)
			require.Contains(t, string(body), "want /<bucket>/<key>", p)
		}
		resp, body = fetch(t, b, http.MethodGet, "/site/"+strings.Repeat("k", 2000))
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, "a key over blobd's limit")
		require.Contains(t, string(body), "1024")
		resp, _ = fetch(t, b, http.MethodPost, path)
		require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
		require.Equal(t, "GET, HEAD", resp.Header.Get("Allow"))
	})

	t.Run("ctx ended", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := b.Fetch(ctx, httptest.NewRequest(http.MethodGet, path, nil))
		require.ErrorIs(t, err, context.Canceled)
	})
}

// TestBlobUnavailable: with blobd down, a fetch answers 503 once the open
// timeout has passed.
func TestBlobUnavailable(t *testing.T) {
	c, cl := newBlobd(t)
	ctx := testCtx(t)
	_, err := cl.CreateBucket(ctx, "site")
	require.NoError(t, err)
	c.Stop(c.All()[0].ID)
	b := NewBlob(cl, BlobOptions{OpenTimeout: 300 * time.Millisecond})
	for _, m := range []string{http.MethodGet, http.MethodHead} {
		for _, hdr := range [][]string{nil, {"If-None-Match", `"x"`}} {
			resp, body := fetch(t, b, m, "/site/k", hdr...)
			require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, m)
			require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
			require.Equal(t, "1", resp.Header.Get("Retry-After"))
			if m == http.MethodGet {
				require.Contains(t, string(body), "blobd unavailable")
			}
		}
	}
}

// TestShieldOverBlob: three edges in front of a real blobd; an object
// asked of every edge is read from blobd once, and its headers (ETag,
// Cache-Control, Surrogate-Key) come through the shield hop unchanged.
func TestShieldOverBlob(t *testing.T) {
	_, cl := newBlobd(t)
	ctx := testCtx(t)
	_, err := cl.CreateBucket(ctx, "site")
	require.NoError(t, err)
	data := randomBytes(newRand(t), 5000)
	obj, err := cl.Put(ctx, "site", "app.js", bytes.NewReader(data), int64(len(data)), blobdclient.WithHeaders(&blobdv1.ObjectHeaders{
		ContentType: "text/javascript", CacheControl: "max-age=300", UserMetadata: map[string]string{"surrogate-key": "js"},
	}))
	require.NoError(t, err)

	var reads atomic.Int64
	blob := NewBlob(cl, BlobOptions{})
	counting := Func(func(ctx context.Context, r *http.Request) (*http.Response, error) {
		reads.Add(1)
		return blob.Fetch(ctx, r)
	})
	nodes := startNodes(t, 3, counting, ShieldOptions{})
	for _, nd := range nodes {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, nd.srv.URL+"/site/app.js", nil)
		require.NoError(t, err)
		req.Host = "cdn.test"
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, nd.name)
		require.Equal(t, data, body, nd.name)
		require.Equal(t, `"`+obj.GetEtag()+`"`, resp.Header.Get("ETag"), nd.name)
		require.Equal(t, "max-age=300", resp.Header.Get("Cache-Control"), nd.name)
		require.Equal(t, "js", resp.Header.Get("Surrogate-Key"), nd.name)
		require.Equal(t, "text/javascript", resp.Header.Get("Content-Type"), nd.name)
		require.Empty(t, resp.Header.Get(HeaderShieldOwner), nd.name)
	}
	require.EqualValues(t, 1, reads.Load(), "blobd read once for three edges")
}
