package blobd

// The chunk paths every object operation stands on: writeChunk stores a
// chunk (replicated for hot, erasure-coded for cool, compressed and
// erasure-coded for archive) fsynced on every server it lands on;
// readChunk and readChunkRange read it back from any healthy copy, never
// returning wrong bytes; deleteNeedles frees needles on their servers.
//
// A write costs one parallel round of needle writes and fsyncs (a needle id
// comes from the node's block, the volume from a cached view of the
// metadata), plus, rarely, the Raft entry of a new block of ids. The
// manifest commit is the caller's.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"time"

	"google.golang.org/grpc"

	"cairn.dev/cairn/blobd/ec"
	"cairn.dev/cairn/blobd/meta"
	"cairn.dev/cairn/blobd/volume"
	"cairn.dev/cairn/node/rpcerr"
	blobdpeerv1 "cairn.dev/cairn/proto/cairn/blobd/peer/v1"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

// maxWriteAttempts bounds the volumes (or shard placements) one chunk
// write tries.
const maxWriteAttempts = 8

// layoutMaxAge is how stale the cached view of writable volumes may get
// while the metadata changes (every commit changes it).
const layoutMaxAge = 50 * time.Millisecond

// transferTimeout bounds one needle transfer of n bytes to or from a peer:
// a server that hangs (paused, partitioned) costs a write a retry and a
// read the next copy, not the caller's whole deadline.
func transferTimeout(n int) time.Duration {
	return 5*time.Second + time.Duration(n)*time.Second/(4<<20)
}

// writeChunk stores data as one chunk of tier and returns its manifest
// entry (offset 0: the caller sets Offset), with the data's size and
// CRC32C and its layout. It returns once every needle of the chunk is
// fsynced on its server:
//
//   - TIER_HOT: one needle on every server (Config.Replicas) of a writable
//     REPLICATED volume, written in parallel (this node's copy directly).
//     If a replica fails, the chunk is written again at once on another
//     volume (see writePlan: a volume that refused the write is not tried
//     again, a server that failed is avoided for a heartbeat), up to
//     maxWriteAttempts volumes.
//   - TIER_COOL: ec.ForServers(n) shards over n UP servers that have a
//     writable SINGLE volume, one shard needle per server; a failed shard
//     is written again on a spare server, or the chunk re-planned without
//     the servers that failed. Clusters of fewer than three UP servers
//     cannot erasure-code: the chunk is stored replicated instead.
//   - TIER_ARCHIVE: as cool, of ec.Compress(data) (EcLayout.compressed).
//
// When no volume fits (a new cluster before placement, every writable
// volume on a server that just failed) it waits for the leader to place
// new ones or for the server to come back, until shortly before ctx's
// deadline (without one, for ServerTimeout and a few heartbeats), then
// fails with ErrNotEnoughServers, which names what the servers said
// without wrapping their errors (nothing was stored: the reason must not be
// a peer's). Other errors: ErrInvalidArgument (empty data, more
// than Config.ChunkBytes, an unknown tier), ctx's, Raft's (allocating
// needle ids). Needles written by failed attempts are left to garbage
// collection. data is not retained. Safe for concurrent use.
func (s *Server) writeChunk(ctx context.Context, tier blobdraftv1.Tier, data []byte) (*blobdraftv1.Chunk, error) {
	switch {
	case len(data) == 0:
		return nil, invalidField("data", "an empty chunk")
	case len(data) > s.cfg.ChunkBytes:
		return nil, invalidField("data", "a chunk of %d bytes, the limit (chunk_bytes) is %d", len(data), s.cfg.ChunkBytes)
	}
	sum := crc32c(data)
	switch tier {
	case blobdraftv1.Tier_TIER_HOT:
		return s.writeReplicated(ctx, data, sum)
	case blobdraftv1.Tier_TIER_COOL, blobdraftv1.Tier_TIER_ARCHIVE:
		return s.writeErasureCoded(ctx, tier, data, sum)
	default:
		return nil, invalidField("tier", "tier %v", tier)
	}
}

// layout is a view of the metadata for choosing where to write.
type layout struct {
	servers map[string]*blobdraftv1.ServerRecord
	// up counts the UP servers.
	up int
	// repl are the writable REPLICATED volumes with at least Replicas
	// servers, all UP; single maps each UP server to its writable SINGLE
	// volumes.
	repl   []*blobdraftv1.VolumeRecord
	single map[string][]uint32
}

// layoutCache holds the current layout.
type layoutCache struct {
	mu      sync.Mutex // protects the fields below; held while building
	cur     *layout
	built   time.Time
	changed <-chan struct{} // closed when the metadata changed since built
}

