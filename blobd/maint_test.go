package blobd_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"cairn.dev/cairn/blobd"
	"cairn.dev/cairn/blobd/blobdtest"
	"cairn.dev/cairn/blobd/meta"
	"cairn.dev/cairn/blobd/volume"
	"cairn.dev/cairn/node/nodetest"
	"cairn.dev/cairn/node/rpcerr"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

// repairTimeout bounds how long repair may take to restore full redundancy
// in these small clusters (a lost server is DOWN after 1.5s; a few MiB to
// copy or rebuild).
const repairTimeout = 30 * time.Second

// corruptOnDisk flips one byte inside the needle data that starts with
// marker in volume vid's data file on member m, as bitrot would.
func corruptOnDisk(t *testing.T, m *blobdtest.Member, vid uint32, marker []byte) {
	t.Helper()
	path := filepath.Join(m.Config.DataDir, blobd.VolumesDir, fmt.Sprintf("%d.dat", vid))
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, marker)
	if i < 0 {
		t.Fatalf("needle data not found in %s", path)
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte{b[i+10] ^ 0xff}, int64(i+10)); err != nil {
		t.Fatal(err)
	}
}

// object reads bucket/key's record from s's local metadata (after the
// cluster caught up: the callers poll).
func object(t *testing.T, s *blobd.Server, bucket, key string) *blobdraftv1.ObjectRecord {
	t.Helper()
	o, err := s.Meta().Object(bucket, key)
	if err != nil {
		t.Fatalf("object %s/%s: %v", bucket, key, err)
	}
	return o
}

// waitHealthy waits until the leader's repair status (asked through s)
// reports full redundancy.
func waitHealthy(t *testing.T, s *blobd.Server, what string) *blobd.RepairStatus {
	t.Helper()
	var st *blobd.RepairStatus
	nodetest.WaitFor(t, repairTimeout, what, func() bool {
		var err error
		st, err = s.Repair(t.Context())
		return err == nil && st.Healthy
	})
	return st
}

