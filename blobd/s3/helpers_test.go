package s3

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"cairn.dev/cairn/blobd"
	"cairn.dev/cairn/blobd/meta"
	"cairn.dev/cairn/node/rpcerr"
	"cairn.dev/cairn/node/sigv4"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

// memBackend is an in-memory Backend with the object API's contract
// (blobd/api.go) as far as the S3 layer can tell: sentinels with their
// reasons, S3's multipart rules, conditions, ranges, tiers and restores.
type memBackend struct {
	mu      sync.Mutex // protects every field below
	now     time.Time
	version uint64
	buckets map[string]*blobdraftv1.BucketRecord
	objects map[string]map[string]*memObject
	uploads map[string]*memUpload
	keys    map[string]*blobdraftv1.AccessKeyRecord
	// failNext, when set, is returned by the next call (transient errors).
	failNext error
}

type memObject struct {
	rec  *blobdraftv1.ObjectRecord
	data []byte
}

type memUpload struct {
	rec   *blobdraftv1.UploadRecord
	parts map[int32]*memPart
}

type memPart struct {
	rec  *blobdraftv1.PartRecord
	data []byte
}

func newMemBackend() *memBackend {
	return &memBackend{
		now:     time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
		buckets: map[string]*blobdraftv1.BucketRecord{},
		objects: map[string]map[string]*memObject{},
		uploads: map[string]*memUpload{},
		keys:    map[string]*blobdraftv1.AccessKeyRecord{},
	}
}

var _ Backend = (*memBackend)(nil)

// tick advances the clock and returns it (callers hold mu).
func (m *memBackend) tick() int64 {
	m.now = m.now.Add(time.Second)
	m.version++
	return m.now.UnixNano()
}

// fail returns and clears failNext (callers hold mu).
func (m *memBackend) fail() error {
	err := m.failNext
	m.failNext = nil
	return err
}

func (m *memBackend) bucket(name string) (*blobdraftv1.BucketRecord, error) {
	b := m.buckets[name]
	if b == nil {
		return nil, rpcerr.WithMetadata(fmt.Errorf("%w: %q", meta.ErrBucketNotFound, name), rpcerr.KeyField, "bucket")
	}
	return b, nil
}

func (m *memBackend) CreateBucket(_ context.Context, name, owner string, tier blobdraftv1.Tier) (*blobdraftv1.BucketRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.fail(); err != nil {
		return nil, err
	}
	if err := meta.ValidateBucketName(name); err != nil {
		return nil, err
	}
	if b := m.buckets[name]; b != nil {
		return nil, rpcerr.WithMetadata(fmt.Errorf("%w: %q", meta.ErrBucketExists, name), meta.KeyBucketOwner, b.GetOwner())
	}
	if tier == blobdraftv1.Tier_TIER_UNSPECIFIED {
		tier = blobdraftv1.Tier_TIER_HOT
	}
	b := &blobdraftv1.BucketRecord{Name: name, Owner: owner, CreatedUnixNanos: m.tick(), DefaultTier: tier}
	m.buckets[name] = b
	m.objects[name] = map[string]*memObject{}
	return proto.Clone(b).(*blobdraftv1.BucketRecord), nil
}

func (m *memBackend) DeleteBucket(_ context.Context, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.bucket(name); err != nil {
		return err
	}
	busy := len(m.objects[name]) > 0
	for _, u := range m.uploads {
		busy = busy || u.rec.GetBucket() == name
	}
	if busy {
		return fmt.Errorf("%w: %q", meta.ErrBucketNotEmpty, name)
	}
	delete(m.buckets, name)
	delete(m.objects, name)
	return nil
}

func (m *memBackend) Bucket(_ context.Context, name string) (*blobdraftv1.BucketRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, err := m.bucket(name)
	if err != nil {
		return nil, err
	}
	return proto.Clone(b).(*blobdraftv1.BucketRecord), nil
}

