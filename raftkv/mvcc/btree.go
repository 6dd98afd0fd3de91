package mvcc

import (
	"bytes"
	"sort"
)

// btree is an in-memory B-tree of *keyIndex ordered by key, the ordered part of
// the key index. It supports lookup, insertion and in-order iteration from a
// key; keys are only removed by building a new tree (see index.compacted), so
// there is no delete.
//
// btree does no locking: the owner serializes mutations against reads.
type btree struct {
	root *bnode
	n    int
}

// btreeMaxItems is the most items a node holds. It is odd so that a full node
// splits into two halves around its median.
const btreeMaxItems = 63

// bnode is a B-tree node. A leaf has no children; an inner node has
// len(items)+1 children, children[i] holding the keys between items[i-1] and
// items[i].
type bnode struct {
	items    []*keyIndex
	children []*bnode
}

func (n *bnode) leaf() bool { return n.children == nil }

// search returns the position of the first item whose key is >= key and
// whether that item's key equals key.
func (n *bnode) search(key []byte) (int, bool) {
	i := sort.Search(len(n.items), func(i int) bool { return bytes.Compare(n.items[i].key, key) >= 0 })
	return i, i < len(n.items) && bytes.Equal(n.items[i].key, key)
}

// len returns the number of items in the tree.
func (t *btree) len() int { return t.n }

// get returns the item with key, or nil.
func (t *btree) get(key []byte) *keyIndex {
	for n := t.root; n != nil; {
		i, found := n.search(key)
		if found {
			return n.items[i]
		}
		if n.leaf() {
			return nil
		}
		n = n.children[i]
	}
	return nil
}

// insert adds ki, whose key must not be in the tree yet.
func (t *btree) insert(ki *keyIndex) {
	t.n++
	if t.root == nil {
		t.root = &bnode{items: []*keyIndex{ki}}
		return
	}
	if len(t.root.items) == btreeMaxItems {
		median, right := t.root.split()
		t.root = &bnode{items: []*keyIndex{median}, children: []*bnode{t.root, right}}
	}
	// Full nodes are split on the way down, so a leaf always has room.
	n := t.root
	for {
		i, _ := n.search(ki.key)
		if n.leaf() {
			n.items = append(n.items, nil)
			copy(n.items[i+1:], n.items[i:])
			n.items[i] = ki
			return
		}
		if len(n.children[i].items) == btreeMaxItems {
			median, right := n.children[i].split()
			n.items = append(n.items, nil)
			copy(n.items[i+1:], n.items[i:])
			n.items[i] = median
			n.children = append(n.children, nil)
			copy(n.children[i+2:], n.children[i+1:])
			n.children[i+1] = right
			if bytes.Compare(ki.key, median.key) > 0 {
				i++
			}
		}
		n = n.children[i]
	}
}

// split cuts the full node n around its median: n keeps the lower half and the
// upper half moves to a new node. It returns the median and the new node.
func (n *bnode) split() (*keyIndex, *bnode) {
	const mid = btreeMaxItems / 2
	median := n.items[mid]
	right := &bnode{items: append(make([]*keyIndex, 0, btreeMaxItems), n.items[mid+1:]...)}
	clear(n.items[mid:])
	n.items = n.items[:mid]
	if !n.leaf() {
		right.children = append(make([]*bnode, 0, btreeMaxItems+1), n.children[mid+1:]...)
		clear(n.children[mid+1:])
		n.children = n.children[:mid+1]
	}
	return median, right
}

// ascend calls fn, in key order, for every item whose key is >= start (every
// item when start is empty), until fn returns false.
func (t *btree) ascend(start []byte, fn func(*keyIndex) bool) {
	if t.root != nil {
		t.root.ascend(start, fn)
	}
}

func (n *bnode) ascend(start []byte, fn func(*keyIndex) bool) bool {
	i := 0
	if len(start) > 0 {
		i, _ = n.search(start)
	}
	for ; i < len(n.items); i++ {
		if !n.leaf() && !n.children[i].ascend(start, fn) {
			return false
		}
		// Everything after items[i] is above start.
		start = nil
		if !fn(n.items[i]) {
			return false
		}
	}
	if !n.leaf() {
		return n.children[len(n.items)].ascend(start, fn)
	}
	return true
}