// TestRepair: a needle rotting on disk is found by the scrubber and its
// volume re-copied (replicated) or its shard rebuilt (erasure-coded); a
// stopped volume server's replicas are copied to others and its shards
// rebuilt, every object reading back byte-identical with it still down,
// until the leader reports full redundancy; once back, the server drops the
// volumes it no longer holds.
func TestRepair(t *testing.T) {
	rng := rand.New(rand.NewPCG(nodetest.Seed(t), 3))
	c := blobdtest.New(t, 5, func(cfg *blobd.Config) { cfg.ScrubInterval = 300 * time.Millisecond })
	leader := c.Leader()
	mustBucket(t, leader.Server, "hot", blobdraftv1.Tier_TIER_HOT)
	mustBucket(t, leader.Server, "cool", blobdraftv1.Tier_TIER_COOL)
	waitWritable(t, leader.Server, "hot")
	waitWritable(t, leader.Server, "cool")
	objs := map[[2]string][]byte{}
	for i, n := range []int{1000, chunk + 777, 2*chunk + 5} {
		k := [2]string{"hot", fmt.Sprintf("h/%d", i)}
		objs[k] = randBytes(rng, n)
		put(t, c.All()[i].Server, k[0], k[1], objs[k])
	}
	for i, n := range []int{chunk + 3, 5000} {
		k := [2]string{"cool", fmt.Sprintf("c/%d", i)}
		objs[k] = randBytes(rng, n)
		put(t, c.All()[i+3].Server, k[0], k[1], objs[k])
	}
	readAll := func(what string) {
		t.Helper()
		for _, m := range c.Live() {
			for k, data := range objs {
				sameBytes(t, fmt.Sprintf("%s/%s from %s %s", k[0], k[1], m.ID, what), get(t, m.Server, k[0], k[1], blobd.FullRange), data)
			}
		}
	}
	waitHealthy(t, leader.Server, "a healthy cluster")

	t.Run("CorruptReplica", func(t *testing.T) {
		data := objs[[2]string{"hot", "h/1"}]
		ref := object(t, leader.Server, "hot", "h/1").Chunks[0].GetReplicated()
		vol, err := leader.Server.Meta().Volume(ref.Vid)
		if err != nil {
			t.Fatal(err)
		}
		bad := vol.Servers[0]
		corruptOnDisk(t, c.Member(bad), ref.Vid, data[:64])
		nodetest.WaitFor(t, repairTimeout, "the corrupt copy to be replaced", func() bool {
			v, err := leader.Server.Meta().Volume(ref.Vid)
			return err == nil && !slices.Contains(v.Servers, bad) && len(v.Servers) == len(vol.Servers)
		})
		st := waitHealthy(t, leader.Server, "redundancy after the scrub")
		if st.BytesCopied == 0 {
			t.Errorf("repair status %+v: no bytes copied", st)
		}
		readAll("after the corrupt replica was replaced")
	})

	t.Run("CorruptShard", func(t *testing.T) {
		data := objs[[2]string{"cool", "c/0"}]
		sh := object(t, leader.Server, "cool", "c/0").Chunks[0].GetEc().Shards[0]
		vol, err := leader.Server.Meta().Volume(sh.Vid)
		if err != nil {
			t.Fatal(err)
		}
		corruptOnDisk(t, c.Member(vol.Servers[0]), sh.Vid, data[:64])
		nodetest.WaitFor(t, repairTimeout, "the corrupt shard to be rebuilt", func() bool {
			o, err := leader.Server.Meta().Object("cool", "c/0")
			if err != nil {
				return false
			}
			for _, cur := range chunkNeedles(o.Chunks) {
				if cur.Vid == sh.Vid && cur.Nid == sh.Nid {
					return false
				}
			}
			return true
		})
		waitHealthy(t, leader.Server, "redundancy after the shard rebuild")
		readAll("after the corrupt shard was rebuilt")
	})

	t.Run("LostServer", func(t *testing.T) {
		leader := c.Leader()
		vol, err := leader.Server.Meta().Volume(object(t, leader.Server, "hot", "h/2").Chunks[0].GetReplicated().Vid)
		if err != nil {
			t.Fatal(err)
		}
		victim := ""
		for _, id := range vol.Servers {
			if id != leader.ID {
				victim = id
				break
			}
		}
		c.Stop(victim)
		readAll("with " + victim + " stopped")
		nodetest.WaitFor(t, repairTimeout, victim+" to be DOWN", func() bool {
			r, err := leader.Server.Meta().Server(victim)
			return err == nil && r.State == blobdraftv1.ServerState_SERVER_STATE_DOWN
		})
		st := waitHealthy(t, leader.Server, "redundancy without "+victim)
		if st.Degraded != 0 || len(st.ServersDown) != 0 || st.Leader == "" {
			t.Fatalf("healthy status %+v", st)
		}
		vols, err := leader.Server.Meta().VolumesOn(victim)
		if err != nil || len(vols) != 0 {
			t.Fatalf("volumes still on %s: %v (%v)", victim, vols, err)
		}
		readAll("after repair, " + victim + " still stopped")

		back := c.Restart(victim)
		nodetest.WaitFor(t, repairTimeout, victim+" to drop the volumes it no longer holds", func() bool {
			for _, vi := range back.Server.Volumes().Volumes() {
				v, err := back.Server.Meta().Volume(vi.ID)
				if err != nil || !slices.Contains(v.Servers, victim) {
					return false
				}
			}
			return true
		})
		waitHealthy(t, c.Follower().Server, "redundancy with "+victim+" back")
		readAll("with " + victim + " back")
	})
}

