package cachestore

import (
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"

	"cairn.dev/cairn/gatewayd/httpcache"
)

// workQueue bounds the demotions and promotions waiting for the worker.
const workQueue = 256

// Store is a two-tier httpcache.Storage (see the package doc). Create it
// with Open and Close it when done. All methods are safe for concurrent
// use. Meta slices returned by Get and Range must not be modified.
type Store struct {
	opts    Options
	log     *slog.Logger
	hasDisk bool
	objDir  string
	tmpDir  string
	gen     atomic.Uint64    // last file generation handed out
	subdirs [256]atomic.Bool // fan-out directories known to exist
	lock    *os.File         // Dir/lock, flocked while open

	// Lock order: entry.fileMu, then mu. No file I/O under mu.
	mu            sync.Mutex // guards the fields below and every entry's fields
	closed        bool
	index         map[string]*entry // every stored object, whatever its tier
	sk            *sketch
	mem           *policy
	disk          *policy // nil without a disk tier
	demotingBytes int64   // memory held by entries queued for the disk tier
	work          chan job
	wg            sync.WaitGroup // the worker
}

// job is a demotion (memory → disk) or promotion (disk → memory) of e.
type job struct {
	e       *entry
	promote bool
}

// Check the contract at compile time.
var _ httpcache.Storage = (*Store)(nil)

// Open validates opts and opens a Store. With a disk tier it creates Dir
// when missing, locks it (ErrLocked when another Store has it), removes leftovers of interrupted writes and unreadable
// object files, and reopens the objects a previous run left (Range lists
// them).
func Open(opts Options) (*Store, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	s := &Store{
		opts:    opts,
		log:     opts.Logger,
		hasDisk: opts.DiskBytes > 0,
		index:   map[string]*entry{},
		work:    make(chan job, workQueue),
	}
	// Size the sketch for objects of ~16 KiB; it grows with the object count.
	s.sk = newSketch(int(min((opts.MemoryBytes+opts.DiskBytes)/(16<<10), maxSketchCapacity)))
	s.mem = newPolicy(opts.MemoryBytes, s.sk)
	if s.hasDisk {
		s.disk = newPolicy(opts.DiskBytes, s.sk)
		if err := s.openDisk(); err != nil {
			if s.lock != nil {
				s.lock.Close()
			}
			return nil, err
		}
	}
	s.wg.Add(1)
	go s.worker()
	return s, nil
}

// Close stops the background worker after it finished the queued
// demotions (so they survive a restart). Bodies already returned stay
// readable until closed. Calls after Close miss or fail with ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.work)
	s.mu.Unlock()
	s.wg.Wait()
	if s.lock != nil {
		return s.lock.Close()
	}
	return nil
}

// memCost is what a memory object is charged.
func memCost(id string, meta []byte, bodyLen int64) int64 {
	return int64(len(id)) + int64(len(meta)) + bodyLen + EntryOverhead
}

// Get returns the object under id and records the access. A memory object's
// Get allocates nothing; a disk object's Get opens its file (the Body holds
// it open until closed) and may schedule its promotion to memory.
func (s *Store) Get(id string) ([]byte, httpcache.Body, bool) {
	h := hashString(s.opts.Seed, id)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, nil, false
	}
	s.sk.increment(h)
	e := s.index[id]
	if e == nil {
		s.mu.Unlock()
		return nil, nil, false
	}
	switch e.tier {
	case tierMemory:
		s.mem.onAccess(e)
		fallthrough
	case tierDemoting:
		meta, b := e.meta, e.mem
		s.mu.Unlock()
		return meta, b, true
	}
	s.disk.onAccess(e)
	if e.tier == tierDisk && e.bodyLen <= s.opts.MaxMemoryObject &&
		s.mem.wouldAdmit(h, memCost(id, e.meta, e.bodyLen)) {
		select {
		case s.work <- job{e: e, promote: true}:
			e.tier = tierPromoting
		default:
		}
	}
	meta, gen, size := e.meta, e.gen, e.bodyLen
	s.mu.Unlock()
	f, err := os.Open(objectPath(s.objDir, gen))
	if err != nil {
		// Evicted or replaced since: a miss.
		return nil, nil, false
	}
	return meta, &diskBody{f: f, off: headerSize + int64(len(id)), size: size}, true
}

// Touch records an access to id for the admission policy.
func (s *Store) Touch(id string) {
	h := hashString(s.opts.Seed, id)
	s.mu.Lock()
	if !s.closed {
		s.sk.increment(h)
	}
	s.mu.Unlock()
}

