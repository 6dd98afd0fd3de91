package blobd

// The volume server side of the peer protocol (cairn.blobd.peer.v1
// VolumeService) over this node's volume store, the leader side of
// MetaPeerService.Heartbeat, and what a volume server keeps of its own
// volumes (corrupt needles, read-only marks, volumes being received).

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"google.golang.org/grpc"

	"cairn.dev/cairn/blobd/meta"
	"cairn.dev/cairn/blobd/volume"
	"cairn.dev/cairn/node/rpcerr"
	blobdpeerv1 "cairn.dev/cairn/proto/cairn/blobd/peer/v1"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

// messageBytes is the most needle or volume data one peer message carries.
const messageBytes = 1 << 20

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// crc32c is the CRC32C (Castagnoli) of b, the checksum of chunks and
// needles.
func crc32c(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// volumeRules map the volume store's errors to the peer protocol's reasons
// (part of toStatus's rules).
var volumeRules = []rpcerr.Rule{
	{Err: volume.ErrNotFound, Reason: rpcerr.NeedleNotFound},
	{Err: volume.ErrCookieMismatch, Reason: rpcerr.NeedleNotFound},
	{Err: volume.ErrCorrupt, Reason: rpcerr.CorruptData},
	{Err: volume.ErrDamaged, Reason: rpcerr.CorruptData},
	{Err: volume.ErrVolumeNotFound, Reason: rpcerr.VolumeNotFound},
	{Err: volume.ErrVolumeFull, Reason: rpcerr.LimitExceeded},
	{Err: volume.ErrTooLarge, Reason: rpcerr.InvalidArgument},
	{Err: volume.ErrShortData, Reason: rpcerr.InvalidArgument},
	{Err: volume.ErrRange, Reason: rpcerr.InvalidRange},
	{Err: volume.ErrReadOnly, Reason: rpcerr.PreconditionFailed},
	{Err: volume.ErrDeleted, Reason: rpcerr.PreconditionFailed},
	{Err: volume.ErrConflict, Reason: rpcerr.PreconditionFailed},
	{Err: volume.ErrExists, Reason: rpcerr.PreconditionFailed},
	{Err: volume.ErrClosed, Reason: rpcerr.ShuttingDown},
}

// invalidField is an ErrInvalidArgument about a request field.
func invalidField(field, format string, args ...any) error {
	return rpcerr.WithMetadata(fmt.Errorf("%w: %s: %s", ErrInvalidArgument, field, fmt.Sprintf(format, args...)), rpcerr.KeyField, field)
}

// volumeService serves VolumeService over s.vols.
type volumeService struct {
	blobdpeerv1.UnimplementedVolumeServiceServer
	s *Server
}

func (vs *volumeService) CreateVolume(ctx context.Context, req *blobdpeerv1.CreateVolumeRequest) (*blobdpeerv1.CreateVolumeResponse, error) {
	if req.GetVid() == 0 {
		return nil, toStatus(invalidField("vid", "volume id 0"))
	}
	if err := vs.s.vols.Create(req.GetVid()); err != nil && !errors.Is(err, volume.ErrExists) {
		return nil, toStatus(err)
	}
	return &blobdpeerv1.CreateVolumeResponse{}, nil
}

func (vs *volumeService) DropVolume(ctx context.Context, req *blobdpeerv1.DropVolumeRequest) (*blobdpeerv1.DropVolumeResponse, error) {
	if err := vs.s.dropLocalVolume(req.GetVid()); err != nil {
		return nil, toStatus(err)
	}
	return &blobdpeerv1.DropVolumeResponse{}, nil
}

// dropLocalVolume deletes a local volume's files (an unknown one is a
// success) and forgets its corrupt needles.
func (s *Server) dropLocalVolume(vid uint32) error {
	if err := s.vols.Drop(vid); err != nil && !errors.Is(err, volume.ErrVolumeNotFound) {
		return err
	}
	s.forgetCorrupt(vid)
	return nil
}

// WriteNeedle receives the whole needle before touching the volume (it is
// at most a chunk), so a slow sender never holds up the volume's other
// writers, and data failing its size or CRC check is never stored.
func (vs *volumeService) WriteNeedle(stream grpc.ClientStreamingServer[blobdpeerv1.WriteNeedleRequest, blobdpeerv1.WriteNeedleResponse]) error {
	s := vs.s
	first, err := stream.Recv()
	if err == io.EOF {
		return toStatus(invalidField("header", "the stream ended before a header"))
	}
	if err != nil {
		return err
	}
	h := first.GetHeader()
	if err := s.checkNeedleHeader(h); err != nil {
		return toStatus(err)
	}
	data, release, err := receiveNeedle(stream, h.GetSize(), first.GetData())
	if err != nil {
		return toStatus(err)
	}
	defer release()
	sum := crc32c(data)
	if h.GetCrc32C() != 0 && sum != h.GetCrc32C() {
		return toStatus(invalidField("header.crc32c", "the data's crc32c is %08x, the header says %08x", sum, h.GetCrc32C()))
	}
	if err := s.storeNeedle(stream.Context(), h.GetVid(), h.GetNid(), h.GetCookie(), data, sum, h.GetSync()); err != nil {
		return toStatus(err)
	}
	return stream.SendAndClose(&blobdpeerv1.WriteNeedleResponse{Crc32C: sum})
}

// checkNeedleHeader validates a WriteNeedle header.
func (s *Server) checkNeedleHeader(h *blobdpeerv1.NeedleHeader) error {
	switch {
	case h == nil:
		return invalidField("header", "the first message carries no header")
	case h.GetVid() == 0:
		return invalidField("header.vid", "volume id 0")
	case h.GetNid() == 0:
		return invalidField("header.nid", "needle id 0")
	case h.GetSize() < 0 || h.GetSize() > s.maxNeedleBytes():
		return rpcerr.WithMetadata(invalidField("header.size", "%d bytes, the limit is %d", h.GetSize(), s.maxNeedleBytes()),
			rpcerr.KeySize, strconv.FormatInt(h.GetSize(), 10), rpcerr.KeyLimit, strconv.FormatInt(s.maxNeedleBytes(), 10))
	}
	return nil
}

// maxNeedleBytes is the largest needle the volume store takes.
func (s *Server) maxNeedleBytes() int64 { return int64(s.cfg.ChunkBytes) + 64 }

// needleBufs recycles the buffers of needles that arrive in several
// messages (large chunks and shards).
var needleBufs sync.Pool // of *[]byte

// receiveNeedle returns exactly size bytes: first (the first message's
// data) and the data of the messages after it, up to the end of the stream.
// The caller calls release once done with the data.
func receiveNeedle(stream grpc.ClientStreamingServer[blobdpeerv1.WriteNeedleRequest, blobdpeerv1.WriteNeedleResponse], size int64, first []byte) (data []byte, release func(), err error) {
	tooMuch := func(n int64) error {
		return invalidField("header.size", "the stream carries more than header.size (%d) bytes (%d so far)", size, n)
	}
	if int64(len(first)) > size {
		return nil, nil, tooMuch(int64(len(first)))
	}
	data, release = first, func() {}
	if int64(len(first)) < size {
		bp, ok := needleBufs.Get().(*[]byte)
		if !ok || int64(cap(*bp)) < size {
			b := make([]byte, 0, size)
			bp = &b
		}
		release = func() { needleBufs.Put(bp) }
		data = append((*bp)[:0], first...)
	}
	fail := func(err error) ([]byte, func(), error) {
		release()
		return nil, nil, err
	}
	for {
		msg, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fail(err)
		}
		if msg.GetHeader() != nil {
			return fail(invalidField("header", "a header in a message after the first"))
		}
		if int64(len(data)+len(msg.GetData())) > size {
			return fail(tooMuch(int64(len(data) + len(msg.GetData()))))
		}
		data = append(data, msg.GetData()...)
	}
	if int64(len(data)) != size {
		return fail(invalidField("header.size", "the stream carried %d bytes, header.size is %d", len(data), size))
	}
	return data, release, nil
}

