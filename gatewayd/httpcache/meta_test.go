package httpcache

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

func sampleMeta() *meta {
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	return &meta{
		key: "/a?b=c", status: 200, flags: flagNoCache | flagSoftPurged,
		reqTime: t0, respTime: t0.Add(time.Second), stored: t0, softPurged: t0.Add(time.Minute),
		initialAge: 3 * time.Second, lifetime: time.Hour, swr: -1, sie: 30 * time.Second,
		varyNames: []string{"Accept-Encoding"}, varyValues: []string{"gzip"},
		tags:   []string{"t1", "t2"},
		header: http.Header{"Etag": {`"x"`}, "Set": {"a", "b"}},
	}
}

func TestMetaRoundTrip(t *testing.T) {
	m := sampleMeta()
	got, err := decodeMeta(encodeMeta(m))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, m) {
		t.Fatalf("got %+v\nwant %+v", got, m)
	}
	b := encodeMeta(m)
	for i := range b {
		if _, err := decodeMeta(b[:i]); err == nil {
			t.Fatalf("truncated at %d decoded", i)
		}
	}
	b[0] = 2
	if _, err := decodeMeta(b); err == nil {
		t.Fatal("another version decoded")
	}
}

func FuzzDecodeMeta(f *testing.F) {
	f.Add(encodeMeta(sampleMeta()))
	f.Add([]byte{1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeMeta(b)
		if err != nil {
			return
		}
		if _, err := decodeMeta(encodeMeta(m)); err != nil {
			t.Fatalf("re-encoded meta does not decode: %v", err)
		}
	})
}

func TestBestEncoding(t *testing.T) {
	for in, want := range map[string]string{
		"":                         "identity",
		"gzip":                     "gzip",
		"gzip, br":                 "br",
		"gzip, zstd":               "zstd",
		"br;q=0.5, gzip":           "gzip",
		"br;q=0":                   "identity",
		"*":                        "br",
		"*;q=0, gzip":              "gzip",
		"identity;q=0, deflate":    "identity",
		"x-gzip":                   "gzip",
		"GZIP;Q=0.9, br;q=0.8":     "gzip",
		"compress, deflate":        "identity",
		"gzip;q=bad, br;q=0.1":     "br",
		"  gzip ;  q=1 , zstd;q=1": "zstd",
	} {
		if got := bestEncoding(in); got != want {
			t.Errorf("bestEncoding(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOptionsValidation(t *testing.T) {
	if _, err := New(Options{}); err == nil {
		t.Fatal("no storage accepted")
	}
	for field, o := range map[string]Options{
		"MaxObjectBytes":    {MaxObjectBytes: -1},
		"HeuristicFraction": {HeuristicFraction: 2},
		"HeuristicMax":      {HeuristicMax: -1},
		"Grace":             {Grace: -1},
		"FetchTimeout":      {FetchTimeout: -1},
	} {
		o.Storage = newMapStore()
		if _, err := New(o); err == nil || !strings.Contains(err.Error(), "Options."+field) {
			t.Errorf("%s: error %v", field, err)
		}
	}
}

func FuzzDirectives(f *testing.F) {
	f.Add("max-age=10, s-maxage=\"20\", no-cache, max-stale")
	f.Fuzz(func(t *testing.T, s string) {
		d := parseDirectives([]string{s})
		if d.maxAge > maxDelta || d.maxAge < -1 {
			t.Fatalf("max-age %d", d.maxAge)
		}
	})
}

func FuzzRange(f *testing.F) {
	f.Add("bytes=0-4", int64(10))
	f.Add("bytes=-3", int64(2))
	f.Add("bytes=5-", int64(0))
	f.Fuzz(func(t *testing.T, v string, size int64) {
		if size < 0 {
			return
		}
		r, _ := http.NewRequest("GET", "/", nil)
		r.Header.Set("Range", v)
		start, end, kind := rangeOf(r, http.Header{}, size)
		if kind == rangeOne && (start < 0 || end > size || start >= end) {
			t.Fatalf("%q of %d: [%d, %d)", v, size, start, end)
		}
	})
}
