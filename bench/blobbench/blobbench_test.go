package blobbench

import (
	"bytes"
	"context"
	"encoding/json"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestValidate(t *testing.T) {
	ok := DefaultConfig()
	ok.Endpoints, ok.AccessKey, ok.SecretKey = []string{"http://127.0.0.1:1"}, "id", "secret"
	require.NoError(t, ok.Validate())
	for _, tc := range []struct {
		field string
		edit  func(*Config)
	}{
		{"Endpoints", func(c *Config) { c.Endpoints = nil }},
		{"Endpoints", func(c *Config) { c.Endpoints = []string{"127.0.0.1:1"} }},
		{"Endpoints", func(c *Config) { c.Endpoints = []string{"http://127.0.0.1:1", "http://127.0.0.1:2/bucket"} }},
		{"Target", func(c *Config) { c.Target = "swift" }},
		{"Endpoints", func(c *Config) { c.Target = TargetGRPC }},
		{"Region", func(c *Config) { c.Region = "" }},
		{"AccessKey", func(c *Config) { c.SecretKey = "" }},
		{"Bucket", func(c *Config) { c.Bucket = "Upper" }},
		{"Bucket", func(c *Config) { c.Bucket = "a..b" }},
		{"Prefix", func(c *Config) { c.Prefix = "" }},
		{"Sizes", func(c *Config) { c.Sizes = nil }},
		{"Sizes", func(c *Config) { c.Sizes = []int64{0} }},
		{"Ops", func(c *Config) { c.Ops = []Op{"list"} }},
		{"Ops", func(c *Config) { c.Ops = []Op{OpGet, OpGet} }},
		{"Clients", func(c *Config) { c.Clients = 0 }},
		{"Count", func(c *Config) { c.Count = -1 }},
		{"Duration", func(c *Config) { c.Duration = 0 }},
		{"MaxObjects", func(c *Config) { c.MaxObjects = 0 }},
		{"RequestTimeout", func(c *Config) { c.RequestTimeout = 0 }},
	} {
		c := ok
		tc.edit(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: got %v, want an error naming the field", tc.field, err)
		}
	}
	c := ok
	c.Count, c.Duration, c.MaxObjects = 3, 0, 0
	require.NoError(t, c.Validate(), "a Count run needs no Duration")
	c = ok
	c.Target, c.Endpoints, c.AccessKey, c.SecretKey, c.Region = TargetGRPC, []string{"127.0.0.1:1"}, "", "", ""
	require.NoError(t, c.Validate(), "grpc needs host:port endpoints and no S3 credentials")
}

func TestParseAndFormatSize(t *testing.T) {
	for in, want := range map[string]int64{
		"4KiB": 4 << 10, "4k": 4 << 10, "1M": 1 << 20, "64mib": 64 << 20, "64MB": 64 << 20,
		"100": 100, "100B": 100, " 1G ": 1 << 30, "1 KiB": 1 << 10,
	} {
		got, err := ParseSize(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "0", "-4K", "4T", "2G", "1.5M", "KiB", "4iB", "4KiBs"} {
		_, err := ParseSize(bad)
		require.Error(t, err, bad)
	}
	for n, want := range map[int64]string{4 << 10: "4KiB", 1 << 20: "1MiB", 64 << 20: "64MiB", 1 << 30: "1GiB", 1536: "1536B", 100: "100B", 3 << 19: "1536KiB"} {
		require.Equal(t, want, FormatSize(n))
		back, err := ParseSize(want)
		require.NoError(t, err)
		require.Equal(t, n, back)
	}
}

func TestSummarizeNearestRank(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	got := summarize(ds)
	want := Latency{N: 100, Mean: 50500 * time.Microsecond, P50: 50 * time.Millisecond, P99: 99 * time.Millisecond, Max: 100 * time.Millisecond}
	require.Equal(t, want, got)
	require.Equal(t, 100*time.Millisecond, ds[0], "summarize sorted its input in place")
	require.Equal(t, Latency{}, summarize(nil))
}

func TestObjectBodies(t *testing.T) {
	for _, size := range []int64{1, headerBytes - 1, headerBytes, headerBytes + 1, 5000} {
		p := newPool(size, 7)
		seen := map[uint32]bool{}
		for j := range uint64(20) {
			b, crc := p.object(j)
			require.Equal(t, size, b.Len())
			all, err := io.ReadAll(b)
			require.NoError(t, err)
			require.Len(t, all, int(size))
			require.Equal(t, crc32.Checksum(all, castagnoli), crc)
			if size >= headerBytes {
				require.False(t, seen[crc], "size %d: object %d repeats another's content", size, j)
			}
			seen[crc] = true

			// Seek back into the middle and read in small pieces.
			mid := size / 2
			pos, err := b.Seek(mid, io.SeekStart)
			require.NoError(t, err)
			require.Equal(t, mid, pos)
			var rest bytes.Buffer
			_, err = io.CopyBuffer(&rest, struct{ io.Reader }{b}, make([]byte, 3))
			require.NoError(t, err)
			require.Equal(t, all[mid:], rest.Bytes())
			end, err := b.Seek(0, io.SeekEnd)
			require.NoError(t, err)
			require.Equal(t, size, end)

			require.NoError(t, verify(bytes.NewReader(all), make([]byte, 7), size, crc))
			require.ErrorIs(t, verify(bytes.NewReader(all[:size-1]), make([]byte, 7), size, crc), errCorrupt)
			flipped := bytes.Clone(all)
			flipped[size-1] ^= 1
			require.ErrorIs(t, verify(bytes.NewReader(flipped), make([]byte, 7), size, crc), errCorrupt)
			require.ErrorIs(t, verify(bytes.NewReader(append(bytes.Clone(all), 0)), make([]byte, 7), size, crc), errCorrupt)
		}
	}
}

// fakeS3 is just enough of S3 for the driver: buckets and whole objects,
// path-style, without checking signatures (the driver's requests are
// signed by AWS's SDK; blobd's S3 tests check SigV4). corruptEvery > 0
// flips a byte of every corruptEvery-th GET.
type fakeS3 struct {
	corruptEvery int64

	mu      sync.Mutex // protects the fields below
	buckets map[string]map[string][]byte
	// payloadHashes counts the X-Amz-Content-Sha256 values of PUTs.
	payloadHashes map[string]int
	gets          int64
}

func newFakeS3(t *testing.T, corruptEvery int64) (*fakeS3, string) {
	f := &fakeS3{corruptEvery: corruptEvery, buckets: map[string]map[string][]byte{}, payloadHashes: map[string]int{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv.URL
}

func (f *fakeS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=id/") {
		http.Error(w, "unsigned", http.StatusForbidden)
		return
	}
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	f.mu.Lock()
	defer f.mu.Unlock()
	objects, ok := f.buckets[bucket]
	switch {
	case key == "" && r.Method == http.MethodHead:
		if !ok {
			w.WriteHeader(http.StatusNotFound)
		}
	case key == "" && r.Method == http.MethodPut:
		f.buckets[bucket] = map[string][]byte{}
	case key == "" && r.Method == http.MethodDelete:
		if len(objects) > 0 {
			http.Error(w, "<Error><Code>BucketNotEmpty</Code></Error>", http.StatusConflict)
			return
		}
		delete(f.buckets, bucket)
		w.WriteHeader(http.StatusNoContent)
	case !ok:
		http.Error(w, "<Error><Code>NoSuchBucket</Code></Error>", http.StatusNotFound)
	case r.Method == http.MethodPut:
		b, err := io.ReadAll(r.Body)
		if err != nil || int64(len(b)) != r.ContentLength {
			http.Error(w, "<Error><Code>IncompleteBody</Code></Error>", http.StatusBadRequest)
			return
		}
		f.payloadHashes[r.Header.Get("X-Amz-Content-Sha256")]++
		objects[key] = b
		w.Header().Set("ETag", `"x"`)
	case r.Method == http.MethodGet:
		b, ok := objects[key]
		if !ok {
			http.Error(w, "<Error><Code>NoSuchKey</Code></Error>", http.StatusNotFound)
			return
		}
		f.gets++
		if f.corruptEvery > 0 && f.gets%f.corruptEvery == 0 {
			b = bytes.Clone(b)
			b[len(b)/2] ^= 0x40
		}
		_, _ = w.Write(b)
	case r.Method == http.MethodDelete:
		delete(objects, key)
		w.WriteHeader(http.StatusNoContent)
	default:
		http.Error(w, "method", http.StatusMethodNotAllowed)
	}
}

func fakeConfig(endpoint string) Config {
	cfg := DefaultConfig()
	cfg.Endpoints, cfg.AccessKey, cfg.SecretKey = []string{endpoint}, "id", "secret"
	cfg.Sizes = []int64{10, 4 << 10, 100 << 10}
	cfg.Clients = 3
	cfg.Count = 7
	cfg.RequestTimeout = 10 * time.Second
	return cfg
}

func TestRunPutsAndVerifiedGets(t *testing.T) {
	f, url := newFakeS3(t, 0)
	cfg := fakeConfig(url)
	res, err := Run(context.Background(), cfg)
	require.NoError(t, err)
	require.Len(t, res, 6)
	for i, r := range res {
		require.Equal(t, cfg.Sizes[i/2], r.Size)
		require.Equal(t, []Op{OpPut, OpGet}[i%2], r.Op)
		require.Equal(t, int64(7), r.Objects, "%+v", r)
		require.Zero(t, r.Errors, r.FirstError)
		require.Equal(t, 7, r.Latency.N)
		require.Greater(t, r.ObjectsPerSec, 0.0)
		require.InDelta(t, r.ObjectsPerSec*float64(r.Size)/(1<<20), r.MiBps, 1e-9)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	require.Empty(t, f.buckets, "the run's objects and bucket were not removed")
	require.Equal(t, map[string]int{"UNSIGNED-PAYLOAD": 21}, f.payloadHashes)

	line, err := json.Marshal(res[5])
	require.NoError(t, err)
	require.Contains(t, string(line), `"op":"get","size":102400,"size_name":"100KiB","clients":3,"objects":7,"errors":0,"corrupt":0`)
	var table strings.Builder
	require.NoError(t, WriteTable(&table, res...))
	require.Contains(t, table.String(), "100KiB")
}

func TestRunCountsWrongContentAsCorrupt(t *testing.T) {
	_, url := newFakeS3(t, 2)
	cfg := fakeConfig(url)
	cfg.Sizes = []int64{4 << 10}
	cfg.Count = 10
	res, err := Run(context.Background(), cfg)
	require.NoError(t, err)
	get := res[1]
	require.Equal(t, OpGet, get.Op)
	require.Equal(t, int64(5), get.Objects)
	require.Equal(t, int64(5), get.Errors)
	require.Equal(t, int64(5), get.Corrupt)
	require.Contains(t, get.FirstError, "CRC-32C")
}

func TestRunForDurationSignedAndKept(t *testing.T) {
	f, url := newFakeS3(t, 0)
	cfg := fakeConfig(url)
	cfg.Sizes = []int64{1 << 10}
	cfg.Count, cfg.Duration, cfg.MaxObjects = 0, 150*time.Millisecond, 40
	cfg.SignPayload, cfg.Keep = true, true
	res, err := Run(context.Background(), cfg)
	require.NoError(t, err)
	put, get := res[0], res[1]
	require.Zero(t, put.Errors+get.Errors, put.FirstError+get.FirstError)
	require.Positive(t, put.Objects)
	require.LessOrEqual(t, put.Objects, int64(40))
	require.Positive(t, get.Objects)
	f.mu.Lock()
	defer f.mu.Unlock()
	require.Len(t, f.buckets[cfg.Bucket], int(put.Objects), "Keep: the objects stay")
	require.Zero(t, f.payloadHashes["UNSIGNED-PAYLOAD"])
}

func TestRunGetAloneFillsFirst(t *testing.T) {
	f, url := newFakeS3(t, 0)
	cfg := fakeConfig(url)
	cfg.Sizes = []int64{2 << 10}
	cfg.Ops = []Op{OpGet}
	cfg.Count = 4
	res, err := Run(context.Background(), cfg)
	require.NoError(t, err)
	require.Len(t, res, 1)
	require.Equal(t, OpGet, res[0].Op)
	require.Equal(t, int64(4), res[0].Objects)
	f.mu.Lock()
	defer f.mu.Unlock()
	require.Equal(t, map[string]int{"UNSIGNED-PAYLOAD": 4}, f.payloadHashes, "the fill writes Count objects")
}

func TestRunReportsAnUnreachableEndpoint(t *testing.T) {
	cfg := fakeConfig("http://127.0.0.1:1")
	cfg.RequestTimeout = 2 * time.Second
	_, err := Run(context.Background(), cfg)
	require.ErrorContains(t, err, "bucket cairn-blobbench at http://127.0.0.1:1")
}

func TestRunSpreadsClientsOverEndpoints(t *testing.T) {
	f, url := newFakeS3(t, 0)
	var second atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		second.Add(1)
		f.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	cfg := fakeConfig(url)
	cfg.Endpoints = append(cfg.Endpoints, srv.URL)
	cfg.Sizes = []int64{1 << 10}
	cfg.Clients, cfg.Count = 2, 20
	res, err := Run(context.Background(), cfg)
	require.NoError(t, err)
	require.Equal(t, int64(20), res[1].Objects)
	require.Positive(t, second.Load(), "client 1 never used the second endpoint")
}