// storeNeedle writes data (whose CRC32C is sum) as needle nid of local
// volume vid, creating the volume if the metadata places it here
// (ensureLocalVolume), and fsyncs it when sync is set (a group commit with
// the volume's concurrent writers).
func (s *Server) storeNeedle(ctx context.Context, vid uint32, nid uint64, cookie uint32, data []byte, sum uint32, sync bool) error {
	if _, err := s.vols.Info(vid); errors.Is(err, volume.ErrVolumeNotFound) {
		if err := s.ensureLocalVolume(ctx, vid); err != nil {
			return err
		}
	}
	got, err := s.vols.Write(vid, nid, cookie, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return err
	}
	if got != sum {
		return fmt.Errorf("%w: volume %d needle %d stored with crc32c %08x, the data's is %08x", volume.ErrCorrupt, vid, nid, got, sum)
	}
	if sync {
		return s.vols.Sync(vid)
	}
	return nil
}

// ensureLocalVolume creates volume vid here if the metadata (after a read
// barrier: a lagging view could miss the references that make a missing
// copy a lost one) places it on this server, it is not read-only, no copy
// of it is being received, and nothing references a needle of it yet: a
// volume created on demand is a new one whose CreateVolume call has not
// arrived, never a lost copy of data (that is the repair loop's to
// restore). VOLUME_NOT_FOUND otherwise.
func (s *Server) ensureLocalVolume(ctx context.Context, vid uint32) error {
	notHere := func(why string) error {
		return rpcerr.WithMetadata(fmt.Errorf("%w: %d: %s", volume.ErrVolumeNotFound, vid, why), rpcerr.KeyField, "vid")
	}
	if err := s.barrier(ctx); err != nil {
		return err
	}
	v, err := s.meta.Volume(vid)
	if err != nil {
		if errors.Is(err, meta.ErrVolumeNotFound) {
			return notHere("no such volume in the metadata")
		}
		return err
	}
	switch {
	case !slices.Contains(v.GetServers(), s.cfg.ID):
		return notHere("the metadata places it on other servers")
	case v.GetState() == blobdraftv1.VolumeState_VOLUME_STATE_READONLY:
		return notHere("it is read-only (under repair)")
	case s.receivingVolume(vid):
		return notHere("a copy of it is being received")
	}
	for _, err := range s.meta.NeedleRefs(vid) {
		if err != nil {
			return err
		}
		return notHere("its copy here is lost; the repair loop restores it")
	}
	if err := s.vols.Create(vid); err != nil && !errors.Is(err, volume.ErrExists) {
		return err
	}
	s.logger.Info("created a volume on demand", "vid", vid)
	return nil
}

