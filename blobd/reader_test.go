package blobd_test

import (
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"cairn.dev/cairn/blobd"
	"cairn.dev/cairn/blobd/blobdtest"
	"cairn.dev/cairn/node/nodetest"
	"cairn.dev/cairn/node/rpcerr"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

// readerChunks is the size in chunks of the objects the reader tests
// read: more than a reader fetches ahead (8 chunks of 1 MiB), so the last
// chunks are fetched only after the test changed the object.
const readerChunks = 12

// openAfterFirstByte opens bucket/key on s and reads its first byte, so
// that the reader holds the manifest and has its read-ahead in flight.
func openAfterFirstByte(t *testing.T, s *blobd.Server, bucket, key string, first byte) io.ReadCloser {
	t.Helper()
	_, rc, err := s.GetObject(t.Context(), bucket, key, blobd.FullRange)
	if err != nil {
		t.Fatalf("get %s/%s: %v", bucket, key, err)
	}
	t.Cleanup(func() { rc.Close() })
	var b [1]byte
	if _, err := io.ReadFull(rc, b[:]); err != nil || b[0] != first {
		t.Fatalf("first byte: %v (got %#x, want %#x)", err, b[0], first)
	}
	return rc
}

// A reader whose manifest is swapped under it (the object moved to another
// tier, its old needles deleted) goes on with the new manifest from where
// it was and returns the object's bytes.
func TestObjectReaderFollowsManifestSwap(t *testing.T) {
	c := blobdtest.New(t, 5, longGrace)
	s := c.All()[0].Server
	mustBucket(t, s, "swap", blobdraftv1.Tier_TIER_HOT)
	waitWritable(t, s, "swap")
	data := randBytes(rand.New(rand.NewPCG(7, 8)), readerChunks*chunk)
	put(t, s, "swap", "obj", data)

	rc := openAfterFirstByte(t, s, "swap", "obj", data[0])
	// SetTier writes the chunks again as shards, commits the new manifest
	// (same etag and version) and deletes the old needles before returning.
	if _, err := s.SetTier(t.Context(), "swap", "obj", blobdraftv1.Tier_TIER_COOL); err != nil {
		t.Fatalf("set tier: %v", err)
	}
	rest, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read after the swap: %v", err)
	}
	sameBytes(t, "object read across a manifest swap", append([]byte{data[0]}, rest...), data)
	if n := blobd.ObjectReaderReloads(rc); n < 1 {
		t.Fatalf("the reader re-read the manifest %d times, want at least 1 (the old needles were deleted)", n)
	}
	rc.Close()
	if n := s.ReadAheadInUse(); n != 0 {
		t.Fatalf("%d read-ahead slots held after the reader closed", n)
	}
}

// A reader whose object is replaced under it (another etag) does not go on
// with the new object's bytes: once the old needles are gone it fails with
// DATA_UNAVAILABLE.
func TestObjectReaderRefusesReplacedObject(t *testing.T) {
	c := blobdtest.New(t, 5, longGrace)
	s := c.All()[0].Server
	mustBucket(t, s, "repl", blobdraftv1.Tier_TIER_HOT)
	waitWritable(t, s, "repl")
	rng := rand.New(rand.NewPCG(9, 10))
	old := randBytes(rng, readerChunks*chunk)
	o := put(t, s, "repl", "obj", old)

	rc := openAfterFirstByte(t, s, "repl", "obj", old[0])
	put(t, s, "repl", "obj", randBytes(rng, readerChunks*chunk))
	last := o.GetChunks()[len(o.GetChunks())-1]
	nodetest.WaitFor(t, 10*time.Second, "the replaced object's needles to be deleted", func() bool {
		_, err := s.DataReadChunk(t.Context(), last)
		return err != nil
	})
	_, err := io.ReadAll(rc)
	wantReason(t, "read of a replaced object", err, rpcerr.DataUnavailable)
	rc.Close()
	if n := s.ReadAheadInUse(); n != 0 {
		t.Fatalf("%d read-ahead slots held after the reader closed", n)
	}
}