func (m *memBackend) Buckets(context.Context) ([]*blobdraftv1.BucketRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*blobdraftv1.BucketRecord
	for _, b := range m.buckets {
		out = append(out, proto.Clone(b).(*blobdraftv1.BucketRecord))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GetName() < out[j].GetName() })
	return out, nil
}

func (m *memBackend) PutLifecycle(_ context.Context, bucket string, rules []*blobdraftv1.LifecycleRule) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, err := m.bucket(bucket)
	if err != nil {
		return err
	}
	if err := meta.ValidateLifecycle(rules); err != nil {
		return err
	}
	b.Rules = rules
	return nil
}

// readBody reads in's body as the object API does.
func readBody(in blobd.PutInput, limit int64) ([]byte, error) {
	if in.Size > limit {
		return nil, fmt.Errorf("%w: %d bytes", blobd.ErrTooLarge, in.Size)
	}
	var data []byte
	var err error
	if in.Size >= 0 {
		data = make([]byte, in.Size)
		_, err = io.ReadFull(in.Body, data)
		if err == io.ErrUnexpectedEOF || err == io.EOF {
			return nil, fmt.Errorf("%w: %v", blobd.ErrIncompleteBody, err)
		}
	} else {
		data, err = io.ReadAll(io.LimitReader(in.Body, limit+1))
		if err == nil && int64(len(data)) > limit {
			return nil, blobd.ErrTooLarge
		}
	}
	if err != nil {
		return nil, err
	}
	sum := md5.Sum(data)
	if in.ContentMD5 != nil && !bytes.Equal(in.ContentMD5, sum[:]) {
		return nil, blobd.ErrBadDigest
	}
	return data, nil
}

// checkWrite checks the conditions of a write against the current object
// (callers hold mu).
func (m *memBackend) checkWrite(bucket, key, ifMatch, ifNoneMatch string) error {
	cur := m.objects[bucket][key]
	if ifNoneMatch == "*" && cur != nil {
		return fmt.Errorf("%w: object exists", meta.ErrPreconditionFailed)
	}
	if ifMatch != "" {
		if cur == nil {
			return fmt.Errorf("%w: %q", meta.ErrObjectNotFound, key)
		}
		if ifMatch != "*" && ifMatch != cur.rec.GetEtag() {
			return fmt.Errorf("%w: etag %s", meta.ErrPreconditionFailed, cur.rec.GetEtag())
		}
	}
	return nil
}

func (m *memBackend) PutObject(_ context.Context, in blobd.PutInput) (*blobdraftv1.ObjectRecord, error) {
	data, err := readBody(in, meta.MaxPartBytes)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.fail(); err != nil {
		return nil, err
	}
	b, err := m.bucket(in.Bucket)
	if err != nil {
		return nil, err
	}
	if err := meta.ValidateKey(in.Key); err != nil {
		return nil, err
	}
	if err := meta.ValidateHeaders(in.Headers); err != nil {
		return nil, err
	}
	if err := m.checkWrite(in.Bucket, in.Key, in.IfMatch, in.IfNoneMatch); err != nil {
		return nil, err
	}
	sum := md5.Sum(data)
	return m.store(b, in.Key, data, hex.EncodeToString(sum[:]), in.Headers, in.Tier, nil), nil
}

// store commits an object (callers hold mu).
func (m *memBackend) store(b *blobdraftv1.BucketRecord, key string, data []byte, etag string, h *blobdraftv1.ObjectHeaders, tier blobdraftv1.Tier, parts []int64) *blobdraftv1.ObjectRecord {
	if tier == blobdraftv1.Tier_TIER_UNSPECIFIED {
		tier = b.GetDefaultTier()
	}
	if h == nil {
		h = &blobdraftv1.ObjectHeaders{}
	}
	rec := &blobdraftv1.ObjectRecord{Bucket: b.GetName(), Key: key, Size: int64(len(data)), Etag: etag, Headers: h,
		CreatedUnixNanos: m.tick(), Version: m.version, Tier: tier, PartSizes: parts}
	m.objects[b.GetName()][key] = &memObject{rec: rec, data: data}
	return proto.Clone(rec).(*blobdraftv1.ObjectRecord)
}

