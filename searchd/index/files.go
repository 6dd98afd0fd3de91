package index

import (
	"os"
	"path/filepath"
	"sync"
)

// fileRefs counts who needs each file of Dir: a live segment (open by the
// writer, a reader or a merge) holds its file; a commit point (the last
// one, and any pinned by CommitFiles) holds every file it names. A file is
// deleted when its count drops to zero.
type fileRefs struct {
	dir  string
	mu   sync.Mutex // guards refs
	refs map[string]int
}

func newFileRefs(dir string) *fileRefs {
	return &fileRefs{dir: dir, refs: map[string]int{}}
}

func (f *fileRefs) incRef(names ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, n := range names {
		f.refs[n]++
	}
}

func (f *fileRefs) decRef(names ...string) {
	f.mu.Lock()
	var gone []string
	for _, n := range names {
		f.refs[n]--
		if f.refs[n] <= 0 {
			delete(f.refs, n)
			gone = append(gone, n)
		}
	}
	f.mu.Unlock()
	for _, n := range gone {
		os.Remove(filepath.Join(f.dir, n))
	}
}
