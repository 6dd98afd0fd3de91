package cachestore

import (
	"bufio"
	"fmt"
	"os"

	"cairn.dev/cairn/gatewayd/httpcache"
)

// memWriter collects a body in memory. With an unknown size it hands over
// to a diskWriter when the body outgrows MaxMemoryObject (ErrTooLarge
// without a disk tier). Not safe for concurrent use (one writer per object).
type memWriter struct {
	s     *Store
	id    string
	meta  []byte
	size  int64 // declared, -1 unknown
	buf   []byte
	spill *diskWriter
	err   error
	done  bool
}

func (w *memWriter) Write(p []byte) (int, error) {
	if w.done {
		return 0, fmt.Errorf("cachestore: write after Commit or Abort")
	}
	if w.err != nil {
		return 0, w.err
	}
	if w.spill != nil {
		return w.spill.Write(p)
	}
	n := int64(len(w.buf)) + int64(len(p))
	if w.size >= 0 && n > w.size {
		w.err = fmt.Errorf("%w: more than %d bytes written", ErrSize, w.size)
		return 0, w.err
	}
	if w.size < 0 && n > w.s.opts.MaxMemoryObject {
		if !w.s.hasDisk {
			w.err = fmt.Errorf("cachestore: body over %d bytes, the limit (MaxMemoryObject, no disk tier): %w",
				w.s.opts.MaxMemoryObject, httpcache.ErrTooLarge)
			w.buf = nil
			return 0, w.err
		}
		d, err := w.s.newDiskWriter(w.id, w.meta, -1, w.buf)
		w.buf = nil
		if err != nil {
			w.err = err
			return 0, err
		}
		w.spill = d
		return d.Write(p)
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}

// Commit stores the body in the memory tier (or, after a spill, on disk).
func (w *memWriter) Commit() error {
	if w.done {
		return fmt.Errorf("cachestore: Commit after Commit or Abort")
	}
	w.done = true
	if w.spill != nil {
		return w.spill.Commit()
	}
	if w.err != nil {
		return w.err
	}
	if w.size >= 0 && int64(len(w.buf)) != w.size {
		return fmt.Errorf("%w: %d of %d bytes written", ErrSize, len(w.buf), w.size)
	}
	s := w.s
	e := &entry{id: w.id, hash: hashString(s.opts.Seed, w.id), meta: w.meta, tier: tierMemory,
		mem: &memBody{data: w.buf}, size: memCost(w.id, w.meta, int64(len(w.buf)))}
	w.buf = nil
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	c, ok := s.install(e)
	s.mu.Unlock()
	s.after(c)
	if !ok {
		return fmt.Errorf("cachestore: %q: %w", w.id, httpcache.ErrNotAdmitted)
	}
	return nil
}

func (w *memWriter) Abort() {
	if w.done {
		return
	}
	w.done = true
	w.buf = nil
	if w.spill != nil {
		w.spill.Abort()
	}
}

// diskWriter streams a body into a temporary file, renamed into the disk
// tier at Commit. Not safe for concurrent use.
type diskWriter struct {
	s       *Store
	id      string
	meta    []byte
	size    int64 // declared, -1 unknown
	gen     uint64
	tmp     string
	f       *os.File
	bw      *bufio.Writer
	written int64
	err     error
	done    bool
}

// newDiskWriter creates the temporary file and writes the header
// placeholder, the id and prefix (bytes already received).
func (s *Store) newDiskWriter(id string, meta []byte, size int64, prefix []byte) (*diskWriter, error) {
	tmp, gen, err := s.tmpPath()
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cachestore: creating a disk object: %w", err)
	}
	w := &diskWriter{s: s, id: id, meta: meta, size: size, gen: gen, tmp: tmp, f: f, bw: bufio.NewWriterSize(f, 64<<10)}
	w.bw.Write(make([]byte, headerSize))
	w.bw.WriteString(id)
	if _, err := w.Write(prefix); err != nil {
		w.Abort()
		return nil, err
	}
	return w, nil
}

func (w *diskWriter) Write(p []byte) (int, error) {
	if w.done {
		return 0, fmt.Errorf("cachestore: write after Commit or Abort")
	}
	if w.err != nil {
		return 0, w.err
	}
	n := w.written + int64(len(p))
	if w.size >= 0 && n > w.size {
		w.err = fmt.Errorf("%w: more than %d bytes written", ErrSize, w.size)
		return 0, w.err
	}
	if lim := w.s.opts.maxDiskObject(); n > lim {
		w.err = fmt.Errorf("cachestore: body over %d bytes, the limit (DiskBytes/4): %w", lim, httpcache.ErrTooLarge)
		return 0, w.err
	}
	if _, err := w.bw.Write(p); err != nil {
		w.err = fmt.Errorf("cachestore: writing a disk object: %w", err)
		return 0, w.err
	}
	w.written = n
	return len(p), nil
}

// Commit completes the file (meta, header), renames it into the disk tier
// and installs it, unless the disk tier's admission refuses it.
func (w *diskWriter) Commit() error {
	if w.done {
		return fmt.Errorf("cachestore: Commit after Commit or Abort")
	}
	err := w.finish()
	w.done = true
	if err != nil {
		w.f.Close()
		os.Remove(w.tmp)
		return err
	}
	s := w.s
	if err := os.Rename(w.tmp, objectPath(s.objDir, w.gen)); err != nil {
		os.Remove(w.tmp)
		return fmt.Errorf("cachestore: committing a disk object: %w", err)
	}
	e := &entry{id: w.id, hash: hashString(s.opts.Seed, w.id), meta: w.meta, tier: tierDisk,
		gen: w.gen, bodyLen: w.written, size: fileSize(w.id, w.meta, w.written)}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.unlink([]uint64{w.gen})
		return ErrClosed
	}
	c, ok := s.install(e)
	s.mu.Unlock()
	s.after(c)
	if !ok {
		return fmt.Errorf("cachestore: %q: %w", w.id, httpcache.ErrNotAdmitted)
	}
	return nil
}

// finish checks the size and writes the meta and the header, then closes the file.
func (w *diskWriter) finish() error {
	if w.err != nil {
		return w.err
	}
	if w.size >= 0 && w.written != w.size {
		return fmt.Errorf("%w: %d of %d bytes written", ErrSize, w.written, w.size)
	}
	if _, err := w.bw.Write(w.meta); err != nil {
		return fmt.Errorf("cachestore: writing a disk object: %w", err)
	}
	if err := w.bw.Flush(); err != nil {
		return fmt.Errorf("cachestore: writing a disk object: %w", err)
	}
	if _, err := w.f.WriteAt(encodeHeader(w.id, w.meta, w.written), 0); err != nil {
		return fmt.Errorf("cachestore: writing a disk object: %w", err)
	}
	if err := w.f.Close(); err != nil {
		return fmt.Errorf("cachestore: writing a disk object: %w", err)
	}
	return nil
}

func (w *diskWriter) Abort() {
	if w.done {
		return
	}
	w.done = true
	w.f.Close()
	os.Remove(w.tmp)
}