func (m *memBackend) object(bucket, key string) (*memObject, error) {
	if _, err := m.bucket(bucket); err != nil {
		return nil, err
	}
	o := m.objects[bucket][key]
	if o == nil {
		return nil, fmt.Errorf("%w: %q", meta.ErrObjectNotFound, key)
	}
	return o, nil
}

func (m *memBackend) GetObject(_ context.Context, bucket, key string, r blobd.Range) (*blobdraftv1.ObjectRecord, io.ReadCloser, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.fail(); err != nil {
		return nil, nil, err
	}
	o, err := m.object(bucket, key)
	if err != nil {
		return nil, nil, err
	}
	if o.rec.GetTier() == blobdraftv1.Tier_TIER_ARCHIVE && o.rec.GetRestoreState() != blobdraftv1.RestoreState_RESTORE_STATE_RESTORED {
		return nil, nil, fmt.Errorf("%w: archived, not restored", meta.ErrInvalidObjectState)
	}
	size := int64(len(o.data))
	if r.Offset < 0 || (r.Offset >= size && !(size == 0 && r.Offset == 0)) {
		return nil, nil, fmt.Errorf("%w: offset %d of %d bytes", blobd.ErrInvalidRange, r.Offset, size)
	}
	end := size
	if r.Length >= 0 && r.Offset+r.Length < size {
		end = r.Offset + r.Length
	}
	return proto.Clone(o.rec).(*blobdraftv1.ObjectRecord), io.NopCloser(bytes.NewReader(o.data[r.Offset:end])), nil
}

func (m *memBackend) HeadObject(_ context.Context, bucket, key string) (*blobdraftv1.ObjectRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, err := m.object(bucket, key)
	if err != nil {
		return nil, err
	}
	return proto.Clone(o.rec).(*blobdraftv1.ObjectRecord), nil
}

func (m *memBackend) DeleteObject(_ context.Context, bucket, key string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.fail(); err != nil {
		return false, err
	}
	if _, err := m.bucket(bucket); err != nil {
		return false, err
	}
	_, ok := m.objects[bucket][key]
	delete(m.objects[bucket], key)
	return ok, nil
}

func (m *memBackend) CopyObject(_ context.Context, srcBucket, srcKey string, dst blobd.PutInput) (*blobdraftv1.ObjectRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	src, err := m.object(srcBucket, srcKey)
	if err != nil {
		return nil, err
	}
	b, err := m.bucket(dst.Bucket)
	if err != nil {
		return nil, err
	}
	if err := m.checkWrite(dst.Bucket, dst.Key, dst.IfMatch, dst.IfNoneMatch); err != nil {
		return nil, err
	}
	h, tier := dst.Headers, dst.Tier
	if h == nil {
		h = proto.Clone(src.rec.GetHeaders()).(*blobdraftv1.ObjectHeaders)
	}
	if tier == blobdraftv1.Tier_TIER_UNSPECIFIED {
		tier = src.rec.GetTier()
	}
	return m.store(b, dst.Key, src.data, src.rec.GetEtag(), h, tier, src.rec.GetPartSizes()), nil
}

