package mvcc

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
	"sync"

	"go.etcd.io/bbolt"
)

// revision locates one record of the revs bucket: the store revision of a
// change and its position among the changes of that revision.
type revision struct {
	rev  int64
	sub  uint32
	tomb bool // the change deleted the key
}

// keyIndex lists the changes of one key still on disk, oldest first.
type keyIndex struct {
	key  []byte
	revs []revision
}

// at returns the change that gives key its value as of rev, and false when the
// key did not exist at rev (no change at or below rev, or a delete).
func (k *keyIndex) at(rev int64) (revision, bool) {
	n := len(k.revs)
	if n == 0 {
		return revision{}, false
	}
	i := n - 1
	if k.revs[i].rev > rev {
		i = sort.Search(n, func(i int) bool { return k.revs[i].rev > rev }) - 1
		if i < 0 {
			return revision{}, false
		}
	}
	if k.revs[i].tomb {
		return revision{}, false
	}
	return k.revs[i], true
}

// current returns the latest change of key when the key exists.
func (k *keyIndex) current() (revision, bool) {
	if k == nil || len(k.revs) == 0 || k.revs[len(k.revs)-1].tomb {
		return revision{}, false
	}
	return k.revs[len(k.revs)-1], true
}

// compactable returns how many of the oldest changes no read at or after
// compactRev needs: every change older than the newest one at or below
// compactRev, and that one too when it is a delete.
func (k *keyIndex) compactable(compactRev int64) int {
	i := sort.Search(len(k.revs), func(i int) bool { return k.revs[i].rev > compactRev }) - 1
	if i < 0 {
		return 0
	}
	if k.revs[i].tomb {
		return i + 1
	}
	return i
}

// index is the in-memory key index: for every key, the revisions of its
// changes still in the revs bucket, plus the keys attached to each lease.
//
// Only ApplyBatch (and Open and Restore, before the index is shared) modify an
// index; it reads the index without locking and takes mu for writing around
// each modification. Every other reader holds mu for reading.
//
// ApplyBatch adds the revisions of a batch before its bbolt commit, so
// readers only use revisions at or below rev, which is published after the
// commit. Compaction is published together with its commit (ApplyBatch holds
// mu across the commit of a batch that compacts), so a reader that starts a
// bbolt read transaction while holding mu always finds, in that transaction,
// every record that reads at revisions in [compactRev, rev] need.
type index struct {
	mu         sync.RWMutex // protects the fields below
	tree       btree
	leases     map[int64]map[string]struct{} // lease id → attached keys
	rev        int64                         // published store revision
	compactRev int64                         // published compact revision
}

// buildIndex builds the index of the store in tx by scanning the revs bucket.
func buildIndex(tx *bbolt.Tx, m meta) (*index, error) {
	ix := &index{leases: map[int64]map[string]struct{}{}, rev: m.rev, compactRev: m.compactRev}
	leaseOf := map[string]int64{} // current lease of every leased key
	c := tx.Bucket(bucketRevs).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		rev, sub, err := parseRecordKey(k)
		if err != nil {
			return nil, err
		}
		if rev > m.rev {
			return nil, fmt.Errorf("%w: record at revision %d above store revision %d", ErrCorrupt, rev, m.rev)
		}
		key, version, lease, err := scanRecord(v)
		if err != nil {
			return nil, err
		}
		ki := ix.tree.get(key)
		if ki == nil {
			ki = &keyIndex{key: bytes.Clone(key)}
			ix.tree.insert(ki)
		}
		ki.revs = append(ki.revs, revision{rev: rev, sub: sub, tomb: version == 0})
		if version > 0 && lease != 0 {
			leaseOf[string(key)] = lease
		} else {
			delete(leaseOf, string(key))
		}
	}
	for key, id := range leaseOf {
		ix.attach(id, key)
	}
	return ix, nil
}

// attach records key as attached to lease id. The caller holds mu for writing
// or owns ix.
func (ix *index) attach(id int64, key string) {
	set := ix.leases[id]
	if set == nil {
		set = map[string]struct{}{}
		ix.leases[id] = set
	}
	set[key] = struct{}{}
}

// detach undoes attach.
func (ix *index) detach(id int64, key string) {
	set := ix.leases[id]
	delete(set, key)
	if len(set) == 0 {
		delete(ix.leases, id)
	}
}

// leaseKeys returns the keys attached to lease id, in key order. The caller
// holds mu for reading, or is ApplyBatch.
func (ix *index) leaseKeys(id int64) []string {
	keys := make([]string, 0, len(ix.leases[id]))
	for k := range ix.leases[id] {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// compacted returns a tree without the changes that no read at or after
// compactRev needs, and without keys left with no change. Unchanged keyIndexes
// are shared with ix.tree, the others are copied, so ix.tree is left intact
// for concurrent readers. The caller is ApplyBatch.
func (ix *index) compacted(compactRev int64) btree {
	var t btree
	ix.tree.ascend(nil, func(ki *keyIndex) bool {
		n := ki.compactable(compactRev)
		switch {
		case n == len(ki.revs):
			// Nothing left: the key was deleted at or before compactRev.
		case n == 0:
			t.insert(ki)
		default:
			t.insert(&keyIndex{key: ki.key, revs: slices.Clone(ki.revs[n:])})
		}
		return true
	})
	return t
}
