package blobd_test

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"cairn.dev/cairn/blobd"
	"cairn.dev/cairn/blobd/blobdtest"
	"cairn.dev/cairn/blobd/meta"
	"cairn.dev/cairn/node/nodetest"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

// TestStaleMoverRefused: a mover that read a manifest another mover has
// swapped since (a shard rebuild, a tier move) is refused and leaves the
// object as the first swap made it. SetObjectTier used to check only etag
// and version, which a swap keeps, so the second swap went through: it
// freed the first's new needles, and when the first had freed needles the
// second still named, the object lost data.
func TestStaleMoverRefused(t *testing.T) {
	rng := rand.New(rand.NewPCG(nodetest.Seed(t), 11))
	c := blobdtest.New(t, 5, func(cfg *blobd.Config) { cfg.GCGrace = 30 * time.Second })
	leader := c.Leader().Server
	mustBucket(t, leader, "race", blobdraftv1.Tier_TIER_HOT)
	waitWritable(t, leader, "race")
	data := randBytes(rng, chunk+chunk/3)
	put(t, leader, "race", "k", data)
	stale := object(t, leader, "race", "k")

	// Another mover swaps the manifest first: here a shard rebuild that
	// found nothing to replace (it keeps every needle, so the stale mover
	// can still read them; a real one frees what it replaced).
	res, err := leader.MaintPropose(t.Context(), meta.SetObjectTier("race", "k", stale.Etag, meta.ManifestIndex(stale), stale.Tier, stale.Chunks))
	if err != nil {
		t.Fatal(err)
	}
	swapped := res.GetObject()
	if meta.ManifestIndex(swapped) == meta.ManifestIndex(stale) || swapped.Version != stale.Version {
		t.Fatalf("a swap: manifest %d → %d, version %d → %d", meta.ManifestIndex(stale), meta.ManifestIndex(swapped), stale.Version, swapped.Version)
	}
	_, err = leader.MaintSetTierFrom(t.Context(), stale, blobdraftv1.Tier_TIER_COOL)
	if !errors.Is(err, meta.ErrPreconditionFailed) {
		t.Fatalf("a move from the manifest before the swap: err %v, want %v", err, meta.ErrPreconditionFailed)
	}
	now := object(t, leader, "race", "k")
	if now.Tier != blobdraftv1.Tier_TIER_HOT || meta.ManifestIndex(now) != meta.ManifestIndex(swapped) {
		t.Fatalf("after the refused move: tier %v manifest %d, want hot %d", now.Tier, meta.ManifestIndex(now), meta.ManifestIndex(swapped))
	}
	sameBytes(t, "the object after the refused move", get(t, leader, "race", "k", blobd.FullRange), data)

	// SetTier reads the object again and moves it.
	cool, err := leader.SetTier(t.Context(), "race", "k", blobdraftv1.Tier_TIER_COOL)
	if err != nil || cool.Tier != blobdraftv1.Tier_TIER_COOL {
		t.Fatalf("SetTier cool: %v, %v", cool, err)
	}
	sameBytes(t, "the object moved", get(t, leader, "race", "k", blobd.FullRange), data)
}

// TestLateCommitAfterGC: a manifest committed after garbage collection
// deleted its needles (an upload or a maintenance write whose commit was
// delayed past the freshness check) is refused by the state machine with
// REQUEST_TIMEOUT instead of creating an object whose data is gone.
func TestLateCommitAfterGC(t *testing.T) {
	rng := rand.New(rand.NewPCG(nodetest.Seed(t), 12))
	const grace = 2 * time.Second
	c := blobdtest.New(t, 3, func(cfg *blobd.Config) {
		cfg.GCGrace = grace
		cfg.GCInterval = 100 * time.Millisecond
	})
	leader := c.Leader().Server
	mustBucket(t, leader, "late", blobdraftv1.Tier_TIER_HOT)
	waitWritable(t, leader, "late")
	data := randBytes(rng, chunk/4)
	ch, err := leader.DataWriteChunk(t.Context(), blobdraftv1.Tier_TIER_HOT, data)
	if err != nil {
		t.Fatal(err)
	}
	ref := ch.GetReplicated()
	nodetest.WaitFor(t, 20*time.Second, "GC to delete the uncommitted needle everywhere", func() bool {
		for _, m := range c.All() {
			if m.Server.MaintLocalNeedle(ref.GetVid(), ref.GetNid()) {
				return false
			}
		}
		return true
	})
	o := &blobdraftv1.ObjectRecord{Size: int64(len(data)), Etag: "0123456789abcdef0123456789abcdef", Chunks: []*blobdraftv1.Chunk{ch}}
	_, err = c.Follower().Server.MaintPropose(t.Context(), meta.PutObject("late", "k", o, "", ""))
	if !errors.Is(err, meta.ErrNeedleTooOld) {
		t.Fatalf("committing needles GC deleted: err %v, want %v", err, meta.ErrNeedleTooOld)
	}
	wantReason(t, "the late commit", err, "REQUEST_TIMEOUT")
	if _, err := leader.Meta().Object("late", "k"); !errors.Is(err, meta.ErrObjectNotFound) {
		t.Fatalf("the refused object: err %v, want %v", err, meta.ErrObjectNotFound)
	}
}