// ListObjects lists as meta.Store.ListObjects does; its continuation token
// is "k" or "p" and the last key or prefix returned.
func (m *memBackend) ListObjects(_ context.Context, bucket string, opts meta.ListOptions) (*meta.ListResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.bucket(bucket); err != nil {
		return nil, err
	}
	max := opts.MaxKeys
	if max <= 0 || max > meta.MaxListKeys {
		max = meta.MaxListKeys
	}
	after, skip := opts.StartAfter, ""
	if t := opts.ContinuationToken; t != "" {
		raw, err := base64.RawURLEncoding.DecodeString(t)
		if err != nil || len(raw) == 0 {
			return nil, rpcerr.WithMetadata(fmt.Errorf("%w: malformed continuation token", meta.ErrInvalidArgument), rpcerr.KeyField, "continuation_token")
		}
		after = string(raw[1:])
		if raw[0] == 'p' {
			skip = after
		}
	}
	var keys []string
	for k := range m.objects[bucket] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	res := &meta.ListResult{}
	var last, kind string
	seen := map[string]bool{}
	for _, k := range keys {
		if !strings.HasPrefix(k, opts.Prefix) || k <= after || (skip != "" && strings.HasPrefix(k, skip)) {
			continue
		}
		item, isPrefix := k, false
		if opts.Delimiter != "" {
			if i := strings.Index(k[len(opts.Prefix):], opts.Delimiter); i >= 0 {
				item, isPrefix = k[:len(opts.Prefix)+i+len(opts.Delimiter)], true
				if seen[item] {
					continue
				}
			}
		}
		if res.KeyCount() == max {
			res.IsTruncated = true
			res.NextContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(kind + last))
			break
		}
		if isPrefix {
			seen[item] = true
			res.CommonPrefixes = append(res.CommonPrefixes, item)
			last, kind = item, "p"
		} else {
			rec := proto.Clone(m.objects[bucket][k].rec).(*blobdraftv1.ObjectRecord)
			res.Objects = append(res.Objects, rec)
			last, kind = k, "k"
		}
	}
	return res, nil
}

func (m *memBackend) RestoreObject(_ context.Context, bucket, key string, days int32) (*blobdraftv1.ObjectRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, err := m.object(bucket, key)
	if err != nil {
		return nil, err
	}
	if o.rec.GetTier() != blobdraftv1.Tier_TIER_ARCHIVE {
		return nil, fmt.Errorf("%w: not archived", meta.ErrInvalidObjectState)
	}
	if o.rec.GetRestoreState() == blobdraftv1.RestoreState_RESTORE_STATE_UNSPECIFIED {
		o.rec.RestoreState = blobdraftv1.RestoreState_RESTORE_STATE_IN_PROGRESS
	}
	o.rec.RestoreUntilUnixNanos = m.now.Add(time.Duration(days) * 24 * time.Hour).UnixNano()
	return proto.Clone(o.rec).(*blobdraftv1.ObjectRecord), nil
}

// finishRestores makes every restore in progress done.
func (m *memBackend) finishRestores() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, objs := range m.objects {
		for _, o := range objs {
			if o.rec.GetRestoreState() == blobdraftv1.RestoreState_RESTORE_STATE_IN_PROGRESS {
				o.rec.RestoreState = blobdraftv1.RestoreState_RESTORE_STATE_RESTORED
			}
		}
	}
}

func (m *memBackend) CreateMultipartUpload(_ context.Context, bucket, key string, h *blobdraftv1.ObjectHeaders, tier blobdraftv1.Tier) (*blobdraftv1.UploadRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.bucket(bucket); err != nil {
		return nil, err
	}
	if err := meta.ValidateKey(key); err != nil {
		return nil, err
	}
	now := m.tick()
	u := &blobdraftv1.UploadRecord{UploadId: fmt.Sprintf("%016x%016x", m.version, now), Bucket: bucket, Key: key, InitiatedUnixNanos: now, Headers: h, Tier: tier}
	m.uploads[u.UploadId] = &memUpload{rec: u, parts: map[int32]*memPart{}}
	return proto.Clone(u).(*blobdraftv1.UploadRecord), nil
}

func (m *memBackend) upload(bucket, key, id string) (*memUpload, error) {
	if _, err := m.bucket(bucket); err != nil {
		return nil, err
	}
	u := m.uploads[id]
	if u == nil || u.rec.GetBucket() != bucket || u.rec.GetKey() != key {
		return nil, fmt.Errorf("%w: %q", meta.ErrUploadNotFound, id)
	}
	return u, nil
}

