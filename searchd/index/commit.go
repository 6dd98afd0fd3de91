package index

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"sync"
)

// File is a file of a commit point.
type File struct {
	Name string
	Size int64
}

// Commit refreshes, fsyncs every segment file and writes a new commit point
// holding userData; after a crash, Open returns to the last commit. Older
// commit points are deleted (unless pinned by CommitFiles), and with them
// the files only they named.
func (w *Writer) Commit(userData map[string]string) error {
	w.refreshMu.Lock()
	defer w.refreshMu.Unlock()
	if err := w.refreshLocked(); err != nil {
		return err
	}

	type pending struct {
		st     *segState
		del    *delSet
		delVer int64
		sync   bool
	}
	w.mu.Lock()
	gen := int64(1)
	if w.commit != nil {
		gen = w.commit.Gen + 1
	}
	c := &commitPoint{Gen: gen, NextSeg: w.nextSeg, UserData: maps.Clone(userData)}
	var work []pending
	for _, st := range w.segs {
		p := pending{st: st, sync: !st.synced}
		cs := commitSegment{Num: st.seg.num, MaxDoc: st.seg.meta.MaxDoc, DelGen: st.delGen}
		if st.delVer != st.delSaved && st.del.count() > 0 {
			st.shared = true
			p.del, p.delVer = st.del, st.delVer
			cs.DelGen = gen
		} else if st.del.count() == 0 {
			cs.DelGen = 0
		}
		st.seg.incRef()
		work = append(work, p)
		c.Segments = append(c.Segments, cs)
	}
	w.mu.Unlock()
	defer func() {
		for _, p := range work {
			p.st.seg.decRef()
		}
	}()

	dir := w.opts.Dir
	for i, p := range work {
		if p.sync {
			if err := syncFile(filepath.Join(dir, p.st.seg.name)); err != nil {
				return fmt.Errorf("index: commit: %w", err)
			}
		}
		if p.del != nil {
			if err := writeDelFile(dir, delFileName(c.Segments[i].Num, gen), p.del); err != nil {
				os.Remove(filepath.Join(dir, delFileName(c.Segments[i].Num, gen)))
				return fmt.Errorf("index: commit: %w", err)
			}
		}
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("index: commit: %w", err)
	}
	if err := writeCommitPoint(dir, c); err != nil {
		for i, p := range work {
			if p.del != nil {
				os.Remove(filepath.Join(dir, delFileName(c.Segments[i].Num, gen)))
			}
		}
		return err
	}
	w.files.incRef(c.files()...)

	w.mu.Lock()
	for i, p := range work {
		p.st.synced = true
		if p.del != nil {
			p.st.delGen = gen
			p.st.delSaved = p.delVer
		} else {
			p.st.delGen = c.Segments[i].DelGen
		}
	}
	old := w.commit
	w.commit = c
	w.mu.Unlock()
	if old != nil {
		w.files.decRef(old.files()...)
	}
	return nil
}

// CommitData returns the user data of the last commit (nil when none).
func (w *Writer) CommitData() map[string]string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.commit == nil {
		return nil
	}
	return maps.Clone(w.commit.UserData)
}

// CommitFiles pins the last commit point and returns its files (names
// relative to Dir, with sizes; the commit point file last) and its user
// data, for copying to another node: written into an empty directory,
// they are an index Open opens at that commit. release unpins it (merges
// may then delete the files). With no commit yet, files is empty.
func (w *Writer) CommitFiles() (files []File, userData map[string]string, release func(), err error) {
	w.mu.Lock()
	c := w.commit
	if w.closed {
		w.mu.Unlock()
		return nil, nil, nil, ErrClosed
	}
	if c == nil {
		w.mu.Unlock()
		return nil, nil, func() {}, nil
	}
	names := c.files()
	w.files.incRef(names...)
	w.mu.Unlock()
	var once sync.Once
	release = func() { once.Do(func() { w.files.decRef(names...) }) }
	for _, n := range names {
		fi, err := os.Stat(filepath.Join(w.opts.Dir, n))
		if err != nil {
			release()
			return nil, nil, nil, fmt.Errorf("index: commit files: %w", err)
		}
		files = append(files, File{Name: n, Size: fi.Size()})
	}
	return files, maps.Clone(c.UserData), release, nil
}
