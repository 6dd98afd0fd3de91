package volume

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"

	"cairn.dev/cairn/node/boltfile"
)

// Store is one server's volumes, in one directory. All methods may be
// called concurrently.
type Store struct {
	opts   Options
	dir    string
	logger *slog.Logger

	// mu protects the following fields.
	mu      sync.RWMutex
	vols    map[uint32]*volume
	damaged map[uint32]error // volumes whose files exist but did not open
	pending map[uint32]bool  // ids being created by Create or ReceiveCopy
	closed  bool
}

// VolumeInfo describes one volume.
type VolumeInfo struct {
	ID           uint32
	Size         int64 // bytes of .dat
	Needles      int64 // live needles
	LiveBytes    int64 // their data bytes
	DeletedBytes int64 // bytes Compact would reclaim
	Tombstones   int64
	Generation   uint64 // bumped by each Compact
	ReadOnly     bool
	Failed       bool  // a storage error; reopen the store
	Damaged      error // non-nil: the volume did not open and can only be dropped
}

// Open opens (creating if needed) the store in opts.Dir and every volume in
// it, recovering each from a crash (see the package doc); what was recovered
// is fsynced before Open returns. Temporary files of an interrupted Compact
// or ReceiveCopy are removed, and so is an index without its data file. A
// volume whose data file has a bad superblock is left on disk, reported by
// Volumes as damaged, and refuses everything but Drop.
func Open(opts Options) (*Store, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, err
	}
	s := &Store{
		opts: opts, dir: opts.Dir, logger: opts.Logger.With("dir", opts.Dir),
		vols: map[uint32]*volume{}, damaged: map[uint32]error{}, pending: map[uint32]bool{},
	}
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	var ids []uint32
	idxs := map[uint32]bool{}
	removed := false
	for _, e := range ents {
		name := e.Name()
		if strings.HasSuffix(name, compactSuffix) || strings.HasSuffix(name, recvSuffix) {
			s.logger.Info("volume: removing an interrupted compaction's or copy's file", "file", name)
			if err := os.Remove(s.dir + string(os.PathSeparator) + name); err != nil {
				return nil, err
			}
			removed = true
			continue
		}
		if id, ok := parseName(name, ".dat"); ok {
			ids = append(ids, id)
		} else if id, ok := parseName(name, ".idx"); ok {
			idxs[id] = true
		}
	}
	for id := range idxs {
		if !slices.Contains(ids, id) {
			s.logger.Info("volume: removing an index without its data file", "volume", id)
			if err := os.Remove(idxPath(s.dir, id)); err != nil {
				return nil, err
			}
			removed = true
		}
	}
	if removed {
		if err := boltfile.SyncDir(s.dir); err != nil {
			return nil, err
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		v := newVolume(s.dir, id, &s.opts)
		if err := v.recover(); err != nil {
			v.closeFiles()
			if !errors.Is(err, ErrDamaged) {
				s.closeAll()
				return nil, fmt.Errorf("volume: open volume %d: %w", id, err)
			}
			s.logger.Error("volume: volume damaged; it can only be dropped", "volume", id, "err", err)
			s.damaged[id] = err
			continue
		}
		s.vols[id] = v
	}
	return s, nil
}

func parseName(name, suffix string) (uint32, bool) {
	base, ok := strings.CutSuffix(name, suffix)
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseUint(base, 10, 32)
	if err != nil || strconv.FormatUint(id, 10) != base {
		return 0, false
	}
	return uint32(id), true
}

// volume returns volume vid, or ErrVolumeNotFound, ErrDamaged, ErrClosed.
func (s *Store) volume(vid uint32) (*volume, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	if v := s.vols[vid]; v != nil {
		return v, nil
	}
	if err := s.damaged[vid]; err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("%w: %d", ErrVolumeNotFound, vid)
}

// reserve claims id vid for a new volume: ErrExists if it is here, being
// created, or damaged.
func (s *Store) reserve(vid uint32) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if s.vols[vid] != nil || s.pending[vid] || s.damaged[vid] != nil {
		return fmt.Errorf("%w: %d", ErrExists, vid)
	}
	s.pending[vid] = true
	return nil
}

// publish makes v visible (nil: just releases the reservation).
func (s *Store) publish(vid uint32, v *volume) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.pending, vid)
	if v != nil && s.closed {
		v.closeFiles() // Close ran meanwhile; the files are durable
		return
	}
	if v != nil {
		s.vols[vid] = v
	}
}

// Create creates volume vid, durably (files and directory fsynced), empty
// and writable. ErrExists if it is here.
func (s *Store) Create(vid uint32) error {
	if err := s.reserve(vid); err != nil {
		return err
	}
	v := newVolume(s.dir, vid, &s.opts)
	v.sb = super{vid: vid, generation: 1, created: s.opts.Now().UnixNano()}
	dat, idx, err := createFiles(datPath(s.dir, vid), idxPath(s.dir, vid), v.sb)
	if err == nil {
		err = boltfile.SyncDir(s.dir)
		if err != nil {
			dat.Close()
			idx.Close()
			os.Remove(datPath(s.dir, vid))
			os.Remove(idxPath(s.dir, vid))
		}
	}
	if err != nil {
		s.publish(vid, nil)
		return fmt.Errorf("volume: create %d: %w", vid, err)
	}
	v.dat, v.idx = dat, idx
	v.end, v.idxEnd, v.marked = superLen, superLen, superLen
	s.publish(vid, v)
	return nil
}

