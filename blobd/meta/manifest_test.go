package meta

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

// Two movers (a shard rebuild and a tier move, or two rebuilds) that read
// the same manifest: only the first swap may commit. The second used to
// pass the etag+version check (SetObjectTier keeps the version), freeing
// the first's new needles while its own manifest named needles the first
// had freed.
func TestSetObjectTierRacingMovers(t *testing.T) {
	ts := openTestStore(t)
	ts.cluster()
	o := ts.must(PutObject("bkt", "k", obj(10, "e", ecChunk(10, [3]uint64{1, 2, 3})), "", "")).GetObject()
	require.Equal(t, ts.idx, o.ManifestIndex)
	require.Equal(t, o.Version, ManifestIndex(o))

	// Both read o. The rebuild replaces shard 0; the move writes new shards.
	rebuild := SetObjectTier("bkt", "k", o.Etag, ManifestIndex(o), o.Tier, ecChunk(10, [3]uint64{4, 2, 3}))
	move := SetObjectTier("bkt", "k", o.Etag, ManifestIndex(o), blobdraftv1.Tier_TIER_ARCHIVE, ecChunk(10, [3]uint64{5, 6, 7}))
	res := ts.must(rebuild)
	require.Equal(t, []uint64{1}, freedNids(res))
	swapped := res.GetObject()
	require.Equal(t, o.Version, swapped.Version, "a swap keeps the version")
	require.Equal(t, ts.idx, swapped.ManifestIndex)

	ts.refuse(move, ErrPreconditionFailed)
	require.Equal(t, 1, ts.refCount(2, 4), "the rebuild's new shard is still referenced")
	got, err := ts.s.Object("bkt", "k")
	require.NoError(t, err)
	require.Equal(t, swapped.ManifestIndex, got.ManifestIndex)

	// Read again, the move goes through; SetRestore keeps the index.
	res = ts.must(SetObjectTier("bkt", "k", got.Etag, ManifestIndex(got), blobdraftv1.Tier_TIER_ARCHIVE, ecChunk(10, [3]uint64{5, 6, 7})))
	require.ElementsMatch(t, []uint64{4, 2, 3}, freedNids(res))
	idx := res.GetObject().ManifestIndex
	r := ts.must(SetRestore("bkt", "k", blobdraftv1.RestoreState_RESTORE_STATE_RESTORED, t0.Add(time.Hour))).GetObject()
	require.Equal(t, idx, r.ManifestIndex)

	// A multipart object's manifest index is its Complete's index.
	up := ts.must(CreateMultipartUpload("bkt", "m", nil, 0)).GetUpload()
	p := &blobdraftv1.PartRecord{Number: 1, Size: 10, Etag: md5hex("p"), Chunks: repl(10, 8)}
	ts.must(PutPart("bkt", "m", up.UploadId, p))
	m := ts.must(CompleteMultipartUpload("bkt", "m", up.UploadId, []*blobdraftv1.CompletedPart{{Number: 1, Etag: p.Etag}}, "", "")).GetObject()
	require.Equal(t, ts.idx, m.ManifestIndex)
}

// A record written before manifest indexes existed reads its version as
// its manifest index, so movers of old records still exclude each other.
func TestManifestIndexOfOldRecord(t *testing.T) {
	require.Equal(t, uint64(7), ManifestIndex(&blobdraftv1.ObjectRecord{Version: 7}))
	require.Equal(t, uint64(9), ManifestIndex(&blobdraftv1.ObjectRecord{Version: 7, ManifestIndex: 9}))
}

// The state machine refuses a command that would reference, for the first
// time, a needle older than its needle_max_age_nanos by the clock (the
// largest time applied), so garbage collection, which deletes unreferenced
// needles older than the grace by that clock, never races a late commit.
func TestNeedleMaxAge(t *testing.T) {
	const grace = time.Minute
	ts := openTestStore(t)
	ts.cluster() // needles 1..1000 allocated at t0
	clock, err := ts.s.Clock()
	require.NoError(t, err)
	require.Equal(t, t0, clock)

	ts.now = t0.Add(grace) // exactly the grace: still fine
	ts.must(WithNeedleMaxAge(PutObject("bkt", "a", obj(10, "e", repl(10, 1)), "", ""), grace))

	// A later entry moves the clock; one stamped earlier (a delayed
	// proposal) is judged by the clock, not by its own stamp.
	ts.now = t0.Add(grace + time.Second)
	ts.must(Tick())
	ts.now = t0.Add(time.Second)
	err = ts.refuse(WithNeedleMaxAge(PutObject("bkt", "b", obj(10, "e", repl(10, 2)), "", ""), grace), ErrNeedleTooOld)
	require.Contains(t, err.Error(), "garbage collection")
	clock, err = ts.s.Clock()
	require.NoError(t, err)
	require.Equal(t, t0.Add(grace+time.Second), clock, "the clock never goes back")

	// Parts and tier moves too; without a bound (old entries) it applies.
	up := ts.must(CreateMultipartUpload("bkt", "m", nil, 0)).GetUpload()
	ts.refuse(WithNeedleMaxAge(PutPart("bkt", "m", up.UploadId, &blobdraftv1.PartRecord{Number: 1, Size: 10, Etag: md5hex("p"), Chunks: repl(10, 3)}), grace), ErrNeedleTooOld)
	o, err := ts.s.Object("bkt", "a")
	require.NoError(t, err)
	ts.refuse(WithNeedleMaxAge(SetObjectTier("bkt", "a", o.Etag, ManifestIndex(o), blobdraftv1.Tier_TIER_COOL, ecChunk(10, [3]uint64{4, 5, 6})), grace), ErrNeedleTooOld)

	// Needles already referenced (the shards a rebuild keeps) are not
	// judged; fresh ones are.
	ts.must(PutObject("bkt", "c", obj(10, "e", ecChunk(10, [3]uint64{7, 8, 9})), "", ""))
	c, err := ts.s.Object("bkt", "c")
	require.NoError(t, err)
	fresh := ts.must(AllocateNeedles(1)).GetNeedles().GetFirst()
	ts.must(WithNeedleMaxAge(SetObjectTier("bkt", "c", c.Etag, ManifestIndex(c), c.Tier, ecChunk(10, [3]uint64{fresh, 8, 9})), grace))
	ts.must(PutObject("bkt", "d", obj(10, "e", repl(10, 10)), "", ""))
}
