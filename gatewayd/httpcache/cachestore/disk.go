package cachestore

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// openDisk prepares Dir and reopens the objects found there. Called by
// Open before the Store is shared.
func (s *Store) openDisk() error {
	s.objDir = filepath.Join(s.opts.Dir, "objects")
	s.tmpDir = filepath.Join(s.opts.Dir, "tmp")
	if err := os.MkdirAll(s.opts.Dir, 0o755); err != nil {
		return fmt.Errorf("cachestore: Dir: %w", err)
	}
	lock, err := lockDir(s.opts.Dir)
	if err != nil {
		return err
	}
	s.lock = lock
	// Leftovers of writes a previous run did not commit.
	if err := os.RemoveAll(s.tmpDir); err != nil {
		return fmt.Errorf("cachestore: removing %s: %w", s.tmpDir, err)
	}
	if err := os.MkdirAll(s.tmpDir, 0o755); err != nil {
		return fmt.Errorf("cachestore: Dir: %w", err)
	}
	if err := os.MkdirAll(s.objDir, 0o755); err != nil {
		return fmt.Errorf("cachestore: Dir: %w", err)
	}
	type found struct {
		gen     uint64
		id      string
		meta    []byte
		bodyLen int64
	}
	var objs []found
	var maxGen uint64
	var subs []os.DirEntry
	subs, err = os.ReadDir(s.objDir)
	if err != nil {
		return fmt.Errorf("cachestore: reading %s: %w", s.objDir, err)
	}
	for _, sd := range subs {
		sub := filepath.Join(s.objDir, sd.Name())
		i, err := strconv.ParseUint(sd.Name(), 16, 8)
		if err != nil || len(sd.Name()) != 2 || !sd.IsDir() {
			s.log.Warn("cachestore: removing a stray file", "path", sub)
			os.RemoveAll(sub)
			continue
		}
		s.subdirs[i].Store(true)
		des, err := os.ReadDir(sub)
		if err != nil {
			return fmt.Errorf("cachestore: reading %s: %w", sub, err)
		}
		for _, de := range des {
			path := filepath.Join(sub, de.Name())
			gen, ok := parseGen(de.Name())
			if !ok || !de.Type().IsRegular() || gen&255 != uint64(i) {
				s.log.Warn("cachestore: removing a stray file", "path", path)
				os.RemoveAll(path)
				continue
			}
			maxGen = max(maxGen, gen)
			id, meta, bodyLen, err := readObjectFile(path)
			if err != nil {
				s.log.Warn("cachestore: removing an unreadable object file", "path", path, "err", err)
				os.Remove(path)
				continue
			}
			objs = append(objs, found{gen, id, meta, bodyLen})
		}
	}
	s.gen.Store(max(maxGen, uint64(time.Now().UnixNano())))
	// Oldest first, so that the newest are the most recently used, and a
	// later generation of an id replaces an earlier one.
	slices.SortFunc(objs, func(a, b found) int { return cmp.Compare(a.gen, b.gen) })
	var c cleanup
	for _, o := range objs {
		e := &entry{id: o.id, hash: hashString(s.opts.Seed, o.id), meta: o.meta, tier: tierDisk,
			gen: o.gen, bodyLen: o.bodyLen, size: fileSize(o.id, o.meta, o.bodyLen)}
		if old := s.index[o.id]; old != nil {
			s.drop(old, &c)
		}
		s.index[o.id] = e
		s.evicted(s.disk.addMain(e, nil), &c)
	}
	s.sk.ensureCapacity(len(s.index))
	s.after(c)
	s.log.Info("cachestore: disk tier reopened", "dir", s.opts.Dir, "objects", len(s.index), "bytes", s.disk.bytes())
	return nil
}