// writeLayout returns the cached layout, rebuilt if the metadata changed
// and the cache is older than layoutMaxAge, or when force is set.
func (s *Server) writeLayout(force bool) (*layout, error) {
	lc := &s.core.lay
	lc.mu.Lock()
	defer lc.mu.Unlock()
	if lc.cur != nil && !force {
		select {
		case <-lc.changed:
			if time.Since(lc.built) < layoutMaxAge {
				return lc.cur, nil
			}
		default:
			return lc.cur, nil
		}
	}
	changed := s.meta.Changed()
	servers, err := s.meta.Servers()
	if err != nil {
		return nil, err
	}
	vols, err := s.meta.Volumes()
	if err != nil {
		return nil, err
	}
	lay := &layout{servers: make(map[string]*blobdraftv1.ServerRecord, len(servers)), single: map[string][]uint32{}}
	isUp := func(id string) bool {
		r := lay.servers[id]
		return r != nil && r.GetState() == blobdraftv1.ServerState_SERVER_STATE_UP
	}
	for _, r := range servers {
		lay.servers[r.GetId()] = r
		if isUp(r.GetId()) {
			lay.up++
		}
	}
	for _, v := range vols {
		if v.GetState() != blobdraftv1.VolumeState_VOLUME_STATE_WRITABLE {
			continue
		}
		switch v.GetKind() {
		case blobdraftv1.VolumeKind_VOLUME_KIND_REPLICATED:
			ok := len(v.GetServers()) >= s.cfg.Replicas
			for _, id := range v.GetServers() {
				ok = ok && isUp(id)
			}
			if ok {
				lay.repl = append(lay.repl, v)
			}
		case blobdraftv1.VolumeKind_VOLUME_KIND_SINGLE:
			if len(v.GetServers()) != 1 {
				continue
			}
			if id := v.GetServers()[0]; isUp(id) {
				lay.single[id] = append(lay.single[id], v.GetId())
			}
		}
	}
	lc.cur, lc.built, lc.changed = lay, time.Now(), changed
	return lay, nil
}

// writePlan is one chunk write's memory across attempts. A failed needle
// write either was refused by its volume (the server answered that its
// copy is lost, read-only, full or damaged: volumeRefused), and that
// volume is not tried again, or failed on its server (unreachable, timed
// out, stopping), and that server is avoided for a heartbeat: the next
// attempt goes at once to a volume without it, and only when none is left
// is the server tried again (a restarted node takes writes at once).
type writePlan struct {
	s        *Server
	deadline time.Time
	// refused holds the volumes that refused a write; failedAt the
	// servers whose write failed, and when; exclude the servers never to
	// write to (writeShard's).
	refused  map[uint32]bool
	failedAt map[string]time.Time
	exclude  map[string]bool
	force    bool
	lastErr  error
}

// newWritePlan starts a plan for a write under ctx. It may wait for
// placement until shortly before ctx's deadline, leaving a tenth of the
// time left (at most a second) to answer ErrNotEnoughServers rather than
// run out of time; without a deadline, for ServerTimeout, four heartbeats
// and two seconds.
func (s *Server) newWritePlan(ctx context.Context) *writePlan {
	deadline := time.Now().Add(s.cfg.ServerTimeout + 4*s.cfg.HeartbeatInterval + 2*time.Second)
	if d, ok := ctx.Deadline(); ok {
		deadline = d.Add(-min(time.Until(d)/10, time.Second))
	}
	return &writePlan{s: s, deadline: deadline, refused: map[uint32]bool{}, failedAt: map[string]time.Time{}, exclude: map[string]bool{}}
}

func (w *writePlan) layout() (*layout, error) {
	lay, err := w.s.writeLayout(w.force)
	w.force = false
	return lay, err
}

// avoided says whether server id is not to be written to now: excluded,
// or failed less than a heartbeat ago.
func (w *writePlan) avoided(id string) bool {
	if w.exclude[id] {
		return true
	}
	at, ok := w.failedAt[id]
	return ok && time.Since(at) < w.s.cfg.HeartbeatInterval
}

// wait waits for the metadata to offer another place to write, and fails
// with ErrNotEnoughServers once the plan's deadline has passed.
func (w *writePlan) wait(ctx context.Context, what string) error {
	if time.Now().After(w.deadline) {
		if w.lastErr != nil {
			return fmt.Errorf("%w: %s: %v", ErrNotEnoughServers, what, w.lastErr)
		}
		return fmt.Errorf("%w: %s", ErrNotEnoughServers, what)
	}
	if !w.s.pause(ctx, nil, min(w.s.cfg.HeartbeatInterval, 100*time.Millisecond)) {
		if err := ctx.Err(); err != nil {
			return err
		}
		return ErrShuttingDown
	}
	w.force = true
	return nil
}