func (vs *volumeService) ReadNeedle(req *blobdpeerv1.ReadNeedleRequest, stream grpc.ServerStreamingServer[blobdpeerv1.ReadNeedleResponse]) error {
	s := vs.s
	switch {
	case req.GetVid() == 0:
		return toStatus(invalidField("vid", "volume id 0"))
	case req.GetNid() == 0:
		return toStatus(invalidField("nid", "needle id 0"))
	case req.GetOffset() < 0:
		return toStatus(invalidField("offset", "negative offset %d", req.GetOffset()))
	case req.GetLength() < 0:
		return toStatus(invalidField("length", "negative length %d", req.GetLength()))
	}
	n := req.GetLength()
	if n == 0 {
		n = -1
	}
	// A chunk-sized needle is read into a pooled buffer, given back once
	// sent: Send has encoded a message when it returns (and no stats
	// handler keeps messages).
	var buf []byte
	if size, _, err := s.vols.Stat(req.GetVid(), req.GetNid(), req.GetCookie()); err == nil {
		buf = s.readBufs.get(int(min(size, s.maxNeedleBytes())) + volume.NeedleHeaderBytes)
		defer s.readBufs.put(buf)
	}
	data, err := s.readLocalNeedleBuf(req.GetVid(), req.GetNid(), req.GetCookie(), req.GetOffset(), n, buf)
	if err != nil {
		return toStatus(err)
	}
	size := int64(len(data))
	if req.GetOffset() != 0 || n >= 0 {
		if size, _, err = s.vols.Stat(req.GetVid(), req.GetNid(), req.GetCookie()); err != nil {
			return toStatus(err)
		}
	}
	msg := &blobdpeerv1.ReadNeedleResponse{Size: size}
	for first := true; first || len(data) > 0; first = false {
		k := min(len(data), messageBytes)
		msg.Data = data[:k]
		if err := stream.Send(msg); err != nil {
			return err
		}
		data = data[k:]
		msg.Size = 0
	}
	return nil
}

