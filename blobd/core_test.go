package blobd_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"cairn.dev/cairn/blobd"
	"cairn.dev/cairn/blobd/blobdtest"
	"cairn.dev/cairn/blobd/ec"
	"cairn.dev/cairn/blobd/volume"
	"cairn.dev/cairn/node/nodetest"
	"cairn.dev/cairn/node/rpcerr"
	blobdpeerv1 "cairn.dev/cairn/proto/cairn/blobd/peer/v1"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

// testCtx is a context that ends a minute from now, or when the test ends.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// wantErr checks that err is a gRPC status with code and reason, and with
// every metadata entry of md.
func wantErr(t *testing.T, err error, code codes.Code, reason rpcerr.Reason, md map[string]string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want %v %s, got success", code, reason)
	}
	info, _ := rpcerr.FromError(err)
	if info.Code != code || info.Reason != reason {
		t.Fatalf("want %v %s, got %v %s: %v", code, reason, info.Code, info.Reason, err)
	}
	for k, v := range md {
		if got, ok := info.Metadata[k]; !ok || got != v {
			t.Fatalf("want metadata %s=%q, got %v: %v", k, v, info.Metadata, err)
		}
	}
}

// dataCluster is a 5-node cluster with 16 MiB volumes (so a test can fill
// one), waited on until every server is UP and volumes are placed.
func dataCluster(t *testing.T) *blobdtest.Cluster {
	t.Helper()
	c := blobdtest.New(t, 5, func(cfg *blobd.Config) { cfg.MaxVolumeBytes = 16 << 20 })
	waitPlaced(t, c)
	return c
}

// usableVolumes returns the writable replicated volumes on UP servers, as
// srv's metadata has them, and the UP servers.
func usableVolumes(t *testing.T, srv *blobd.Server) (repl []*blobdraftv1.VolumeRecord, single map[string]uint32, up map[string]bool) {
	t.Helper()
	servers, err := srv.Meta().Servers()
	if err != nil {
		t.Fatal(err)
	}
	up = map[string]bool{}
	for _, r := range servers {
		if r.GetState() == blobdraftv1.ServerState_SERVER_STATE_UP {
			up[r.GetId()] = true
		}
	}
	vols, err := srv.Meta().Volumes()
	if err != nil {
		t.Fatal(err)
	}
	single = map[string]uint32{}
	for _, v := range vols {
		if v.GetState() != blobdraftv1.VolumeState_VOLUME_STATE_WRITABLE {
			continue
		}
		allUp := true
		for _, id := range v.GetServers() {
			allUp = allUp && up[id]
		}
		if !allUp {
			continue
		}
		if v.GetKind() == blobdraftv1.VolumeKind_VOLUME_KIND_REPLICATED {
			repl = append(repl, v)
		} else {
			single[v.GetServers()[0]] = v.GetId()
		}
	}
	return repl, single, up
}

// waitPlaced waits until every member is an UP server, the leader keeps
// WritableVolumes writable replicated volumes covering every server and a
// single volume on each, and every member's metadata shows it.
func waitPlaced(t *testing.T, c *blobdtest.Cluster) {
	t.Helper()
	n := len(c.Live())
	nodetest.WaitFor(t, 15*time.Second, "volumes placed on every server", func() bool {
		for _, m := range c.Live() {
			repl, single, up := usableVolumes(t, m.Server)
			covered := map[string]bool{}
			for _, v := range repl {
				for _, id := range v.GetServers() {
					covered[id] = true
				}
			}
			if len(up) != n || len(repl) < m.Config.WritableVolumes || len(covered) != n || len(single) != n {
				return false
			}
		}
		return true
	})
}

// randomBytes returns n bytes from rng.
func randomBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n+8)
	for i := 0; i < n; i += 8 {
		binary.LittleEndian.PutUint64(b[i:], rng.Uint64())
	}
	return b[:n]
}