// failed records the needle writes of puts that failed (errs[i] for
// puts[i]), for the next attempts: the volumes that refused them, the
// servers that failed otherwise (which the metadata leader also leaves out
// of placement for a while: noteWriteFailure).
func (w *writePlan) failed(puts []needlePut, errs []error) {
	var all []error
	now := time.Now()
	for i, err := range errs {
		if err == nil {
			continue
		}
		p := puts[i]
		if volumeRefused(err) {
			w.refused[p.ref.GetVid()] = true
		} else {
			w.failedAt[p.server] = now
			w.s.noteWriteFailure(p.server)
		}
		all = append(all, fmt.Errorf("server %s: %w", p.server, err))
	}
	w.lastErr = errors.Join(all...)
	w.force = true
}

// volumeRefused says whether a needle write failed because of its volume
// rather than its server: the volume is not there (a lost copy), is
// read-only, full or damaged, locally or as the server answered.
func volumeRefused(err error) bool {
	for _, e := range []error{volume.ErrVolumeNotFound, volume.ErrReadOnly, volume.ErrVolumeFull, volume.ErrDamaged, volume.ErrCorrupt} {
		if errors.Is(err, e) {
			return true
		}
	}
	switch rpcerr.ReasonOf(err) {
	case rpcerr.VolumeNotFound, rpcerr.PreconditionFailed, rpcerr.LimitExceeded, rpcerr.CorruptData:
		return true
	}
	return false
}

// giveUp is the error after maxWriteAttempts failed attempts.
func (w *writePlan) giveUp(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return fmt.Errorf("%w: %d attempts failed: %v", ErrNotEnoughServers, maxWriteAttempts, w.lastErr)
}

