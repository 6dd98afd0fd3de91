package cachestore

import "sync"

// tier says where an entry's body lives.
type tier uint8

const (
	tierMemory    tier = iota + 1 // body in memory, in the memory policy
	tierDemoting                  // body in memory, queued for the disk tier, in no policy
	tierPromoting                 // on disk (in the disk policy), being read into memory
	tierDisk                      // body in a file, in the disk policy
)

// segment is the policy list an entry is on.
type segment uint8

const (
	segNone segment = iota
	segWindow
	segProbation
	segProtected
)

// entry is one stored object. Its fields are guarded by the Store's mutex,
// except that meta and mem are replaced, never modified, so a reader may
// keep them after unlocking.
type entry struct {
	id   string
	hash uint64
	size int64 // bytes charged to its tier
	meta []byte
	tier tier

	// memory tier (and demoting)
	mem *memBody

	// disk tier
	gen     uint64 // file generation: the file is Dir/objects/<gen%256>/<gen>.obj
	bodyLen int64
	fileMu  sync.Mutex // serialises meta rewrites of the file (not guarded by the Store mutex)

	// policy links
	seg        segment
	prev, next *entry
}

// list is a doubly linked LRU list of entries with a byte total; front is
// the most recently used.
type list struct {
	root  entry // sentinel
	bytes int64
	n     int
}

func (l *list) init() { l.root.next, l.root.prev = &l.root, &l.root }

func (l *list) pushFront(e *entry) {
	e.prev, e.next = &l.root, l.root.next
	l.root.next.prev = e
	l.root.next = e
	l.bytes += e.size
	l.n++
}

func (l *list) remove(e *entry) {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
	l.bytes -= e.size
	l.n--
}

func (l *list) moveToFront(e *entry) {
	if l.root.next == e {
		return
	}
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = &l.root, l.root.next
	l.root.next.prev = e
	l.root.next = e
}

// back returns the least recently used entry, nil when empty.
func (l *list) back() *entry {
	if l.n == 0 {
		return nil
	}
	return l.root.prev
}