// Create starts writing an object. Bodies of known size up to
// MaxMemoryObject are written to memory; larger ones to the disk tier
// (ErrTooLarge without one, or above a quarter of DiskBytes); bodies of
// unknown size start in memory and move to a disk file when they outgrow
// MaxMemoryObject. A disk-bound object the disk tier's admission would
// refuse now is refused at once (ErrNotAdmitted). meta is copied.
func (s *Store) Create(id string, meta []byte, size int64) (httpcache.Writer, error) {
	if id == "" {
		return nil, fmt.Errorf("cachestore: id is empty")
	}
	if len(id) > maxIDLen {
		return nil, fmt.Errorf("cachestore: id is %d bytes, the limit is %d", len(id), maxIDLen)
	}
	if len(meta) > maxMetaLen {
		return nil, fmt.Errorf("cachestore: meta is %d bytes, the limit is %d: %w", len(meta), maxMetaLen, httpcache.ErrTooLarge)
	}
	if size < -1 {
		return nil, fmt.Errorf("cachestore: size is %d, it must be >= -1", size)
	}
	meta = slices.Clone(meta)
	if size >= 0 && size <= s.opts.MaxMemoryObject {
		s.mu.Lock()
		closed := s.closed
		s.mu.Unlock()
		if closed {
			return nil, ErrClosed
		}
		return &memWriter{s: s, id: id, meta: meta, size: size, buf: make([]byte, 0, size)}, nil
	}
	if size > s.opts.MaxMemoryObject {
		if err := s.checkDiskObject(id, meta, size); err != nil {
			return nil, err
		}
		return s.newDiskWriter(id, meta, size, nil)
	}
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	return &memWriter{s: s, id: id, meta: meta, size: -1}, nil
}