// TestGarbageCollection: a needle nothing references is deleted once its
// id is older than the grace period (and its volume compacted), while a
// young unreferenced needle and referenced ones stay.
func TestGarbageCollection(t *testing.T) {
	rng := rand.New(rand.NewPCG(nodetest.Seed(t), 4))
	c := blobdtest.New(t, 3, func(cfg *blobd.Config) { cfg.GCGrace = 5 * time.Second })
	leader := c.Leader()
	mustBucket(t, leader.Server, "gc", blobdraftv1.Tier_TIER_HOT)
	waitWritable(t, leader.Server, "gc")
	data := randBytes(rng, chunk/2)
	o := put(t, leader.Server, "gc", "kept", data)
	kept := o.Chunks[0].GetReplicated()

	// A volume of our own on one member, so that compaction is visible.
	ctx := t.Context()
	m := c.Follower()
	apply := m.Server.Node().Apply
	res, err := meta.Propose(ctx, apply, time.Now(), meta.CreateVolume(blobdraftv1.VolumeKind_VOLUME_KIND_REPLICATED, []string{m.ID}, 0))
	if err != nil {
		t.Fatal(err)
	}
	vid := res.GetVolume().GetId()
	if _, err := meta.Propose(ctx, apply, time.Now(), meta.SetVolumeState(vid, blobdraftv1.VolumeState_VOLUME_STATE_FULL)); err != nil {
		t.Fatal(err)
	}
	old, err := meta.Propose(ctx, apply, time.Now().Add(-time.Hour), meta.AllocateNeedles(1))
	if err != nil {
		t.Fatal(err)
	}
	young, err := meta.Propose(ctx, apply, time.Now(), meta.AllocateNeedles(1))
	if err != nil {
		t.Fatal(err)
	}
	vols := m.Server.Volumes()
	if err := vols.Create(vid); err != nil && !errors.Is(err, volume.ErrExists) {
		t.Fatal(err)
	}
	oldID, youngID := old.GetNeedles().GetFirst(), young.GetNeedles().GetFirst()
	garbage := randBytes(rng, chunk)
	if _, err := vols.Write(vid, oldID, 7, bytes.NewReader(garbage), int64(len(garbage))); err != nil {
		t.Fatal(err)
	}
	if _, err := vols.Write(vid, youngID, 8, strings.NewReader("young"), 5); err != nil {
		t.Fatal(err)
	}
	if err := vols.Sync(vid); err != nil {
		t.Fatal(err)
	}
	nodetest.WaitFor(t, 10*time.Second, "the old unreferenced needle to be collected", func() bool {
		_, _, err := vols.Stat(vid, oldID, 7)
		return err != nil
	})
	if _, _, err := vols.Stat(vid, youngID, 8); err != nil {
		t.Fatalf("young needle collected: %v", err)
	}
	nodetest.WaitFor(t, 10*time.Second, "the volume to be compacted", func() bool {
		vi, err := vols.Info(vid)
		return err == nil && vi.Generation > 1
	})
	for _, mm := range c.Live() {
		if _, _, err := mm.Server.Volumes().Stat(kept.Vid, kept.Nid, kept.Cookie); err != nil && slices.Contains(volumeServers(t, mm.Server, kept.Vid), mm.ID) {
			t.Fatalf("referenced needle gone from %s: %v", mm.ID, err)
		}
	}
	sameBytes(t, "kept object", get(t, leader.Server, "gc", "kept", blobd.FullRange), data)

	// The FULL volume holds no referenced needle: the leader drops it, and
	// its server deletes the files.
	nodetest.WaitFor(t, 20*time.Second, "the empty full volume to be dropped", func() bool {
		_, err := vols.Info(vid)
		return err != nil
	})
}

func volumeServers(t *testing.T, s *blobd.Server, vid uint32) []string {
	t.Helper()
	v, err := s.Meta().Volume(vid)
	if err != nil {
		t.Fatal(err)
	}
	return v.Servers
}

