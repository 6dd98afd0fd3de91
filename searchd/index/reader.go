package index

import (
	"sync"
	"sync/atomic"
)

// snapshot is the segments and deletes of one refresh, shared by the
// readers acquired from it. It holds a reference on each segment.
type snapshot struct {
	views []*view
	refs  atomic.Int32 // the Writer (while it is the last refresh) and each Reader
}

func (s *snapshot) release() {
	if s.refs.Add(-1) == 0 {
		for _, v := range s.views {
			v.s.decRef()
		}
	}
}

// Reader is a point-in-time view: a fixed list of segments and their live
// docs. Safe for concurrent use until Release.
type Reader struct {
	Segments []Segment

	snap *snapshot
	once sync.Once
}

// Release lets the writer drop the reader's segments once merged away.
// Only the first call counts; the Reader must not be used after.
func (r *Reader) Release() {
	r.once.Do(func() {
		if r.snap != nil {
			r.snap.release()
		}
	})
}

// NumDocs counts live documents.
func (r *Reader) NumDocs() int64 {
	var n int64
	for _, s := range r.Segments {
		n += int64(s.LiveCount())
	}
	return n
}