// checkDiskObject refuses an object of known size that the disk tier
// cannot hold or would not admit.
func (s *Store) checkDiskObject(id string, meta []byte, size int64) error {
	if !s.hasDisk {
		return fmt.Errorf("cachestore: object of %d bytes, the limit (MaxMemoryObject, no disk tier) is %d: %w",
			size, s.opts.MaxMemoryObject, httpcache.ErrTooLarge)
	}
	if size > s.opts.maxDiskObject() {
		return fmt.Errorf("cachestore: object of %d bytes, the limit (DiskBytes/4) is %d: %w",
			size, s.opts.maxDiskObject(), httpcache.ErrTooLarge)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	fs := fileSize(id, meta, size)
	if fs > s.disk.windowCap && !s.disk.wouldAdmit(hashString(s.opts.Seed, id), fs) {
		s.disk.rejections++
		return fmt.Errorf("cachestore: %d-byte object: %w", size, httpcache.ErrNotAdmitted)
	}
	return nil
}

// SetMeta replaces a stored object's meta (copied). A disk object's file
// is rewritten before SetMeta returns. A meta over the limit (16 MiB)
// deletes the object instead, and SetMeta reports false.
func (s *Store) SetMeta(id string, meta []byte) bool {
	if len(meta) > maxMetaLen {
		s.Delete(id)
		return false
	}
	meta = slices.Clone(meta)
	s.mu.Lock()
	e := s.index[id]
	if e == nil {
		s.mu.Unlock()
		return false
	}
	e.meta = meta
	var out []*entry
	switch e.tier {
	case tierMemory:
		out = s.mem.resize(e, memCost(id, meta, int64(len(e.mem.data))), nil)
	case tierDemoting:
		c := memCost(id, meta, int64(len(e.mem.data)))
		s.demotingBytes += c - e.size
		e.size = c
	case tierDisk, tierPromoting:
		out = s.disk.resize(e, fileSize(id, meta, e.bodyLen), nil)
	}
	var c cleanup
	s.evicted(out, &c)
	onDisk := e.tier == tierDisk || e.tier == tierPromoting
	s.mu.Unlock()
	s.after(c)
	if onDisk {
		s.persistMeta(e)
	}
	return true
}

// persistMeta writes e's current meta into its file, if e is still stored
// on disk.
func (s *Store) persistMeta(e *entry) {
	e.fileMu.Lock()
	defer e.fileMu.Unlock()
	s.mu.Lock()
	if s.index[e.id] != e || (e.tier != tierDisk && e.tier != tierPromoting) {
		s.mu.Unlock()
		return
	}
	meta, path, bodyLen := e.meta, objectPath(s.objDir, e.gen), e.bodyLen
	s.mu.Unlock()
	if err := rewriteMeta(path, e.id, meta, bodyLen); err != nil && !os.IsNotExist(err) {
		s.log.Warn("cachestore: rewriting meta failed; dropping the object", "id", e.id, "err", err)
		s.mu.Lock()
		var c cleanup
		if s.index[e.id] == e {
			s.drop(e, &c)
		}
		s.mu.Unlock()
		s.after(c)
	}
}

// Delete removes id; it reports whether it was stored.
func (s *Store) Delete(id string) bool {
	s.mu.Lock()
	e := s.index[id]
	if e == nil {
		s.mu.Unlock()
		return false
	}
	var c cleanup
	s.drop(e, &c)
	s.mu.Unlock()
	s.after(c)
	return true
}

// Range calls fn with every stored object's id and meta (a snapshot taken
// before the first call) until fn returns false. fn may call the Store.
func (s *Store) Range(fn func(id string, meta []byte) bool) {
	type item struct {
		id   string
		meta []byte
	}
	s.mu.Lock()
	items := make([]item, 0, len(s.index))
	for id, e := range s.index {
		items = append(items, item{id, e.meta})
	}
	s.mu.Unlock()
	for _, it := range items {
		if !fn(it.id, it.meta) {
			return
		}
	}
}

// Usage reports the objects and bytes per tier (bytes as charged: memory
// objects with EntryOverhead, disk objects as file sizes; objects queued
// for demotion count as memory). Evictions counts objects displaced from
// a tier (a demotion to disk included); Rejected counts candidates the
// admission policy refused.
func (s *Store) Usage() httpcache.Usage {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := httpcache.Usage{
		Objects:     int64(len(s.index)),
		MemoryBytes: s.mem.bytes() + s.demotingBytes,
		Evictions:   s.mem.evictions,
		Rejected:    s.mem.rejections,
	}
	if s.disk != nil {
		u.DiskBytes = s.disk.bytes()
		u.Evictions += s.disk.evictions
		u.Rejected += s.disk.rejections
	}
	return u
}

// cleanup is the work a change leaves for after mu is released: object
// files to unlink and demotions the worker's queue had no room for (the
// caller writes them itself: back-pressure rather than loss).
type cleanup struct {
	files  []uint64
	demote []*entry
}

// after does c's work. Called without mu.
func (s *Store) after(c cleanup) {
	s.unlink(c.files)
	for _, e := range c.demote {
		s.demote(e)
	}
}

// drop removes e from the index and its tier, adding its file to c.
// Called with mu held.
func (s *Store) drop(e *entry, c *cleanup) {
	switch e.tier {
	case tierMemory:
		s.mem.remove(e)
	case tierDemoting:
		s.demotingBytes -= e.size
	case tierDisk, tierPromoting:
		s.disk.remove(e)
		c.files = append(c.files, e.gen)
	}
	if s.index[e.id] == e {
		delete(s.index, e.id)
	}
	e.tier = 0
}

// evicted handles the entries a policy pushed out: memory objects are
// demoted to disk when there is a disk tier (queued for the worker, or
// left in c for the caller when the queue is full), the rest dropped.
// Called with mu held.
func (s *Store) evicted(out []*entry, c *cleanup) {
	for _, e := range out {
		if e.tier == tierMemory && s.hasDisk && !s.closed && int64(len(e.mem.data)) <= s.opts.maxDiskObject() {
			e.tier = tierDemoting
			s.demotingBytes += e.size
			queued := false
			if s.demotingBytes <= s.opts.MemoryBytes/4 {
				select {
				case s.work <- job{e: e}:
					queued = true
				default:
				}
			}
			if !queued {
				c.demote = append(c.demote, e)
			}
			continue
		}
		e.seg = segNone // already out of its policy
		switch e.tier {
		case tierDisk, tierPromoting:
			c.files = append(c.files, e.gen)
		}
		if s.index[e.id] == e {
			delete(s.index, e.id)
		}
		e.tier = 0
	}
}

// unlink removes object files (errors other than "already gone" logged).
func (s *Store) unlink(files []uint64) {
	for _, g := range files {
		if err := os.Remove(objectPath(s.objDir, g)); err != nil && !os.IsNotExist(err) {
			s.log.Warn("cachestore: removing object file", "gen", g, "err", err)
		}
	}
}

// install makes e (tier and size set, in no policy) the object under its
// id, replacing any previous one. It returns the work left for after mu
// and whether e was admitted (or is being demoted to the disk tier).
// Called with mu held.
func (s *Store) install(e *entry) (cleanup, bool) {
	var c cleanup
	if old := s.index[e.id]; old != nil {
		s.drop(old, &c)
	}
	s.index[e.id] = e
	s.sk.ensureCapacity(len(s.index))
	var out []*entry
	var ok bool
	if e.tier == tierMemory {
		out, ok = s.mem.add(e, nil)
	} else {
		out, ok = s.disk.add(e, nil)
	}
	s.evicted(out, &c)
	return c, ok || e.tier == tierDemoting
}