// TestLifecycleAndRestore: lifecycle rules move an object hot → cool →
// archive (reading back identical after each move) and expire another; an
// archived object reads only once restored (after RestoreDelay) and not
// after the restore lapses; SetTier moves it back to hot.
func TestLifecycleAndRestore(t *testing.T) {
	rng := rand.New(rand.NewPCG(nodetest.Seed(t), 5))
	c := blobdtest.New(t, 3, func(cfg *blobd.Config) { cfg.RestoreDelay = time.Second })
	leader := c.Leader().Server
	ctx := t.Context()
	mustBucket(t, leader, "life", blobdraftv1.Tier_TIER_HOT)
	waitWritable(t, leader, "life")
	moved := randBytes(rng, 2*chunk+99)
	o := put(t, leader, "life", "t/a", moved)
	put(t, leader, "life", "e/b", []byte("expires"))
	rules := []*blobdraftv1.LifecycleRule{
		{Id: "tiers", Prefix: "t/", TransitionCoolDays: 1, TransitionArchiveDays: 2},
		{Id: "expire", Prefix: "e/", ExpirationDays: 1},
	}
	if err := leader.PutLifecycle(ctx, "life", rules); err != nil {
		t.Fatal(err)
	}
	created := time.Unix(0, o.CreatedUnixNanos)
	skew := func(days int32) {
		d := time.Until(meta.LifecycleDue(created, days)) + time.Minute
		for _, m := range c.All() {
			m.Server.SetMaintClockSkew(d)
		}
	}
	head := func(key string) (*blobdraftv1.ObjectRecord, error) { return leader.HeadObject(ctx, "life", key) }
	waitTier := func(tier blobdraftv1.Tier) {
		t.Helper()
		nodetest.WaitFor(t, 20*time.Second, "t/a to move to "+tier.String(), func() bool {
			o, err := head("t/a")
			return err == nil && o.Tier == tier
		})
	}

	skew(1)
	waitTier(blobdraftv1.Tier_TIER_COOL)
	nodetest.WaitFor(t, 20*time.Second, "e/b to expire", func() bool {
		_, err := head("e/b")
		return blobd.ReasonOf(err) == rpcerr.ObjectNotFound
	})
	sameBytes(t, "t/a in cool", get(t, c.Follower().Server, "life", "t/a", blobd.FullRange), moved)

	skew(2)
	waitTier(blobdraftv1.Tier_TIER_ARCHIVE)
	_, _, err := leader.GetObject(ctx, "life", "t/a", blobd.FullRange)
	wantReason(t, "get archived before a restore", err, rpcerr.InvalidObjectState)

	_, err = leader.RestoreObject(ctx, "life", "t/a", 0)
	wantReason(t, "restore for 0 days", err, rpcerr.InvalidArgument)
	put(t, leader, "life", "hot", []byte("hot"))
	_, err = leader.RestoreObject(ctx, "life", "hot", 1)
	wantReason(t, "restore a hot object", err, rpcerr.InvalidObjectState)

	r, err := c.Follower().Server.RestoreObject(ctx, "life", "t/a", 1)
	if err != nil {
		t.Fatal(err)
	}
	if r.RestoreState != blobdraftv1.RestoreState_RESTORE_STATE_IN_PROGRESS {
		t.Fatalf("restore state %v right after the request", r.RestoreState)
	}
	_, _, err = leader.GetObject(ctx, "life", "t/a", blobd.FullRange)
	wantReason(t, "get while the restore is in progress", err, rpcerr.InvalidObjectState)
	nodetest.WaitFor(t, 20*time.Second, "the restore to finish", func() bool {
		o, err := head("t/a")
		return err == nil && o.RestoreState == blobdraftv1.RestoreState_RESTORE_STATE_RESTORED
	})
	sameBytes(t, "t/a restored", get(t, leader, "life", "t/a", blobd.FullRange), moved)

	skew(4) // a day past the restore's end
	nodetest.WaitFor(t, 20*time.Second, "the restore to lapse", func() bool {
		o, err := head("t/a")
		return err == nil && o.RestoreState == blobdraftv1.RestoreState_RESTORE_STATE_UNSPECIFIED
	})
	_, _, err = leader.GetObject(ctx, "life", "t/a", blobd.FullRange)
	wantReason(t, "get after the restore lapsed", err, rpcerr.InvalidObjectState)

	if err := leader.PutLifecycle(ctx, "life", nil); err != nil {
		t.Fatal(err)
	}
	back, err := leader.SetTier(ctx, "life", "t/a", blobdraftv1.Tier_TIER_HOT)
	if err != nil {
		t.Fatal(err)
	}
	if back.Tier != blobdraftv1.Tier_TIER_HOT || back.Etag != o.Etag || back.Version != o.Version {
		t.Fatalf("after SetTier hot: %+v", back)
	}
	sameBytes(t, "t/a back in hot", get(t, leader, "life", "t/a", blobd.FullRange), moved)
	_, err = leader.SetTier(ctx, "life", "t/a", blobdraftv1.Tier(9))
	wantReason(t, "SetTier to an unknown tier", err, rpcerr.InvalidArgument)
}