// readLocalNeedle reads [off, off+n) (n < 0: to the end) of a local needle,
// checked against its CRC32C; a needle failing it is reported corrupt.
func (s *Server) readLocalNeedle(vid uint32, nid uint64, cookie uint32, off, n int64) ([]byte, error) {
	return s.readLocalNeedleBuf(vid, nid, cookie, off, n, nil)
}

// readLocalNeedleBuf is readLocalNeedle reading into buf as
// volume.Store.ReadBuf does.
func (s *Server) readLocalNeedleBuf(vid uint32, nid uint64, cookie uint32, off, n int64, buf []byte) ([]byte, error) {
	data, err := s.vols.ReadBuf(vid, nid, cookie, off, n, buf)
	if errors.Is(err, volume.ErrCorrupt) {
		s.localCorrupt(vid, nid)
	}
	return data, err
}

func (vs *volumeService) DeleteNeedles(ctx context.Context, req *blobdpeerv1.DeleteNeedlesRequest) (*blobdpeerv1.DeleteNeedlesResponse, error) {
	if req.GetVid() == 0 {
		return nil, toStatus(invalidField("vid", "volume id 0"))
	}
	n, err := vs.s.deleteLocalNeedles(req.GetVid(), req.GetNids())
	if err != nil {
		return nil, toStatus(err)
	}
	return &blobdpeerv1.DeleteNeedlesResponse{Deleted: int32(n)}, nil
}

// deleteLocalNeedles appends tombstones for nids to local volume vid and
// fsyncs them; ids 0 are skipped. It returns how many it deleted.
func (s *Server) deleteLocalNeedles(vid uint32, nids []uint64) (int, error) {
	n := 0
	for _, nid := range nids {
		if nid == 0 {
			continue
		}
		if err := s.vols.Delete(vid, nid); err != nil {
			return n, err
		}
		s.clearCorrupt(vid, nid)
		n++
	}
	if n == 0 {
		return 0, nil
	}
	return n, s.vols.Sync(vid)
}

// CopyVolume streams a local volume. When the metadata marks it read-only
// (as repair does before copying) the volume is made read-only here first,
// which waits out writes in progress: the copy then holds every needle the
// volume will ever hold.
func (vs *volumeService) CopyVolume(req *blobdpeerv1.CopyVolumeRequest, stream grpc.ServerStreamingServer[blobdpeerv1.CopyVolumeResponse]) error {
	s := vs.s
	if req.GetVid() == 0 {
		return toStatus(invalidField("vid", "volume id 0"))
	}
	if err := s.barrier(stream.Context()); err != nil {
		s.logger.Warn("copy volume: no read barrier; copying without the metadata's read-only mark", "vid", req.GetVid(), "err", err)
	} else if v, err := s.meta.Volume(req.GetVid()); err == nil {
		s.applyVolumeState(req.GetVid(), v.GetState())
	}
	w := &copySender{stream: stream, buf: make([]byte, 0, messageBytes)}
	if _, err := s.vols.CopyTo(req.GetVid(), w); err != nil {
		if w.sendErr != nil {
			return w.sendErr
		}
		return toStatus(err)
	}
	return w.flush()
}

// copySender sends what is written to it in messages of up to messageBytes.
type copySender struct {
	stream  grpc.ServerStreamingServer[blobdpeerv1.CopyVolumeResponse]
	buf     []byte
	sendErr error
}

func (w *copySender) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		k := min(len(p), cap(w.buf)-len(w.buf))
		w.buf = append(w.buf, p[:k]...)
		p = p[k:]
		if len(w.buf) == cap(w.buf) {
			if err := w.flush(); err != nil {
				return n - len(p), err
			}
		}
	}
	return n, nil
}

func (w *copySender) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	if err := w.stream.Send(&blobdpeerv1.CopyVolumeResponse{Data: w.buf}); err != nil {
		w.sendErr = err
		return err
	}
	w.buf = w.buf[:0]
	return nil
}

// ReceiveVolume pulls a volume from another server and installs it,
// replacing the local copy (a damaged or corrupt one), paced at
// Config.RepairBytesPerSec.
func (vs *volumeService) ReceiveVolume(ctx context.Context, req *blobdpeerv1.ReceiveVolumeRequest) (*blobdpeerv1.ReceiveVolumeResponse, error) {
	n, err := vs.s.receiveVolume(ctx, req.GetVid(), req.GetSource())
	if err != nil {
		return nil, toStatus(err)
	}
	return &blobdpeerv1.ReceiveVolumeResponse{Bytes: n}, nil
}

