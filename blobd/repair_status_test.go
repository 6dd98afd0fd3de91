package blobd_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"cairn.dev/cairn/blobd"
	"cairn.dev/cairn/blobd/blobdtest"
	"cairn.dev/cairn/node/nodetest"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

// The repair status never says healthy while a copy is known bad, missing
// or unknown (docs/chaos.md bug 13: a node's scrubber found a flipped
// needle twice and a volume's copy was deleted, yet every status was
// healthy).

// holderOtherThan returns a server of volume vid other than not.
func holderOtherThan(t *testing.T, s *blobd.Server, vid uint32, not string) string {
	t.Helper()
	v, err := s.Meta().Volume(vid)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range v.Servers {
		if id != not {
			return id
		}
	}
	t.Fatalf("volume %d has no server but %s", vid, not)
	return ""
}

// TestRepairStatusLostCopy: a volume server restarts without a volume's
// files (deleted, a replaced disk). From the first heartbeat that lacks
// the copy the status is degraded (it used to stay healthy until the repair
// loop acted, ServerTimeout later), and the repair loop replaces the copy.
func TestRepairStatusLostCopy(t *testing.T) {
	rng := rand.New(rand.NewPCG(nodetest.Seed(t), 21))
	c := blobdtest.New(t, 5, func(cfg *blobd.Config) {
		cfg.ServerTimeout = 3 * time.Second
		cfg.GCGrace = 5 * time.Second
	})
	leader := c.Leader()
	mustBucket(t, leader.Server, "lost", blobdraftv1.Tier_TIER_HOT)
	waitWritable(t, leader.Server, "lost")
	data := randBytes(rng, chunk/2)
	put(t, leader.Server, "lost", "k", data)
	vid := object(t, leader.Server, "lost", "k").Chunks[0].GetReplicated().GetVid()
	victim := holderOtherThan(t, leader.Server, vid, leader.ID)
	waitHealthy(t, leader.Server, "a healthy cluster")

	c.Stop(victim)
	dir := filepath.Join(c.Member(victim).Config.DataDir, blobd.VolumesDir)
	for _, ext := range []string{"dat", "idx"} {
		if err := os.Remove(filepath.Join(dir, fmt.Sprintf("%d.%s", vid, ext))); err != nil {
			t.Fatal(err)
		}
	}
	restarted := time.Now()
	c.Restart(victim)
	nodetest.WaitFor(t, 10*time.Second, "a heartbeat of "+victim+" since its restart", func() bool {
		_, at, ok := leader.Server.DataServerVolumes(victim)
		return ok && at.After(restarted)
	})
	st, err := leader.Server.Repair(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if st.Healthy || st.Degraded == 0 {
		t.Fatalf("status with volume %d's copy on %s lost: %+v", vid, victim, st)
	}
	nodetest.WaitFor(t, repairTimeout, "the lost copy to be replaced", func() bool {
		v, err := leader.Server.Meta().Volume(vid)
		return err == nil && !slices.Contains(v.Servers, victim)
	})
	waitHealthy(t, leader.Server, "redundancy after the lost copy was replaced")
	sameBytes(t, "the object after the repair", get(t, c.Member(victim).Server, "lost", "k", blobd.FullRange), data)
}

// TestRepairStatusNewLeader: a new metadata leader has heard no heartbeat
// yet; the copies on the old leader (stopped) are unknown, not healthy.
// The status used to be healthy from the moment a new leader took over
// until the old one was marked DOWN.
func TestRepairStatusNewLeader(t *testing.T) {
	rng := rand.New(rand.NewPCG(nodetest.Seed(t), 22))
	c := blobdtest.New(t, 5, func(cfg *blobd.Config) {
		cfg.ServerTimeout = 3 * time.Second
		cfg.GCGrace = 5 * time.Second
	})
	old := c.Leader()
	mustBucket(t, old.Server, "cool", blobdraftv1.Tier_TIER_COOL)
	waitWritable(t, old.Server, "cool")
	data := randBytes(rng, chunk/2)
	put(t, old.Server, "cool", "k", data) // a shard on every server
	waitHealthy(t, old.Server, "a healthy cluster")
	old = c.Leader() // the leader now, whose successor cannot have heard it since
	if vols, err := old.Server.Meta().VolumesOn(old.ID); err != nil || len(vols) == 0 {
		t.Fatalf("volumes on the leader %s: %v (%v)", old.ID, vols, err)
	}

	c.Stop(old.ID)
	c.WaitLeader(old.ID)
	leader := c.Leader(old.ID)
	var st *blobd.RepairStatus
	nodetest.WaitFor(t, 10*time.Second, "a status from the new leader", func() bool {
		var err error
		st, err = leader.Server.Repair(t.Context())
		return err == nil
	})
	if st.Healthy {
		t.Fatalf("status right after %s (holding volumes) stopped: %+v", old.ID, st)
	}
	waitHealthy(t, leader.Server, "redundancy without "+old.ID)
	sameBytes(t, "the object after the repair", get(t, leader.Server, "cool", "k", blobd.FullRange), data)
}

// TestCorruptNeedlesSurviveRestart: corrupt needles a node knew of before
// a restart are reported again at once after it (the scrubber's next pass
// may be a day away), and repaired; a read that finds one records it.
func TestCorruptNeedlesSurviveRestart(t *testing.T) {
	rng := rand.New(rand.NewPCG(nodetest.Seed(t), 23))
	c := blobdtest.New(t, 3, func(cfg *blobd.Config) {
		cfg.ScrubInterval = 0 // never: only the record tells
		cfg.GCGrace = 5 * time.Second
	})
	leader := c.Leader()
	mustBucket(t, leader.Server, "rot", blobdraftv1.Tier_TIER_HOT)
	waitWritable(t, leader.Server, "rot")
	data := randBytes(rng, chunk/2)
	put(t, leader.Server, "rot", "k", data)
	ref := object(t, leader.Server, "rot", "k").Chunks[0].GetReplicated()
	victim := holderOtherThan(t, leader.Server, ref.GetVid(), leader.ID)
	waitHealthy(t, leader.Server, "a healthy cluster")

	c.Stop(victim)
	m := c.Member(victim)
	corruptOnDisk(t, m, ref.GetVid(), data[:64])
	record := filepath.Join(m.Config.DataDir, "corrupt-needles")
	if err := os.WriteFile(record, fmt.Appendf(nil, "%d %d\n", ref.GetVid(), ref.GetNid()), 0o644); err != nil {
		t.Fatal(err)
	}
	back := c.Restart(victim)
	nodetest.WaitFor(t, 10*time.Second, victim+" to report the recorded corrupt needle again", func() bool {
		return slices.Contains(back.Server.DataCorruptNeedles(ref.GetVid()), ref.GetNid())
	})
	nodetest.WaitFor(t, repairTimeout, "the corrupt copy to be received again", func() bool {
		return len(back.Server.DataCorruptNeedles(ref.GetVid())) == 0
	})
	waitHealthy(t, leader.Server, "redundancy after the repair")
	sameBytes(t, "the object after the repair", get(t, back.Server, "rot", "k", blobd.FullRange), data)
}
