package client

import "container/list"

// lru is a map of at most max entries that drops the least recently used one
// to make room. It is not safe for concurrent use.
type lru struct {
	max   int
	ll    *list.List               // front is the most recently used
	items map[string]*list.Element // values are *lruEntry
}

type lruEntry struct {
	key string
	val []byte
}

func newLRU(max int) *lru {
	return &lru{max: max, ll: list.New(), items: map[string]*list.Element{}}
}

func (l *lru) get(key string) ([]byte, bool) {
	e, ok := l.items[key]
	if !ok {
		return nil, false
	}
	l.ll.MoveToFront(e)
	return e.Value.(*lruEntry).val, true
}

func (l *lru) add(key string, val []byte) {
	if e, ok := l.items[key]; ok {
		e.Value.(*lruEntry).val = val
		l.ll.MoveToFront(e)
		return
	}
	l.items[key] = l.ll.PushFront(&lruEntry{key, val})
	for l.ll.Len() > l.max {
		old := l.ll.Back()
		l.ll.Remove(old)
		delete(l.items, old.Value.(*lruEntry).key)
	}
}

func (l *lru) remove(key string) {
	if e, ok := l.items[key]; ok {
		l.ll.Remove(e)
		delete(l.items, key)
	}
}

func (l *lru) clear() {
	l.ll.Init()
	clear(l.items)
}

func (l *lru) len() int { return l.ll.Len() }