func TestDataPath(t *testing.T) {
	rng := rand.New(rand.NewPCG(nodetest.Seed(t), 0))
	// The zstd encoder's first use is slow under the race detector (most
	// of a second alone, seconds in a busy process): pay it before the
	// cluster runs, so it cannot stall the members' Raft.
	if _, err := ec.Compress([]byte("warm up")); err != nil {
		t.Fatal(err)
	}
	c := dataCluster(t)
	ctx := testCtx(t)
	leader := c.Leader()

	t.Run("placement", func(t *testing.T) {
		repl, single, up := usableVolumes(t, leader.Server)
		for _, v := range repl {
			if len(v.GetServers()) != 3 || len(slices.Compact(slices.Sorted(slices.Values(v.GetServers())))) != 3 {
				t.Fatalf("volume %d is on %v, want 3 distinct servers", v.GetId(), v.GetServers())
			}
		}
		for id := range up {
			if _, ok := single[id]; !ok {
				t.Fatalf("server %s has no writable single volume: %v", id, single)
			}
		}
		// Each server holds the files of the volumes placed on it.
		nodetest.WaitFor(t, 5*time.Second, "volume files on their servers", func() bool {
			for _, m := range c.Live() {
				vols, _ := m.Server.Meta().VolumesOn(m.ID)
				for _, v := range vols {
					if _, err := m.Server.Volumes().Info(v.GetId()); err != nil {
						return false
					}
				}
			}
			return true
		})
	})

	t.Run("round trip", func(t *testing.T) {
		members := c.Live()
		for _, tier := range []blobdraftv1.Tier{blobdraftv1.Tier_TIER_HOT, blobdraftv1.Tier_TIER_COOL, blobdraftv1.Tier_TIER_ARCHIVE} {
			for _, size := range []int{1, 4 << 10, 300 << 10, 1 << 20} {
				data := randomBytes(rng, size)
				if tier == blobdraftv1.Tier_TIER_ARCHIVE && size > 1 {
					data = bytes.Repeat(data[:size/8+1], 8)[:size] // compressible
				}
				w := members[rng.IntN(len(members))].Server
				ch, err := w.DataWriteChunk(ctx, tier, data)
				if err != nil {
					t.Fatalf("%v %d bytes: write: %v", tier, size, err)
				}
				if ch.GetSize() != int64(size) {
					t.Fatalf("%v: chunk size %d, want %d", tier, ch.GetSize(), size)
				}
				switch {
				case tier == blobdraftv1.Tier_TIER_HOT && ch.GetReplicated() == nil,
					tier != blobdraftv1.Tier_TIER_HOT && ch.GetEc() == nil,
					tier == blobdraftv1.Tier_TIER_ARCHIVE && !ch.GetEc().GetCompressed():
					t.Fatalf("%v: layout %v", tier, ch.GetLayout())
				}
				if ec := ch.GetEc(); ec != nil && (ec.GetData() != 3 || ec.GetParity() != 2) {
					t.Fatalf("%v: scheme %d+%d on 5 servers, want 3+2", tier, ec.GetData(), ec.GetParity())
				}
				for _, m := range []*blobdtest.Member{members[rng.IntN(len(members))], members[rng.IntN(len(members))]} {
					got, err := m.Server.DataReadChunk(ctx, ch)
					if err != nil || !bytes.Equal(got, data) {
						t.Fatalf("%v %d bytes: read from %s: %v (equal %v)", tier, size, m.ID, err, bytes.Equal(got, data))
					}
				}
				r := members[rng.IntN(len(members))].Server
				off := int64(rng.IntN(size))
				n := int64(rng.IntN(size - int(off) + 1))
				got, err := r.DataReadChunkRange(ctx, ch, off, n)
				if err != nil || !bytes.Equal(got, data[off:off+n]) {
					t.Fatalf("%v %d bytes: range [%d,+%d): %v", tier, size, off, n, err)
				}
				if _, err := r.DataReadChunkRange(ctx, ch, int64(size), 1); !errors.Is(err, blobd.ErrInvalidRange) {
					t.Fatalf("range past the end: %v, want ErrInvalidRange", err)
				}
			}
		}
		if _, err := members[0].Server.DataWriteChunk(ctx, blobdraftv1.Tier_TIER_HOT, nil); !errors.Is(err, blobd.ErrInvalidArgument) {
			t.Fatalf("empty chunk: %v, want ErrInvalidArgument", err)
		}
		if _, err := members[0].Server.DataWriteChunk(ctx, blobdraftv1.Tier_TIER_HOT, make([]byte, members[0].Config.ChunkBytes+1)); !errors.Is(err, blobd.ErrInvalidArgument) {
			t.Fatalf("oversized chunk: %v, want ErrInvalidArgument", err)
		}
	})

	t.Run("needle ids from fresh blocks", func(t *testing.T) {
		// A node never writes an id allocated more than GCGrace/2 ago.
		s := c.Live()[1].Server
		if _, err := s.DataWriteChunk(ctx, blobdraftv1.Tier_TIER_HOT, []byte("a")); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		half := c.Live()[1].Config.GCGrace / 2
		nodetest.WaitFor(t, 2*half, "half the gc grace to pass", func() bool { return time.Since(start) > half })
		ch, err := s.DataWriteChunk(ctx, blobdraftv1.Tier_TIER_HOT, []byte("b"))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Node().LinearizableRead(ctx); err != nil {
			t.Fatal(err)
		}
		at, ok, err := s.Meta().NeedleAllocatedAt(ch.GetReplicated().GetNid())
		if err != nil || !ok || at.Before(start) {
			t.Fatalf("needle %d allocated at %v (%v %v), before %v", ch.GetReplicated().GetNid(), at, ok, err, start)
		}
	})

	t.Run("write needle bad input", func(t *testing.T) {
		m := c.Live()[0]
		_, single, _ := usableVolumes(t, m.Server)
		vid := single[m.ID]
		client := blobdpeerv1.NewVolumeServiceClient(m.Conn)
		write := func(msgs ...*blobdpeerv1.WriteNeedleRequest) error {
			stream, err := client.WriteNeedle(ctx)
			if err != nil {
				return err
			}
			for _, msg := range msgs {
				if err := stream.Send(msg); err != nil {
					break
				}
			}
			_, err = stream.CloseAndRecv()
			return err
		}
		hdr := func(nid uint64, size int64, crc uint32) *blobdpeerv1.NeedleHeader {
			return &blobdpeerv1.NeedleHeader{Vid: vid, Nid: nid, Cookie: 7, Size: size, Sync: true, Crc32C: crc}
		}
		field := func(f string) map[string]string { return map[string]string{rpcerr.KeyField: f} }
		wantErr(t, write(&blobdpeerv1.WriteNeedleRequest{Data: []byte("x")}), codes.InvalidArgument, rpcerr.InvalidArgument, field("header"))
		wantErr(t, write(), codes.InvalidArgument, rpcerr.InvalidArgument, field("header"))
		wantErr(t, write(&blobdpeerv1.WriteNeedleRequest{Header: hdr(1<<50, 10, 0), Data: []byte("short")}), codes.InvalidArgument, rpcerr.InvalidArgument, field("header.size"))
		wantErr(t, write(&blobdpeerv1.WriteNeedleRequest{Header: hdr(1<<50, 3, 0), Data: []byte("ab")}, &blobdpeerv1.WriteNeedleRequest{Data: []byte("cd")}), codes.InvalidArgument, rpcerr.InvalidArgument, field("header.size"))
		wantErr(t, write(&blobdpeerv1.WriteNeedleRequest{Header: hdr(1<<50, 5, 12345), Data: []byte("hello")}), codes.InvalidArgument, rpcerr.InvalidArgument, field("header.crc32c"))
		wantErr(t, write(&blobdpeerv1.WriteNeedleRequest{Header: hdr(1<<50, 1<<30, 0)}), codes.InvalidArgument, rpcerr.InvalidArgument, field("header.size"))
		wantErr(t, write(&blobdpeerv1.WriteNeedleRequest{Header: &blobdpeerv1.NeedleHeader{Nid: 1, Size: 1}, Data: []byte("x")}), codes.InvalidArgument, rpcerr.InvalidArgument, field("header.vid"))
		// Nothing of the refused writes is readable.
		rs, err := client.ReadNeedle(ctx, &blobdpeerv1.ReadNeedleRequest{Vid: vid, Nid: 1 << 50, Cookie: 7})
		if err == nil {
			_, err = rs.Recv()
		}
		wantErr(t, err, codes.NotFound, rpcerr.NeedleNotFound, nil)
		// A volume the metadata does not place here is not created.
		err = write(&blobdpeerv1.WriteNeedleRequest{Header: &blobdpeerv1.NeedleHeader{Vid: 1 << 30, Nid: 1, Size: 1}, Data: []byte("x")})
		wantErr(t, err, codes.NotFound, rpcerr.VolumeNotFound, nil)
		// A good write, then a read of it.
		if err := write(&blobdpeerv1.WriteNeedleRequest{Header: hdr(1<<50+1, 5, 0), Data: []byte("hello")}); err != nil {
			t.Fatal(err)
		}
		rs, err = client.ReadNeedle(ctx, &blobdpeerv1.ReadNeedleRequest{Vid: vid, Nid: 1<<50 + 1, Cookie: 7, Offset: 1, Length: 3})
		if err != nil {
			t.Fatal(err)
		}
		msg, err := rs.Recv()
		if err != nil || msg.GetSize() != 5 || string(msg.GetData()) != "ell" {
			t.Fatalf("read: %v %v", msg, err)
		}
	})

	t.Run("heartbeat on a follower", func(t *testing.T) {
		f := c.Follower()
		_, err := blobdpeerv1.NewMetaPeerServiceClient(f.Conn).Heartbeat(ctx, &blobdpeerv1.HeartbeatRequest{ServerId: "x", Addr: "127.0.0.1:1"})
		wantErr(t, err, codes.Unavailable, rpcerr.NotLeader, map[string]string{rpcerr.KeyLeader: leader.ID})
	})

	t.Run("corrupt local copy", func(t *testing.T) {
		data := randomBytes(rng, 64<<10)
		ch, err := leader.Server.DataWriteChunk(ctx, blobdraftv1.Tier_TIER_HOT, data)
		if err != nil {
			t.Fatal(err)
		}
		ref := ch.GetReplicated()
		v, err := leader.Server.Meta().Volume(ref.GetVid())
		if err != nil {
			t.Fatal(err)
		}
		r := c.Member(v.GetServers()[rng.IntN(len(v.GetServers()))])
		flipInFile(t, filepath.Join(r.Config.DataDir, blobd.VolumesDir, fmt.Sprintf("%d.dat", ref.GetVid())), data)
		got, err := r.Server.DataReadChunk(ctx, ch)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("read past a corrupt local copy: %v", err)
		}
		if bad := r.Server.DataCorruptNeedles(ref.GetVid()); !slices.Contains(bad, ref.GetNid()) {
			t.Fatalf("corrupt needles of volume %d on %s: %v, want %d", ref.GetVid(), r.ID, bad, ref.GetNid())
		}
		nodetest.WaitFor(t, 5*time.Second, "the leader to hear of the corrupt needle", func() bool {
			infos, _, ok := c.Leader().Server.DataServerVolumes(r.ID)
			for _, info := range infos {
				if info.GetVid() == ref.GetVid() && info.GetCorruptNeedles() > 0 {
					return ok
				}
			}
			return false
		})
	})

	t.Run("erasure coding with shards missing", func(t *testing.T) {
		for _, tier := range []blobdraftv1.Tier{blobdraftv1.Tier_TIER_COOL, blobdraftv1.Tier_TIER_ARCHIVE} {
			data := randomBytes(rng, 200<<10+rng.IntN(1000))
			ch, err := c.Live()[0].Server.DataWriteChunk(ctx, tier, data)
			if err != nil {
				t.Fatal(err)
			}
			l := ch.GetEc()
			// Lose a data shard and a parity shard: still readable.
			lose := []int{rng.IntN(int(l.GetData())), int(l.GetData()) + rng.IntN(int(l.GetParity()))}
			for _, i := range lose {
				deleteShard(t, c, l.GetShards()[i])
			}
			for _, m := range c.Live() {
				got, err := m.Server.DataReadChunk(ctx, ch)
				if err != nil || !bytes.Equal(got, data) {
					t.Fatalf("%v: read with shards %v lost from %s: %v", tier, lose, m.ID, err)
				}
			}
			// One more lost: unavailable, never wrong bytes.
			for i := range l.GetShards() {
				if !slices.Contains(lose, i) {
					deleteShard(t, c, l.GetShards()[i])
					break
				}
			}
			if _, err := c.Live()[1].Server.DataReadChunk(ctx, ch); !errors.Is(err, blobd.ErrDataUnavailable) {
				t.Fatalf("%v: read with too few shards: %v, want ErrDataUnavailable", tier, err)
			}
		}
	})

	t.Run("rebuild a shard elsewhere", func(t *testing.T) {
		ids := make([]string, 0, 5)
		for _, m := range c.Live() {
			ids = append(ids, m.ID)
		}
		shard := randomBytes(rng, 50<<10)
		ref, err := c.Live()[0].Server.DataWriteShard(ctx, ids[1:], shard)
		if err != nil {
			t.Fatal(err)
		}
		v, err := c.Live()[0].Server.Meta().Volume(ref.GetVid())
		if err != nil || v.GetKind() != blobdraftv1.VolumeKind_VOLUME_KIND_SINGLE || v.GetServers()[0] != ids[0] {
			t.Fatalf("shard in volume %v (%v), want a single volume on %s", v, err, ids[0])
		}
		got, err := c.Member(ids[0]).Server.Volumes().Read(ref.GetVid(), ref.GetNid(), ref.GetCookie(), 0, -1)
		if err != nil || !bytes.Equal(got, shard) {
			t.Fatalf("read the shard back: %v", err)
		}
	})

	t.Run("delete needles", func(t *testing.T) {
		hot, err := c.Live()[2].Server.DataWriteChunk(ctx, blobdraftv1.Tier_TIER_HOT, []byte("doomed"))
		if err != nil {
			t.Fatal(err)
		}
		cool, err := c.Live()[2].Server.DataWriteChunk(ctx, blobdraftv1.Tier_TIER_COOL, []byte("doomed too"))
		if err != nil {
			t.Fatal(err)
		}
		c.Live()[3].Server.DataDeleteNeedles(ctx, append([]*blobdraftv1.NeedleRef{hot.GetReplicated()}, cool.GetEc().GetShards()...))
		for _, ch := range []*blobdraftv1.Chunk{hot, cool} {
			if _, err := c.Live()[0].Server.DataReadChunk(ctx, ch); !errors.Is(err, blobd.ErrDataUnavailable) {
				t.Fatalf("read of deleted needles: %v, want ErrDataUnavailable", err)
			}
		}
	})

	t.Run("copy a volume", func(t *testing.T) {
		data := randomBytes(rng, 10<<10)
		ch, err := leader.Server.DataWriteChunk(ctx, blobdraftv1.Tier_TIER_HOT, data)
		if err != nil {
			t.Fatal(err)
		}
		ref := ch.GetReplicated()
		v, _ := leader.Server.Meta().Volume(ref.GetVid())
		var dst *blobdtest.Member
		for _, m := range c.Live() {
			if !slices.Contains(v.GetServers(), m.ID) {
				dst = m
			}
		}
		// The source must be a healthy copy: the receiver refuses a copy
		// holding a corrupt needle (an earlier subtest corrupted one).
		var src *blobdtest.Member
		for _, id := range v.GetServers() {
			if m := c.Member(id); len(m.Server.DataCorruptNeedles(ref.GetVid())) == 0 {
				src = m
			}
		}
		vc := blobdpeerv1.NewVolumeServiceClient(dst.Conn)
		resp, err := vc.ReceiveVolume(ctx, &blobdpeerv1.ReceiveVolumeRequest{Vid: ref.GetVid(), Source: src.Server.Addr()})
		if err != nil || resp.GetBytes() == 0 {
			t.Fatalf("receive volume %d from %s on %s: %v %v", ref.GetVid(), src.ID, dst.ID, resp, err)
		}
		got, err := dst.Server.Volumes().Read(ref.GetVid(), ref.GetNid(), ref.GetCookie(), 0, -1)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("needle in the received copy: %v", err)
		}
		_, err = vc.ReceiveVolume(ctx, &blobdpeerv1.ReceiveVolumeRequest{Vid: ref.GetVid()})
		wantErr(t, err, codes.InvalidArgument, rpcerr.InvalidArgument, map[string]string{rpcerr.KeyField: "source"})
		if _, err := vc.DropVolume(ctx, &blobdpeerv1.DropVolumeRequest{Vid: ref.GetVid()}); err != nil {
			t.Fatal(err)
		}
		if _, err := dst.Server.Volumes().Info(ref.GetVid()); err == nil {
			t.Fatal("volume still there after DropVolume")
		}
	})

	t.Run("full volume", func(t *testing.T) {
		repl, _, _ := usableVolumes(t, leader.Server)
		v := repl[0]
		full := leader.Server.DataFullBytes()
		chunk := make([]byte, 1<<20)
		for _, id := range v.GetServers() {
			vols := c.Member(id).Server.Volumes()
			for nid := uint64(1 << 40); ; nid++ {
				if info, _ := vols.Info(v.GetId()); info.Size >= full {
					break
				}
				_, err := vols.Write(v.GetId(), nid, 1, bytes.NewReader(chunk), int64(len(chunk)))
				if errors.Is(err, volume.ErrReadOnly) {
					// The leader already saw another server's copy full
					// and had the volume sealed everywhere.
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
		}
		nodetest.WaitFor(t, 5*time.Second, "the filled volume marked full and replaced", func() bool {
			got, err := leader.Server.Meta().Volume(v.GetId())
			if err != nil || got.GetState() != blobdraftv1.VolumeState_VOLUME_STATE_FULL {
				return false
			}
			repl, _, _ := usableVolumes(t, leader.Server)
			return len(repl) >= leader.Config.WritableVolumes
		})
	})

	t.Run("a replica server down", func(t *testing.T) {
		data := randomBytes(rng, 100<<10)
		ch, err := leader.Server.DataWriteChunk(ctx, blobdraftv1.Tier_TIER_HOT, data)
		if err != nil {
			t.Fatal(err)
		}
		v, _ := leader.Server.Meta().Volume(ch.GetReplicated().GetVid())
		var victim string
		for _, id := range v.GetServers() {
			if id != leader.ID {
				victim = id
			}
		}
		var readers []*blobdtest.Member
		for _, m := range c.Live() {
			if !slices.Contains(v.GetServers(), m.ID) {
				readers = append(readers, m)
			}
		}
		c.Stop(victim)
		for i := range 6 {
			got, err := readers[i%len(readers)].Server.DataReadChunk(ctx, ch)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("read with %s stopped: %v", victim, err)
			}
		}
		// Writes go on before and after the leader notices.
		start := time.Now()
		for range 3 {
			if _, err := readers[0].Server.DataWriteChunk(ctx, blobdraftv1.Tier_TIER_HOT, data); err != nil {
				t.Fatalf("hot write with %s stopped: %v", victim, err)
			}
			if _, err := readers[0].Server.DataWriteChunk(ctx, blobdraftv1.Tier_TIER_COOL, data); err != nil {
				t.Fatalf("cool write with %s stopped: %v", victim, err)
			}
		}
		state := func(id string) blobdraftv1.ServerState {
			r, err := c.Leader().Server.Meta().Server(id)
			if err != nil {
				return blobdraftv1.ServerState_SERVER_STATE_UNSPECIFIED
			}
			return r.GetState()
		}
		bound := leader.Config.ServerTimeout + 3*leader.Config.HeartbeatInterval + time.Second
		nodetest.WaitFor(t, bound, "the stopped server marked down", func() bool {
			return state(victim) == blobdraftv1.ServerState_SERVER_STATE_DOWN
		})
		t.Logf("%s down %v after it stopped", victim, time.Since(start).Round(time.Millisecond))
		if _, err := readers[0].Server.DataWriteChunk(ctx, blobdraftv1.Tier_TIER_HOT, data); err != nil {
			t.Fatalf("hot write with %s down: %v", victim, err)
		}
		c.Restart(victim)
		nodetest.WaitFor(t, 5*time.Second, "the restarted server up again", func() bool {
			return state(victim) == blobdraftv1.ServerState_SERVER_STATE_UP
		})
		got, err := c.Member(victim).Server.DataReadChunk(ctx, ch)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("read on the restarted server: %v", err)
		}
	})
}