func (m *memBackend) UploadPart(_ context.Context, uploadID string, number int32, in blobd.PutInput) (*blobdraftv1.PartRecord, error) {
	data, err := readBody(in, meta.MaxPartBytes)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	u, err := m.upload(in.Bucket, in.Key, uploadID)
	if err != nil {
		return nil, err
	}
	sum := md5.Sum(data)
	p := &blobdraftv1.PartRecord{Number: number, Size: int64(len(data)), Etag: hex.EncodeToString(sum[:]), UnixNanos: m.tick()}
	u.parts[number] = &memPart{rec: p, data: data}
	return proto.Clone(p).(*blobdraftv1.PartRecord), nil
}

func (m *memBackend) CompleteMultipartUpload(_ context.Context, bucket, key, uploadID string, parts []*blobdraftv1.CompletedPart, ifMatch, ifNoneMatch string) (*blobdraftv1.ObjectRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, err := m.upload(bucket, key, uploadID)
	if err != nil {
		return nil, err
	}
	for i := 1; i < len(parts); i++ {
		if parts[i].GetNumber() <= parts[i-1].GetNumber() {
			return nil, meta.ErrInvalidPartOrder
		}
	}
	var data []byte
	var etags []string
	var sizes []int64
	for i, cp := range parts {
		p := u.parts[cp.GetNumber()]
		if p == nil || p.rec.GetEtag() != cp.GetEtag() {
			return nil, rpcerr.WithMetadata(fmt.Errorf("%w: part %d", meta.ErrInvalidPart, cp.GetNumber()), meta.KeyPart, fmt.Sprint(cp.GetNumber()))
		}
		if i < len(parts)-1 && p.rec.GetSize() < meta.MinPartSize {
			return nil, rpcerr.WithMetadata(fmt.Errorf("%w: part %d", meta.ErrEntityTooSmall, cp.GetNumber()), meta.KeyPart, fmt.Sprint(cp.GetNumber()))
		}
		data = append(data, p.data...)
		etags = append(etags, p.rec.GetEtag())
		sizes = append(sizes, p.rec.GetSize())
	}
	if err := m.checkWrite(bucket, key, ifMatch, ifNoneMatch); err != nil {
		return nil, err
	}
	etag, err := meta.MultipartETag(etags)
	if err != nil {
		return nil, err
	}
	delete(m.uploads, uploadID)
	return m.store(m.buckets[bucket], key, data, etag, u.rec.GetHeaders(), u.rec.GetTier(), sizes), nil
}

func (m *memBackend) AbortMultipartUpload(_ context.Context, bucket, key, uploadID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.upload(bucket, key, uploadID); err != nil {
		return err
	}
	delete(m.uploads, uploadID)
	return nil
}

func (m *memBackend) ListParts(_ context.Context, bucket, key, uploadID string, marker int32, limit int) ([]*blobdraftv1.PartRecord, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, err := m.upload(bucket, key, uploadID)
	if err != nil {
		return nil, false, err
	}
	var nums []int
	for n := range u.parts {
		if n > marker {
			nums = append(nums, int(n))
		}
	}
	sort.Ints(nums)
	var out []*blobdraftv1.PartRecord
	for _, n := range nums {
		if len(out) == limit {
			return out, true, nil
		}
		out = append(out, proto.Clone(u.parts[int32(n)].rec).(*blobdraftv1.PartRecord))
	}
	return out, false, nil
}

func (m *memBackend) ListUploads(_ context.Context, bucket string, opts meta.UploadListOptions) ([]*blobdraftv1.UploadRecord, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.bucket(bucket); err != nil {
		return nil, false, err
	}
	var all []*blobdraftv1.UploadRecord
	for _, u := range m.uploads {
		r := u.rec
		if r.GetBucket() != bucket || !strings.HasPrefix(r.GetKey(), opts.Prefix) {
			continue
		}
		if opts.KeyMarker != "" && (r.GetKey() < opts.KeyMarker || r.GetKey() == opts.KeyMarker && (opts.UploadIDMarker == "" || r.GetUploadId() <= opts.UploadIDMarker)) {
			continue
		}
		all = append(all, proto.Clone(r).(*blobdraftv1.UploadRecord))
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].GetKey() != all[j].GetKey() {
			return all[i].GetKey() < all[j].GetKey()
		}
		return all[i].GetUploadId() < all[j].GetUploadId()
	})
	max := opts.MaxUploads
	if max <= 0 || max > meta.MaxListKeys {
		max = meta.MaxListKeys
	}
	if len(all) > max {
		return all[:max], true, nil
	}
	return all, false, nil
}