// tmpPath returns a fresh temporary file path and its generation, whose
// fan-out directory it creates when missing.
func (s *Store) tmpPath() (string, uint64, error) {
	g := s.gen.Add(1)
	if sub := &s.subdirs[g&255]; !sub.Load() {
		if err := os.MkdirAll(filepath.Dir(objectPath(s.objDir, g)), 0o755); err != nil {
			return "", 0, fmt.Errorf("cachestore: creating a fan-out directory: %w", err)
		}
		sub.Store(true)
	}
	return filepath.Join(s.tmpDir, fmt.Sprintf("%x%s", g, tmpSuffix)), g, nil
}

// worker runs demotions and promotions until Close.
func (s *Store) worker() {
	defer s.wg.Done()
	for j := range s.work {
		if j.promote {
			s.promote(j.e)
		} else {
			s.demote(j.e)
		}
	}
}

// demote writes a memory object queued for the disk tier to a file and
// moves it there, unless it was replaced or deleted meanwhile.
func (s *Store) demote(e *entry) {
	s.mu.Lock()
	if s.index[e.id] != e || e.tier != tierDemoting {
		s.mu.Unlock()
		return
	}
	meta, body := e.meta, e.mem.data
	s.mu.Unlock()
	tmp, gen, err := s.tmpPath()
	if err == nil {
		err = writeObjectFile(tmp, objectPath(s.objDir, gen), e.id, meta, body)
	}
	if err != nil {
		s.log.Warn("cachestore: demoting to disk failed", "id", e.id, "err", err)
		s.mu.Lock()
		if s.index[e.id] == e && e.tier == tierDemoting {
			s.drop(e, &cleanup{})
		}
		s.mu.Unlock()
		return
	}
	s.mu.Lock()
	if s.index[e.id] != e || e.tier != tierDemoting {
		s.mu.Unlock()
		s.unlink([]uint64{gen})
		return
	}
	s.demotingBytes -= e.size
	e.tier, e.gen, e.bodyLen, e.mem = tierDisk, gen, int64(len(body)), nil
	e.size = fileSize(e.id, meta, e.bodyLen)
	out, _ := s.disk.add(e, nil)
	var c cleanup
	s.evicted(out, &c)
	stale := s.index[e.id] == e && !sameBytes(e.meta, meta)
	s.mu.Unlock()
	s.after(c)
	if stale {
		s.persistMeta(e) // SetMeta ran while the file was written
	}
}

// promote reads a disk object into memory and moves it to the memory
// tier, if it is unchanged and the memory tier still admits it.
func (s *Store) promote(e *entry) {
	s.mu.Lock()
	if s.index[e.id] != e || e.tier != tierPromoting {
		s.mu.Unlock()
		return
	}
	path, off, n := objectPath(s.objDir, e.gen), headerSize+int64(len(e.id)), e.bodyLen
	s.mu.Unlock()
	body, err := readBody(path, off, n)
	s.mu.Lock()
	if s.index[e.id] != e || e.tier != tierPromoting {
		s.mu.Unlock()
		return
	}
	cost := memCost(e.id, e.meta, n)
	if err != nil || !s.mem.wouldAdmit(e.hash, cost) {
		e.tier = tierDisk
		s.mu.Unlock()
		return
	}
	s.disk.remove(e)
	gen := e.gen
	e.tier, e.mem, e.size, e.gen, e.bodyLen = tierMemory, &memBody{data: body}, cost, 0, 0
	c := cleanup{files: []uint64{gen}}
	s.evicted(s.mem.admitMain(e, nil), &c)
	s.mu.Unlock()
	s.after(c)
}

// readBody reads n body bytes at off from the file at path.
func readBody(path string, off, n int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, n)
	if _, err := f.ReadAt(b, off); err != nil && !(n == 0) {
		return nil, err
	}
	return b, nil
}

func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// lockDir takes Dir's lock (an flock on Dir/lock, a file left in place):
// one Store per directory, across processes; the lock goes with the
// process.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cachestore: Dir: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: %s: %v", ErrLocked, dir, err)
	}
	return f, nil
}