func TestSingleNode(t *testing.T) {
	// One server with one replica: hot chunks work, and cool and archive
	// chunks, which cannot be erasure-coded on fewer than three servers,
	// are stored replicated.
	c := blobdtest.New(t, 1, func(cfg *blobd.Config) { cfg.Replicas = 1 })
	waitPlaced(t, c)
	ctx := testCtx(t)
	s := c.Live()[0].Server
	for _, tier := range []blobdraftv1.Tier{blobdraftv1.Tier_TIER_HOT, blobdraftv1.Tier_TIER_COOL, blobdraftv1.Tier_TIER_ARCHIVE} {
		data := []byte(fmt.Sprintf("one node, %v", tier))
		ch, err := s.DataWriteChunk(ctx, tier, data)
		if err != nil {
			t.Fatalf("%v: %v", tier, err)
		}
		if ch.GetReplicated() == nil {
			t.Fatalf("%v: layout %v, want replicated", tier, ch.GetLayout())
		}
		if got, err := s.DataReadChunk(ctx, ch); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%v: read %q %v", tier, got, err)
		}
	}
}

func TestLeaderFailover(t *testing.T) {
	c := blobdtest.New(t, 5, nil)
	waitPlaced(t, c)
	ctx := testCtx(t)
	old := c.WaitLeader()
	c.Stop(old)
	start := time.Now()
	leader := c.Leader(old)
	// The new leader counts silence from its election: the old leader is
	// marked down, and nobody else.
	bound := leader.Config.ServerTimeout + 3*leader.Config.HeartbeatInterval + 5*time.Second
	nodetest.WaitFor(t, bound, "the old leader marked down", func() bool {
		r, err := leader.Server.Meta().Server(old)
		return err == nil && r.GetState() == blobdraftv1.ServerState_SERVER_STATE_DOWN
	})
	t.Logf("%s down %v after it stopped", old, time.Since(start).Round(time.Millisecond))
	servers, err := leader.Server.Meta().Servers()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range servers {
		if r.GetId() != old && r.GetState() != blobdraftv1.ServerState_SERVER_STATE_UP {
			t.Fatalf("server %s is %v after the failover", r.GetId(), r.GetState())
		}
	}
	// The new leader places volumes without the old one, and writes go on.
	for _, tier := range []blobdraftv1.Tier{blobdraftv1.Tier_TIER_HOT, blobdraftv1.Tier_TIER_COOL} {
		ch, err := leader.Server.DataWriteChunk(ctx, tier, []byte("after the failover"))
		if err != nil {
			t.Fatalf("%v write after the failover: %v", tier, err)
		}
		if got, err := c.Live()[0].Server.DataReadChunk(ctx, ch); err != nil || string(got) != "after the failover" {
			t.Fatalf("%v read after the failover: %q %v", tier, got, err)
		}
	}
	c.Restart(old)
	nodetest.WaitFor(t, 5*time.Second, "the old leader up again", func() bool {
		r, err := c.Leader().Server.Meta().Server(old)
		return err == nil && r.GetState() == blobdraftv1.ServerState_SERVER_STATE_UP
	})
}

// flipInFile flips a byte in the middle of the first copy of data in the
// file at path.
func flipInFile(t *testing.T, path string, data []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	at := bytes.Index(b, data)
	if at < 0 {
		t.Fatalf("data not found in %s", path)
	}
	at += len(data) / 2
	if _, err := f.WriteAt([]byte{b[at] ^ 0xff}, int64(at)); err != nil {
		t.Fatal(err)
	}
}

// deleteShard deletes a shard's needle on the server of its volume.
func deleteShard(t *testing.T, c *blobdtest.Cluster, ref *blobdraftv1.NeedleRef) {
	t.Helper()
	v, err := c.Live()[0].Server.Meta().Volume(ref.GetVid())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Member(v.GetServers()[0]).Server.Volumes().Delete(ref.GetVid(), ref.GetNid()); err != nil {
		t.Fatal(err)
	}
}