func (s *Server) receiveVolume(ctx context.Context, vid uint32, source string) (int64, error) {
	switch {
	case vid == 0:
		return 0, invalidField("vid", "volume id 0")
	case source == "":
		return 0, invalidField("source", "no source address")
	}
	if !s.claimReceiving(vid) {
		return 0, rpcerr.WithMetadata(fmt.Errorf("%w: volume %d is being received already", meta.ErrPreconditionFailed, vid), rpcerr.KeyField, "vid")
	}
	defer s.releaseReceiving(vid)
	conn, err := s.peers.Conn(source)
	if err != nil {
		return 0, fmt.Errorf("%w: dial %s: %w", ErrDataUnavailable, source, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := blobdpeerv1.NewVolumeServiceClient(conn).CopyVolume(ctx, &blobdpeerv1.CopyVolumeRequest{Vid: vid})
	if err != nil {
		return 0, err
	}
	r := &copyReceiver{ctx: ctx, stream: stream, rate: s.cfg.RepairBytesPerSec, start: time.Now()}
	// Read the first message before dropping the local copy: a source that
	// does not hold the volume costs nothing.
	if err := r.fill(); err != nil {
		return 0, err
	}
	if err := s.dropLocalVolume(vid); err != nil {
		return 0, err
	}
	if err := s.vols.ReceiveCopy(vid, r); err != nil {
		if r.err != nil && !errors.Is(r.err, io.EOF) {
			return r.n, r.err
		}
		return r.n, err
	}
	s.forgetCorrupt(vid)
	if v, err := s.meta.Volume(vid); err == nil {
		s.applyVolumeState(vid, v.GetState())
	}
	s.logger.Info("received a volume", "vid", vid, "source", source, "bytes", r.n)
	return r.n, nil
}

// copyReceiver reads a CopyVolume stream, paced at rate bytes per second
// (<= 0: unpaced).
type copyReceiver struct {
	ctx    context.Context
	stream grpc.ServerStreamingClient[blobdpeerv1.CopyVolumeResponse]
	buf    []byte
	n      int64
	err    error
	rate   int64
	start  time.Time
}

// fill receives the next message into buf.
func (r *copyReceiver) fill() error {
	for len(r.buf) == 0 && r.err == nil {
		msg, err := r.stream.Recv()
		if err != nil {
			r.err = err
			break
		}
		r.buf = msg.GetData()
	}
	if len(r.buf) > 0 {
		return nil
	}
	return r.err
}

func (r *copyReceiver) Read(p []byte) (int, error) {
	if err := r.fill(); err != nil {
		return 0, err
	}
	k := copy(p, r.buf)
	r.buf = r.buf[k:]
	r.n += int64(k)
	if r.rate > 0 {
		due := time.Duration(float64(r.n) / float64(r.rate) * float64(time.Second))
		if ahead := due - time.Since(r.start); ahead > time.Millisecond {
			t := time.NewTimer(ahead)
			select {
			case <-t.C:
			case <-r.ctx.Done():
				t.Stop()
				r.err = r.ctx.Err()
				return k, r.err
			}
		}
	}
	return k, nil
}

func (vs *volumeService) VolumeStatus(ctx context.Context, req *blobdpeerv1.VolumeStatusRequest) (*blobdpeerv1.VolumeStatusResponse, error) {
	capacity, free := diskSpace(filepath.Join(vs.s.cfg.DataDir, VolumesDir))
	return &blobdpeerv1.VolumeStatusResponse{Volumes: vs.s.localVolumeInfos(), CapacityBytes: capacity, FreeBytes: free}, nil
}

// localVolumeInfos describes every local volume, damaged ones included,
// with the needles found corrupt in each.
func (s *Server) localVolumeInfos() []*blobdpeerv1.VolumeInfo {
	vols := s.vols.Volumes()
	out := make([]*blobdpeerv1.VolumeInfo, 0, len(vols))
	s.core.loc.mu.Lock()
	defer s.core.loc.mu.Unlock()
	for _, v := range vols {
		out = append(out, &blobdpeerv1.VolumeInfo{
			Vid: v.ID, Size: v.Size, Needles: v.Needles, LiveBytes: v.LiveBytes, DeletedBytes: v.DeletedBytes,
			ReadOnly: v.ReadOnly, Damaged: v.Damaged != nil || v.Failed, CorruptNeedles: int64(len(s.core.loc.corrupt[v.ID])),
		})
	}
	return out
}

// applyVolumeState makes local volume vid read-only when the metadata says
// READONLY and writable otherwise (a no-op when it already is, or when the
// volume is not here).
func (s *Server) applyVolumeState(vid uint32, st blobdraftv1.VolumeState) {
	info, err := s.vols.Info(vid)
	want := st == blobdraftv1.VolumeState_VOLUME_STATE_READONLY
	if err != nil || info.ReadOnly == want {
		return
	}
	if err := s.vols.SetReadOnly(vid, want); err != nil {
		s.logger.Warn("set volume read-only", "vid", vid, "read_only", want, "err", err)
	}
}

// applyVolumeStates applies the metadata's read-only marks to every local
// volume the metadata places here.
func (s *Server) applyVolumeStates() {
	vols, err := s.meta.VolumesOn(s.cfg.ID)
	if err != nil {
		return
	}
	for _, v := range vols {
		s.applyVolumeState(v.GetId(), v.GetState())
	}
}

// markCorrupt records that local needle nid of volume vid failed its
// checksum: heartbeats report the count (VolumeInfo.corrupt_needles) until
// the volume is installed again (ReceiveVolume) or dropped, or the needle
// is deleted. The scrubber calls it for what it finds.
func (s *Server) markCorrupt(vid uint32, nid uint64) {
	l := &s.core.loc
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.corrupt[vid] == nil {
		l.corrupt[vid] = map[uint64]bool{}
	}
	l.corrupt[vid][nid] = true
}

// localCorrupt is a read's finding of a corrupt local needle: recorded for
// heartbeats (markCorrupt) and reported to maintenance (reportCorrupt).
func (s *Server) localCorrupt(vid uint32, nid uint64) {
	s.logger.Error("a local needle failed its checksum", "vid", vid, "nid", nid)
	s.markCorrupt(vid, nid)
	s.reportCorrupt(vid, nid)
}

// corruptNeedles lists the local needles of volume vid known corrupt.
func (s *Server) corruptNeedles(vid uint32) []uint64 {
	l := &s.core.loc
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]uint64, 0, len(l.corrupt[vid]))
	for nid := range l.corrupt[vid] {
		out = append(out, nid)
	}
	slices.Sort(out)
	return out
}