func (s *Server) writeReplicated(ctx context.Context, data []byte, sum uint32) (*blobdraftv1.Chunk, error) {
	w := s.newWritePlan(ctx)
	for attempt := 0; attempt < maxWriteAttempts; {
		lay, err := w.layout()
		if err != nil {
			return nil, err
		}
		v, retry := pickVolume(lay.repl, w)
		if v == nil {
			if err := w.wait(ctx, fmt.Sprintf("no writable volume on %d UP servers (replicas %d)", lay.up, s.cfg.Replicas)); err != nil {
				return nil, err
			}
			continue
		}
		if !retry {
			attempt++ // a retry on a server that failed is bounded by the deadline
		}
		var nid [1]uint64
		if err := s.newNeedleIDs(ctx, nid[:]); err != nil {
			return nil, err
		}
		ref := &blobdraftv1.NeedleRef{Vid: v.GetId(), Nid: nid[0], Cookie: rand.Uint32()}
		puts := make([]needlePut, len(v.GetServers()))
		for i, id := range v.GetServers() {
			puts[i] = needlePut{server: id, ref: ref, data: data, sum: sum}
		}
		errs := s.putNeedles(ctx, lay, puts)
		if firstErr(errs) == nil {
			return &blobdraftv1.Chunk{Size: int64(len(data)), Crc32C: sum, Layout: &blobdraftv1.Chunk_Replicated{Replicated: ref}}, nil
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		w.failed(puts, errs)
		s.logger.Warn("chunk write failed on a volume; trying another", "vid", v.GetId(), "err", w.lastErr)
	}
	return nil, w.giveUp(ctx)
}

// pickVolume returns a random volume of vols that has not refused a write
// and has no avoided server, preferring volumes on servers that never
// failed this write (retry says it is on one that did); nil when there is
// none.
func pickVolume(vols []*blobdraftv1.VolumeRecord, w *writePlan) (v *blobdraftv1.VolumeRecord, retry bool) {
	var clean, again []*blobdraftv1.VolumeRecord
outer:
	for _, v := range vols {
		if w.refused[v.GetId()] {
			continue
		}
		failedBefore := false
		for _, id := range v.GetServers() {
			if w.avoided(id) {
				continue outer
			}
			_, f := w.failedAt[id]
			failedBefore = failedBefore || f
		}
		if failedBefore {
			again = append(again, v)
		} else {
			clean = append(clean, v)
		}
	}
	switch {
	case len(clean) > 0:
		return clean[rand.IntN(len(clean))], false
	case len(again) > 0:
		return again[rand.IntN(len(again))], true
	}
	return nil, false
}

// shardTarget is a server and one of its writable SINGLE volumes.
type shardTarget struct {
	server string
	vid    uint32
}

// shardTargets returns the UP servers the plan does not avoid that have a
// writable SINGLE volume which has not refused a write, in random order
// (servers that never failed this write first), each with one of those
// volumes.
func shardTargets(lay *layout, w *writePlan) []shardTarget {
	var clean, retry []shardTarget
	for id, vids := range lay.single {
		if w.avoided(id) {
			continue
		}
		var ok []uint32
		for _, vid := range vids {
			if !w.refused[vid] {
				ok = append(ok, vid)
			}
		}
		if len(ok) == 0 {
			continue
		}
		t := shardTarget{server: id, vid: ok[rand.IntN(len(ok))]}
		if _, f := w.failedAt[id]; f {
			retry = append(retry, t)
		} else {
			clean = append(clean, t)
		}
	}
	rand.Shuffle(len(clean), func(i, j int) { clean[i], clean[j] = clean[j], clean[i] })
	rand.Shuffle(len(retry), func(i, j int) { retry[i], retry[j] = retry[j], retry[i] })
	return append(clean, retry...)
}

func (s *Server) writeErasureCoded(ctx context.Context, tier blobdraftv1.Tier, data []byte, sum uint32) (*blobdraftv1.Chunk, error) {
	payload := data
	compressed := tier == blobdraftv1.Tier_TIER_ARCHIVE
	if compressed {
		var err error
		if payload, err = ec.Compress(data); err != nil {
			return nil, err
		}
	}
	w := s.newWritePlan(ctx)
	var scheme ec.Scheme
	var shards [][]byte
	var sums []uint32
	for attempt := 0; attempt < maxWriteAttempts; {
		lay, err := w.layout()
		if err != nil {
			return nil, err
		}
		if lay.up < 3 && len(w.failedAt) == 0 && len(w.refused) == 0 {
			// Too few servers to erasure-code: keep the chunk replicated.
			return s.writeReplicated(ctx, data, sum)
		}
		targets := shardTargets(lay, w)
		sc, err := ec.ForServers(len(targets))
		if err != nil {
			if err := w.wait(ctx, fmt.Sprintf("%d of %d UP servers can take shards, erasure coding needs 3", len(targets), lay.up)); err != nil {
				return nil, err
			}
			continue
		}
		attempt++
		if sc != scheme {
			if shards, err = ec.Encode(sc, payload); err != nil {
				return nil, err
			}
			scheme = sc
			sums = make([]uint32, len(shards))
			for i, sh := range shards {
				sums[i] = crc32c(sh)
			}
		}
		nids := make([]uint64, sc.Shards())
		if err := s.newNeedleIDs(ctx, nids); err != nil {
			return nil, err
		}
		puts := make([]needlePut, sc.Shards())
		for i := range puts {
			t := targets[i]
			puts[i] = needlePut{server: t.server, ref: &blobdraftv1.NeedleRef{Vid: t.vid, Nid: nids[i], Cookie: rand.Uint32()}, data: shards[i], sum: sums[i]}
		}
		spares := targets[sc.Shards():]
		if s.putShards(ctx, lay, w, puts, spares) {
			refs := make([]*blobdraftv1.NeedleRef, len(puts))
			for i, p := range puts {
				refs[i] = p.ref
			}
			return &blobdraftv1.Chunk{Size: int64(len(data)), Crc32C: sum, Layout: &blobdraftv1.Chunk_Ec{Ec: &blobdraftv1.EcLayout{
				Data: int32(sc.Data), Parity: int32(sc.Parity), Compressed: compressed, Shards: refs}}}, nil
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s.logger.Warn("erasure-coded chunk write failed; planning it again", "scheme", sc, "err", w.lastErr)
	}
	return nil, w.giveUp(ctx)
}

// writeShard stores data (one erasure-coded shard, at most a chunk and 64
// bytes) as a needle in a writable SINGLE volume of an UP server not in
// exclude, fsynced there, and returns the needle: maintenance rebuilds a
// lost shard with it, excluding the servers of the chunk's other shards so
// that shards stay on distinct servers. A server that fails is avoided
// next; ErrNotEnoughServers when none takes it (waiting for placement as
// writeChunk does). Safe for concurrent use.
func (s *Server) writeShard(ctx context.Context, exclude []string, data []byte) (*blobdraftv1.NeedleRef, error) {
	if int64(len(data)) > s.maxNeedleBytes() {
		return nil, invalidField("data", "a shard of %d bytes, the limit is %d", len(data), s.maxNeedleBytes())
	}
	w := s.newWritePlan(ctx)
	for _, id := range exclude {
		w.exclude[id] = true
	}
	sum := crc32c(data)
	for attempt := 0; attempt < maxWriteAttempts; {
		lay, err := w.layout()
		if err != nil {
			return nil, err
		}
		targets := shardTargets(lay, w)
		if len(targets) == 0 {
			if err := w.wait(ctx, fmt.Sprintf("no UP server outside %v can take a shard", exclude)); err != nil {
				return nil, err
			}
			continue
		}
		attempt++
		var nid [1]uint64
		if err := s.newNeedleIDs(ctx, nid[:]); err != nil {
			return nil, err
		}
		put := needlePut{server: targets[0].server, ref: &blobdraftv1.NeedleRef{Vid: targets[0].vid, Nid: nid[0], Cookie: rand.Uint32()}, data: data, sum: sum}
		errs := s.putNeedles(ctx, lay, []needlePut{put})
		if errs[0] == nil {
			return put.ref, nil
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		w.failed([]needlePut{put}, errs)
	}
	return nil, w.giveUp(ctx)
}

// putShards writes every shard of puts, writing a failed one again on a
// spare server (needle id kept, volume changed) while spares last; it
// reports whether every shard is stored.
func (s *Server) putShards(ctx context.Context, lay *layout, w *writePlan, puts []needlePut, spares []shardTarget) bool {
	todo := puts
	idx := make([]int, len(puts))
	for i := range idx {
		idx[i] = i
	}
	for {
		errs := s.putNeedles(ctx, lay, todo)
		var failedIdx []int
		for i, err := range errs {
			if err != nil {
				failedIdx = append(failedIdx, idx[i])
			}
		}
		if len(failedIdx) == 0 {
			return true
		}
		w.failed(todo, errs)
		if ctx.Err() != nil || len(failedIdx) > len(spares) {
			return false
		}
		todo, idx = todo[:0:0], failedIdx
		for _, i := range failedIdx {
			t := spares[0]
			spares = spares[1:]
			p := &puts[i]
			p.server = t.server
			p.ref = &blobdraftv1.NeedleRef{Vid: t.vid, Nid: p.ref.GetNid(), Cookie: p.ref.GetCookie()}
			todo = append(todo, *p)
		}
	}
}

// needlePut is one needle to store on one server.
type needlePut struct {
	server string
	ref    *blobdraftv1.NeedleRef
	data   []byte
	sum    uint32
}

// putNeedles stores every put in parallel, each fsynced on its server
// (this node's directly, the others' with WriteNeedle), and returns each
// one's error.
func (s *Server) putNeedles(ctx context.Context, lay *layout, puts []needlePut) []error {
	errs := make([]error, len(puts))
	var wg sync.WaitGroup
	local := -1
	for i, p := range puts {
		if p.server == s.cfg.ID {
			local = i
			continue
		}
		rec := lay.servers[p.server]
		if rec == nil {
			errs[i] = fmt.Errorf("%w: %q", meta.ErrServerNotFound, p.server)
			continue
		}
		wg.Go(func() { errs[i] = s.putRemote(ctx, rec.GetAddr(), p.ref, p.data, p.sum) })
	}
	if local >= 0 {
		p := puts[local]
		errs[local] = s.storeNeedle(ctx, p.ref.GetVid(), p.ref.GetNid(), p.ref.GetCookie(), p.data, p.sum, true)
	}
	wg.Wait()
	return errs
}

func firstErr(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// putRemote writes a needle on the server at addr with WriteNeedle, sync
// set and the CRC32C checked on arrival.
func (s *Server) putRemote(ctx context.Context, addr string, ref *blobdraftv1.NeedleRef, data []byte, sum uint32) error {
	conn, err := s.peers.Conn(addr)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, transferTimeout(len(data)))
	defer cancel()
	stream, err := blobdpeerv1.NewVolumeServiceClient(conn).WriteNeedle(ctx)
	if err != nil {
		return err
	}
	k := min(len(data), messageBytes)
	msg := &blobdpeerv1.WriteNeedleRequest{
		Header: &blobdpeerv1.NeedleHeader{Vid: ref.GetVid(), Nid: ref.GetNid(), Cookie: ref.GetCookie(), Size: int64(len(data)), Sync: true, Crc32C: sum},
		Data:   data[:k],
	}
	for {
		if err := stream.Send(msg); err != nil {
			if err == io.EOF {
				_, err = stream.CloseAndRecv() // the server's verdict
			}
			return err
		}
		data = data[k:]
		if len(data) == 0 {
			break
		}
		k = min(len(data), messageBytes)
		msg = &blobdpeerv1.WriteNeedleRequest{Data: data[:k]}
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		return err
	}
	if resp.GetCrc32C() != sum {
		return fmt.Errorf("%w: %s stored volume %d needle %d with crc32c %08x, the data's is %08x", volume.ErrCorrupt, addr, ref.GetVid(), ref.GetNid(), resp.GetCrc32C(), sum)
	}
	return nil
}

// readChunk returns a chunk's whole data, checked against its CRC32C, from
// any healthy copy: for a replicated chunk this node's copy first, then the
// other servers' (UP ones first, in random order); for an erasure-coded one
// the data shards, then as many parity shards as missing ones, decoded (and
// decompressed for archive). A copy that fails (server down, needle
// missing, checksum wrong) is skipped; a corrupt copy on this node is
// reported (markCorrupt, reportCorrupt), as each server reports its own.
// When nothing works: ErrDataUnavailable (or ctx's error), never wrong
// bytes. The result is the caller's. Safe for concurrent use.
func (s *Server) readChunk(ctx context.Context, c *blobdraftv1.Chunk) ([]byte, error) {
	return s.readChunkRange(ctx, c, 0, -1)
}

// readChunkRange returns bytes [off, off+n) of a chunk (n < 0: to its end),
// as readChunk does. A range of a replicated chunk reads just that range
// (the server still checks the whole needle's CRC32C before answering), so
// a small range of a large chunk costs a small transfer; an erasure-coded
// chunk is read whole and sliced. A range outside the chunk is
// ErrInvalidRange.
func (s *Server) readChunkRange(ctx context.Context, c *blobdraftv1.Chunk, off, n int64) ([]byte, error) {
	size := c.GetSize()
	if n < 0 && off >= 0 && off <= size {
		n = size - off
	}
	if off < 0 || n < 0 || off+n > size {
		return nil, fmt.Errorf("%w: [%d, +%d) of a %d-byte chunk", ErrInvalidRange, off, n, size)
	}
	if n == 0 {
		return []byte{}, nil
	}
	switch l := c.GetLayout().(type) {
	case *blobdraftv1.Chunk_Replicated:
		return s.readReplicated(ctx, c, l.Replicated, off, n)
	case *blobdraftv1.Chunk_Ec:
		data, err := s.readErasureCoded(ctx, c, l.Ec)
		if err != nil {
			return nil, err
		}
		return data[off : off+n], nil
	default:
		return nil, fmt.Errorf("%w: chunk at offset %d has no layout", ErrDataUnavailable, c.GetOffset())
	}
}

// replica is one server holding a copy of a volume.
type replica struct {
	id, addr string
	up       bool
}

// readOrder returns the servers of volume vid in the order reads try
// them: this node, then UP (or DRAINING) servers in random order, then the
// others (a DOWN server may be back before the leader knows).
func (s *Server) readOrder(ctx context.Context, vid uint32) ([]replica, error) {
	v, err := s.meta.Volume(vid)
	if errors.Is(err, meta.ErrVolumeNotFound) {
		if err := s.barrier(ctx); err != nil {
			return nil, err
		}
		v, err = s.meta.Volume(vid)
	}
	if err != nil {
		return nil, err
	}
	var local, live, rest []replica
	for _, id := range v.GetServers() {
		r := replica{id: id}
		if rec, err := s.meta.Server(id); err == nil {
			r.addr = rec.GetAddr()
			r.up = rec.GetState() != blobdraftv1.ServerState_SERVER_STATE_DOWN
		}
		switch {
		case id == s.cfg.ID:
			r.up = true
			local = append(local, r)
		case r.up:
			live = append(live, r)
		case r.addr != "":
			rest = append(rest, r)
		}
	}
	rand.Shuffle(len(live), func(i, j int) { live[i], live[j] = live[j], live[i] })
	return append(append(local, live...), rest...), nil
}

// getNeedle reads [off, off+n) of a needle (n < 0: all of it) from r. A
// needle from a peer is received through needleCodec, each message's data
// copied once into the result, a buffer of Server.readBufs when it is about a
// chunk's size: the caller may give it back (objectReader does) or drop it.
func (s *Server) getNeedle(ctx context.Context, r replica, ref *blobdraftv1.NeedleRef, off, n int64) ([]byte, error) {
	data, _, _, err := s.getNeedleSum(ctx, r, ref, off, n)
	return data, err
}

// getNeedleSum is getNeedle that also returns, when summed, the CRC32C of
// the data (computed as it arrived from a peer; not for a local read).
func (s *Server) getNeedleSum(ctx context.Context, r replica, ref *blobdraftv1.NeedleRef, off, n int64) (data []byte, sum uint32, summed bool, err error) {
	if r.id == s.cfg.ID {
		data, err := s.readLocalPooled(ref, off, n)
		return data, 0, false, err
	}
	conn, err := s.peers.Conn(r.addr)
	if err != nil {
		return nil, 0, false, err
	}
	want := n
	if want < 0 {
		want = s.maxNeedleBytes()
	}
	ctx, cancel := context.WithTimeout(ctx, transferTimeout(int(want)))
	defer cancel()
	stream, err := blobdpeerv1.NewVolumeServiceClient(conn).ReadNeedle(ctx, &blobdpeerv1.ReadNeedleRequest{
		Vid: ref.GetVid(), Nid: ref.GetNid(), Cookie: ref.GetCookie(), Offset: off, Length: max(n, 0)},
		grpc.ForceCodecV2(s.needleCodec))
	if err != nil {
		return nil, 0, false, err
	}
	sink := &needleSink{alloc: func(size int64) ([]byte, error) {
		if n < 0 {
			n = size - off
		}
		if n < 0 || n > s.maxNeedleBytes() {
			return nil, fmt.Errorf("%w: %s answers a %d-byte needle", volume.ErrCorrupt, r.id, size)
		}
		return s.readBufs.get(int(n)), nil
	}}
	fail := func(err error) ([]byte, uint32, bool, error) {
		s.readBufs.put(sink.buf)
		return nil, 0, false, err
	}
	for first := true; ; first = false {
		err := stream.RecvMsg(sink)
		if err == io.EOF && !first {
			break
		}
		switch {
		case sink.err != nil: // what the codec found wrong, rather than gRPC's status of it
			if errors.Is(sink.err, volume.ErrCorrupt) {
				return fail(sink.err)
			}
			return fail(fmt.Errorf("%w: %s: %v", volume.ErrCorrupt, r.id, sink.err))
		case err != nil:
			return fail(err)
		}
		if first && sink.buf == nil { // no data in the first message
			if sink.buf, err = sink.alloc(sink.size); err != nil {
				return fail(err)
			}
		}
	}
	if int64(len(sink.buf)) != n {
		return fail(fmt.Errorf("%w: %s sent %d of %d bytes", volume.ErrCorrupt, r.id, len(sink.buf), n))
	}
	return sink.buf, sink.sum, true, nil
}

// readLocalPooled reads [off, off+n) of a local needle (n < 0: to its
// end), into a buffer of Server.readBufs when that is about a chunk's size
// and the result can start it (the whole of a large needle); the caller
// may give such a result back to the pool.
func (s *Server) readLocalPooled(ref *blobdraftv1.NeedleRef, off, n int64) ([]byte, error) {
	want := n
	if want < 0 {
		if size, _, err := s.vols.Stat(ref.GetVid(), ref.GetNid(), ref.GetCookie()); err == nil {
			want = size - off
		}
	}
	var buf []byte
	if off == 0 && want > int64(s.readBufs.size/2) {
		buf = s.readBufs.get(int(want))
	}
	data, err := s.readLocalNeedleBuf(ref.GetVid(), ref.GetNid(), ref.GetCookie(), off, n, buf)
	switch {
	case err != nil:
		s.readBufs.put(buf)
	case len(data) > 0 && cap(buf) > 0 && &data[0] == &buf[:1][0]:
		// The result starts buf: the caller's to give back.
	case len(data) > 0 && cap(buf) > 0:
		// The result may be a part of buf (volume.Store.ReadBuf): buf
		// goes with it, to the collector.
	default:
		s.readBufs.put(buf)
	}
	return data, err
}

// unavailable is ErrDataUnavailable for chunk c, with what each copy said.
func unavailable(c *blobdraftv1.Chunk, errs []error) error {
	if len(errs) == 0 {
		return fmt.Errorf("%w: the chunk at offset %d has no copy", ErrDataUnavailable, c.GetOffset())
	}
	return fmt.Errorf("%w: the chunk at offset %d: %w", ErrDataUnavailable, c.GetOffset(), errors.Join(errs...))
}

func (s *Server) readReplicated(ctx context.Context, c *blobdraftv1.Chunk, ref *blobdraftv1.NeedleRef, off, n int64) ([]byte, error) {
	order, err := s.readOrder(ctx, ref.GetVid())
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, unavailable(c, []error{err})
	}
	whole := off == 0 && n == c.GetSize()
	var errs []error
	for _, r := range order {
		m := n
		if whole {
			m = -1 // and check the size
		}
		data, got, summed, err := s.getNeedleSum(ctx, r, ref, off, m)
		if err == nil && whole && !s.localMatches(r, ref, c, data) {
			if !summed {
				got = crc32c(data)
			}
			if int64(len(data)) != c.GetSize() || got != c.GetCrc32C() {
				err = fmt.Errorf("%w: %d bytes with crc32c %08x, the manifest says %d with %08x", volume.ErrCorrupt, len(data), got, c.GetSize(), c.GetCrc32C())
				if r.id == s.cfg.ID {
					s.localCorrupt(ref.GetVid(), ref.GetNid())
				}
			}
		}
		if err == nil {
			return data, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		errs = append(errs, fmt.Errorf("server %s: %w", r.id, err))
	}
	return nil, unavailable(c, errs)
}

// localMatches reports whether data, the whole of needle ref read from
// this node's volume store, is chunk c without computing its CRC32C again:
// the store checked the data against the needle's CRC32C before returning
// it, so the data is the chunk's when that CRC32C and the size are the
// manifest's. False for a copy read from another server (the transfer is
// checked end to end) or when the store's entry says otherwise.
func (s *Server) localMatches(r replica, ref *blobdraftv1.NeedleRef, c *blobdraftv1.Chunk, data []byte) bool {
	if r.id != s.cfg.ID {
		return false
	}
	size, sum, err := s.vols.Stat(ref.GetVid(), ref.GetNid(), ref.GetCookie())
	return err == nil && size == int64(len(data)) && size == c.GetSize() && sum == c.GetCrc32C()
}

// shardSource is where shard i of a chunk is read from.
type shardSource struct {
	i int
	r replica
}

func (s *Server) readErasureCoded(ctx context.Context, c *blobdraftv1.Chunk, l *blobdraftv1.EcLayout) ([]byte, error) {
	sc := ec.Scheme{Data: int(l.GetData()), Parity: int(l.GetParity())}
	if err := sc.Validate(); err != nil || len(l.GetShards()) != sc.Shards() {
		return nil, unavailable(c, []error{fmt.Errorf("bad layout: %d shards for scheme %v", len(l.GetShards()), sc)})
	}
	// Data shards first (no decoding), servers believed up first.
	var errs []error
	var up, down []shardSource
	for i, ref := range l.GetShards() {
		order, err := s.readOrder(ctx, ref.GetVid())
		if err != nil || len(order) == 0 {
			errs = append(errs, fmt.Errorf("shard %d: volume %d: %v", i, ref.GetVid(), err))
			continue
		}
		src := shardSource{i: i, r: order[0]}
		if src.r.up {
			up = append(up, src)
		} else {
			down = append(down, src)
		}
	}
	srcs := append(up, down...)
	shards := make([][]byte, sc.Shards())
	var mu sync.Mutex
	intact := 0
	fetch := func(batch []shardSource) {
		var wg sync.WaitGroup
		for _, src := range batch {
			wg.Go(func() {
				b, err := s.getNeedle(ctx, src.r, l.GetShards()[src.i], 0, -1)
				if err == nil {
					var h ec.Header
					if h, _, err = ec.ParseShard(b); err == nil && (h.Index != src.i || h.Scheme != sc) {
						err = fmt.Errorf("shard %d of %v holds shard %d of %v", src.i, sc, h.Index, h.Scheme)
					}
				}
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, fmt.Errorf("shard %d on server %s: %w", src.i, src.r.id, err))
					return
				}
				shards[src.i] = b
				intact++
			})
		}
		wg.Wait()
	}
	next := 0
	for intact < sc.Data && next < len(srcs) && ctx.Err() == nil {
		k := min(sc.Data-intact, len(srcs)-next)
		fetch(srcs[next : next+k])
		next += k
	}
	out, err := ec.Decode(sc, shards)
	if err != nil && next < len(srcs) && ctx.Err() == nil {
		fetch(srcs[next:]) // shards that disagree: ask every one
		out, err = ec.Decode(sc, shards)
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, unavailable(c, append(errs, err))
	}
	if l.GetCompressed() {
		if out, err = ec.Decompress(out); err != nil {
			return nil, unavailable(c, append(errs, err))
		}
	}
	if got := crc32c(out); int64(len(out)) != c.GetSize() || got != c.GetCrc32C() {
		return nil, unavailable(c, append(errs, fmt.Errorf("decoded %d bytes with crc32c %08x, the manifest says %d with %08x", len(out), got, c.GetSize(), c.GetCrc32C())))
	}
	return out, nil
}

// deleteNeedles deletes needles (freed by a commit) from every server of
// their volumes, in parallel and best effort: servers DOWN or failing are
// skipped (garbage collection deletes what is left). It returns within
// about five seconds; call it from a goroutine the caller owns when the
// caller should not wait.
func (s *Server) deleteNeedles(ctx context.Context, refs []*blobdraftv1.NeedleRef) {
	if len(refs) == 0 {
		return
	}
	byVid := map[uint32][]uint64{}
	for _, r := range refs {
		byVid[r.GetVid()] = append(byVid[r.GetVid()], r.GetNid())
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for vid, nids := range byVid {
		order, err := s.readOrder(ctx, vid)
		if err != nil {
			s.logger.Debug("delete needles: volume", "vid", vid, "err", err)
			continue
		}
		for _, r := range order {
			switch {
			case r.id == s.cfg.ID:
				wg.Go(func() {
					if _, err := s.deleteLocalNeedles(vid, nids); err != nil {
						s.logger.Debug("delete needles here", "vid", vid, "err", err)
					}
				})
			case r.up:
				conn, err := s.peers.Conn(r.addr)
				if err != nil {
					continue
				}
				wg.Go(func() {
					_, err := blobdpeerv1.NewVolumeServiceClient(conn).DeleteNeedles(ctx, &blobdpeerv1.DeleteNeedlesRequest{Vid: vid, Nids: nids})
					if err != nil {
						s.logger.Debug("delete needles", "vid", vid, "server", r.id, "reason", rpcerr.ReasonOf(err), "err", err)
					}
				})
			}
		}
	}
	wg.Wait()
}
