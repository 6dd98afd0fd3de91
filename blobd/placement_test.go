package blobd_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"cairn.dev/cairn/blobd"
	"cairn.dev/cairn/blobd/blobdtest"
	"cairn.dev/cairn/node/nodetest"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

// TestWritesGoOn checks bug 12 of docs/chaos.md on three servers and three
// replicas, where every volume has a copy on every server: a fresh cluster
// takes its first write; a write whose replica server is stopped waits
// (within its deadline, past ServerTimeout) and goes through as soon as the
// server is back; and once a server's copy of a volume is lost, writes go
// to another volume at once and placement stops offering that volume.
func TestWritesGoOn(t *testing.T) {
	rng := rand.New(rand.NewPCG(nodetest.Seed(t), 0))
	c := blobdtest.New(t, 3, nil)
	ctx := testCtx(t)
	c.WaitLeader()
	first := c.Follower()
	data := randomBytes(rng, 64<<10)
	if _, err := first.Server.DataWriteChunk(ctx, blobdraftv1.Tier_TIER_HOT, data); err != nil {
		t.Fatalf("first write on a fresh cluster: %v", err)
	}
	waitPlaced(t, c)

	t.Run("a replica server restarts", func(t *testing.T) {
		leader := c.Leader()
		victim := c.Follower().ID
		cfg := leader.Config
		c.Stop(victim)
		start := time.Now()
		type result struct {
			ch  *blobdraftv1.Chunk
			err error
		}
		done := make(chan result, 1)
		go func() {
			ch, err := leader.Server.DataWriteChunk(ctx, blobdraftv1.Tier_TIER_HOT, data)
			done <- result{ch, err}
		}()
		// Writes used to give up ServerTimeout, four heartbeats and 2s
		// after they began, whatever their deadline.
		old := cfg.ServerTimeout + 4*cfg.HeartbeatInterval + 2*time.Second
		var early *result
		nodetest.WaitFor(t, old+10*time.Second, "the stopped server marked down and the old bound passed", func() bool {
			select {
			case r := <-done:
				early = &r
				return true
			default:
			}
			r, err := leader.Server.Meta().Server(victim)
			return err == nil && r.GetState() == blobdraftv1.ServerState_SERVER_STATE_DOWN && time.Since(start) > old
		})
		if early != nil {
			t.Fatalf("the write ended while %s was stopped: %v", victim, early.err)
		}
		c.Restart(victim)
		back := time.Now()
		var r result
		nodetest.WaitFor(t, 10*time.Second, "the write to finish", func() bool {
			select {
			case r = <-done:
				return true
			default:
				return false
			}
		})
		if r.err != nil {
			t.Fatalf("the write after %s came back: %v", victim, r.err)
		}
		t.Logf("the write went through %v after %s was restarted", time.Since(back).Round(time.Millisecond), victim)
		if got, err := c.Member(victim).Server.DataReadChunk(ctx, r.ch); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("read on %s: %v", victim, err)
		}
	})

	t.Run("a copy is lost", func(t *testing.T) {
		waitPlaced(t, c)
		leader := c.Leader()
		if _, err := leader.Server.CreateBucket(ctx, "lost", "tester", blobdraftv1.Tier_TIER_HOT); err != nil {
			t.Fatal(err)
		}
		o, err := leader.Server.PutObject(ctx, blobd.PutInput{Bucket: "lost", Key: "k", Body: bytes.NewReader(data), Size: int64(len(data))})
		if err != nil {
			t.Fatal(err)
		}
		vid := o.GetChunks()[0].GetReplicated().GetVid()
		lostOn := c.Follower()
		if err := lostOn.Server.Volumes().Drop(vid); err != nil {
			t.Fatal(err)
		}
		// Every write goes through, without waiting for repair, and none
		// on the lost copy's volume unless repair has replaced the copy.
		restored := func() bool {
			_, err := lostOn.Server.Volumes().Info(vid)
			return err == nil
		}
		for i := range 8 {
			wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			got, err := c.All()[i%3].Server.DataWriteChunk(wctx, blobdraftv1.Tier_TIER_HOT, []byte(fmt.Sprintf("after the loss %d", i)))
			cancel()
			if err != nil {
				t.Fatalf("write %d after volume %d was lost on %s: %v", i, vid, lostOn.ID, err)
			}
			if got.GetReplicated().GetVid() == vid && !restored() {
				t.Fatalf("write %d stored on volume %d, whose copy on %s is lost", i, vid, lostOn.ID)
			}
		}
		// Placement stops offering the volume (FULL) until repair has
		// replaced the copy (and then restores its state).
		nodetest.WaitFor(t, 10*time.Second, "the volume with a lost copy no longer writable, or repaired", func() bool {
			v, err := leader.Server.Meta().Volume(vid)
			return err == nil && (v.GetState() != blobdraftv1.VolumeState_VOLUME_STATE_WRITABLE || restored())
		})
	})
}