func (s *Server) clearCorrupt(vid uint32, nid uint64) {
	l := &s.core.loc
	l.mu.Lock()
	defer l.mu.Unlock()
	if m := l.corrupt[vid]; m != nil {
		delete(m, nid)
		if len(m) == 0 {
			delete(l.corrupt, vid)
		}
	}
}

func (s *Server) forgetCorrupt(vid uint32) {
	l := &s.core.loc
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.corrupt, vid)
}

func (s *Server) claimReceiving(vid uint32) bool {
	l := &s.core.loc
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.receiving[vid] {
		return false
	}
	l.receiving[vid] = true
	return true
}

func (s *Server) releaseReceiving(vid uint32) {
	l := &s.core.loc
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.receiving, vid)
}

func (s *Server) receivingVolume(vid uint32) bool {
	l := &s.core.loc
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.receiving[vid]
}

// metaPeerService serves MetaPeerService: Heartbeat here, RepairStatus in
// maintenance.
type metaPeerService struct {
	blobdpeerv1.UnimplementedMetaPeerServiceServer
	s *Server
}

func (ms *metaPeerService) Heartbeat(ctx context.Context, req *blobdpeerv1.HeartbeatRequest) (*blobdpeerv1.HeartbeatResponse, error) {
	if err := ms.s.heartbeat(ctx, req); err != nil {
		return nil, toStatus(err)
	}
	return &blobdpeerv1.HeartbeatResponse{}, nil
}

func (ms *metaPeerService) RepairStatus(ctx context.Context, req *blobdpeerv1.RepairStatusRequest) (*blobdpeerv1.RepairStatusResponse, error) {
	resp, err := ms.s.repairStatus(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	return resp, nil
}