func (m *memBackend) AccessKey(_ context.Context, id string) (*blobdraftv1.AccessKeyRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := m.keys[id]
	if k == nil {
		return nil, fmt.Errorf("%w: %q", meta.ErrAccessKeyNotFound, id)
	}
	return proto.Clone(k).(*blobdraftv1.AccessKeyRecord), nil
}

// Test credentials: the bootstrap key of the tests' handlers.
const (
	testKeyID  = "AKIDCAIRNS3TEST0"
	testSecret = "cairn-s3-test-secret-0123456789"
	testRegion = "us-east-1"
)

// testServer is a Handler over a memBackend, served by httptest.
type testServer struct {
	*httptest.Server
	backend *memBackend
	handler *Handler
}

// newTestServer starts a plain-HTTP test server; tune adjusts the config.
func newTestServer(t *testing.T, tune func(*Config)) *testServer {
	t.Helper()
	b := newMemBackend()
	cfg := Config{Region: testRegion, Credentials: sigv4.StaticCredentials{testKeyID: {SecretAccessKey: testSecret, Principal: "tester"}},
		Domains: []string{"localhost"}}
	if tune != nil {
		tune(&cfg)
	}
	h, err := NewHandler(cfg, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return &testServer{Server: ts, backend: b, handler: h}
}

// testCred is the test key as node/sigv4 signs with it.
var testCred = sigv4.Credential{AccessKeyID: testKeyID, SecretAccessKey: testSecret}

// do sends a request signed with the test key (header SigV4 over the
// body's SHA-256) and returns the response with its body read.
func (s *testServer) do(t *testing.T, method, path string, body []byte, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body == nil {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	if err := sigv4.Sign(req, sigv4.SignOptions{Credential: testCred, Region: testRegion, Service: "s3"}); err != nil {
		t.Fatal(err)
	}
	return send(t, req)
}

// send sends req and reads the whole response.
func send(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", req.Method, req.URL, err)
	}
	return resp, string(b)
}

// wantStatus fails unless resp has status (and, for an error, code).
func wantStatus(t *testing.T, resp *http.Response, body string, status int, code string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d; body %s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, status, body)
	}
	if code != "" && !strings.Contains(body, "<Code>"+code+"</Code>") {
		t.Fatalf("%s %s: want code %s; body %s", resp.Request.Method, resp.Request.URL.Path, code, body)
	}
	if resp.Header.Get("x-amz-request-id") == "" {
		t.Fatalf("%s %s: no x-amz-request-id", resp.Request.Method, resp.Request.URL.Path)
	}
}

// md5b64 is the Content-MD5 of b.
func md5b64(b []byte) string {
	s := md5.Sum(b)
	return base64.StdEncoding.EncodeToString(s[:])
}

// md5hex is the etag of b.
func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// rawRequest writes req's headers with Content-Length: length and then only
// body, half-closes the connection and reads the response (nil when the
// server just closed the connection).
func rawRequest(t *testing.T, addr string, req *http.Request, body string, length int) (*http.Response, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", req.Method, req.URL.RequestURI(), req.URL.Host)
	for k, vs := range req.Header {
		for _, v := range vs {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	fmt.Fprintf(&b, "Connection: close\r\nContent-Length: %d\r\n\r\n%s", length, body)
	if _, err := io.WriteString(conn, b.String()); err != nil {
		t.Fatal(err)
	}
	conn.(*net.TCPConn).CloseWrite()
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		return nil, ""
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	return resp, string(rb)
}

// b64crc32 is the x-amz-checksum-crc32 of b.
func b64crc32(b []byte) string {
	h := crc32.NewIEEE()
	h.Write(b)
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}