// Volumes describes every volume, by ascending id, damaged ones included.
func (s *Store) Volumes() []VolumeInfo {
	s.mu.RLock()
	vols := make([]*volume, 0, len(s.vols))
	for _, v := range s.vols {
		vols = append(vols, v)
	}
	var out []VolumeInfo
	for id, err := range s.damaged {
		out = append(out, VolumeInfo{ID: id, Damaged: err})
	}
	s.mu.RUnlock()
	for _, v := range vols {
		out = append(out, v.info())
	}
	slices.SortFunc(out, func(a, b VolumeInfo) int { return int(int64(a.ID) - int64(b.ID)) })
	return out
}

// Info describes volume vid.
func (s *Store) Info(vid uint32) (VolumeInfo, error) {
	v, err := s.volume(vid)
	if err != nil {
		return VolumeInfo{}, err
	}
	return v.info(), nil
}

func (v *volume) info() VolumeInfo {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return VolumeInfo{
		ID: v.id, Size: v.end, Needles: v.live, LiveBytes: v.liveBytes, DeletedBytes: v.deletedBytes,
		Tombstones: v.tombstones, Generation: v.sb.generation, ReadOnly: v.readOnly, Failed: v.failed != nil,
	}
}

// SetReadOnly marks volume vid read-only (Write and Delete fail with
// ErrReadOnly) or writable again. It waits for a Write or Delete in
// progress on the volume, so once it returns no write can land in a
// read-only volume any more: a CopyTo after it holds every needle the
// volume will ever hold. The mark is not persisted: the server keeps its
// own record and reapplies it after Open.
func (s *Store) SetReadOnly(vid uint32, readOnly bool) error {
	v, err := s.volume(vid)
	if err != nil {
		return err
	}
	v.wmu.Lock()
	defer v.wmu.Unlock()
	v.mu.Lock()
	v.readOnly = readOnly
	v.mu.Unlock()
	return nil
}

// NeedleInfo describes one needle for Needles.
type NeedleInfo struct {
	ID      uint64
	Cookie  uint32
	Size    uint32 // data bytes (0 for a tombstone of an id never written here)
	CRC     uint32 // CRC32C of the data
	Deleted bool
}

// Needles calls fn for every needle of volume vid, tombstones included, in
// no particular order, until fn returns false. It works on a snapshot taken
// first (fn may call the store).
func (s *Store) Needles(vid uint32, fn func(NeedleInfo) bool) error {
	v, err := s.volume(vid)
	if err != nil {
		return err
	}
	v.mu.RLock()
	out := make([]NeedleInfo, 0, len(v.m))
	for nid, e := range v.m {
		out = append(out, NeedleInfo{ID: nid, Cookie: e.cookie, Size: e.size, CRC: e.crc, Deleted: e.deleted()})
	}
	v.mu.RUnlock()
	for _, n := range out {
		if !fn(n) {
			break
		}
	}
	return nil
}

// Drop deletes volume vid's files (durably: the directory is fsynced). It
// waits for a running Compact; reads in flight finish first, and later ones
// fail with ErrVolumeNotFound. A damaged volume may be dropped.
func (s *Store) Drop(vid uint32) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	v := s.vols[vid]
	_, damaged := s.damaged[vid]
	if v == nil && !damaged {
		s.mu.Unlock()
		return fmt.Errorf("%w: %d", ErrVolumeNotFound, vid)
	}
	delete(s.vols, vid)
	delete(s.damaged, vid)
	s.pending[vid] = true // no Create until the files are gone
	s.mu.Unlock()
	defer s.publish(vid, nil)
	if v != nil {
		v.shut()
	}
	// The data file goes first: an index without one is removed at Open.
	for _, p := range []string{datPath(s.dir, vid), idxPath(s.dir, vid)} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("volume: drop %d: %w", vid, err)
		}
	}
	return boltfile.SyncDir(s.dir)
}

// shut waits for v's compaction, writers and syncs, closes v's files and
// marks it closed.
func (v *volume) shut() {
	v.compactMu.Lock()
	defer v.compactMu.Unlock()
	v.wmu.Lock()
	defer v.wmu.Unlock()
	v.acquireSlot()
	defer v.releaseSlot(0, nil)
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.closed {
		v.closed = true
		v.closeFiles()
	}
}

// Close syncs every volume, then closes them; later calls fail with
// ErrClosed. It returns the first sync error.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	vols := make([]*volume, 0, len(s.vols))
	for _, v := range s.vols {
		vols = append(vols, v)
	}
	s.mu.Unlock()
	var first error
	for _, v := range vols {
		if err := v.sync(); err != nil && first == nil {
			first = err
		}
	}
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.closeAll()
	return first
}

func (s *Store) closeAll() {
	for _, v := range s.vols {
		v.shut()
	}
}
