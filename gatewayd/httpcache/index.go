package httpcache

import (
	"strings"
	"sync"
	"time"
)

// index maps keys and Surrogate-Key tags to the variant ids stored for
// them. Storage is the source of truth: the index may name ids Storage has
// since evicted (they are dropped when a lookup or purge finds them gone).
// It is rebuilt from Storage.Range when the cache starts.
type index struct {
	mu   sync.RWMutex // protects the fields below
	keys map[string]*keyEntry
	tags map[string]map[string]struct{}
	ids  map[string]idInfo // every indexed variant id
	seq  uint64            // counts adds
}

// idInfo is what the index knows of one variant id.
type idInfo struct {
	tags []string
	seq  uint64 // the add that indexed it last
}

// keyEntry is what the index knows of one key.
type keyEntry struct {
	// vary are the Vary names of the most recent response stored for the
	// key, at varyAt; lookups compute the variant id with them.
	vary   []string
	varyAt time.Time
	ids    map[string]struct{}
}

func newIndex() *index {
	return &index{keys: map[string]*keyEntry{}, tags: map[string]map[string]struct{}{}, ids: map[string]idInfo{}}
}

// varyOf returns the Vary names known for key.
func (x *index) varyOf(key string) []string {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if e := x.keys[key]; e != nil {
		return e.vary
	}
	return nil
}

// add records a stored variant; its Vary names become the key's when its
// response is at least as recent as the one that set them.
func (x *index) add(id string, m *meta) {
	x.mu.Lock()
	defer x.mu.Unlock()
	e := x.keys[m.key]
	if e == nil {
		e = &keyEntry{ids: map[string]struct{}{}}
		x.keys[m.key] = e
	}
	e.ids[id] = struct{}{}
	if !m.respTime.Before(e.varyAt) {
		e.vary, e.varyAt = m.varyNames, m.respTime
	}
	x.untagLocked(id)
	x.seq++
	x.ids[id] = idInfo{tags: m.tags, seq: x.seq}
	if len(m.tags) > 0 {
		for _, t := range m.tags {
			set := x.tags[t]
			if set == nil {
				set = map[string]struct{}{}
				x.tags[t] = set
			}
			set[id] = struct{}{}
		}
	}
}

func (x *index) untagLocked(id string) {
	for _, t := range x.ids[id].tags {
		if set := x.tags[t]; set != nil {
			delete(set, id)
			if len(set) == 0 {
				delete(x.tags, t)
			}
		}
	}
	delete(x.ids, id)
}

// remove forgets a variant id.
func (x *index) remove(id string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.removeLocked(id)
}

func (x *index) removeLocked(id string) {
	x.untagLocked(id)
	key := keyOfID(id)
	if e := x.keys[key]; e != nil {
		delete(e.ids, id)
		if len(e.ids) == 0 {
			delete(x.keys, key)
		}
	}
}

// idsOfKey, idsOfPrefix and idsOfTag list variant ids.
func (x *index) idsOfKey(key string) []string {
	x.mu.RLock()
	defer x.mu.RUnlock()
	var out []string
	if e := x.keys[key]; e != nil {
		for id := range e.ids {
			out = append(out, id)
		}
	}
	return out
}

func (x *index) idsOfPrefix(prefix string) []string {
	x.mu.RLock()
	defer x.mu.RUnlock()
	var out []string
	for key, e := range x.keys {
		if strings.HasPrefix(key, prefix) {
			for id := range e.ids {
				out = append(out, id)
			}
		}
	}
	return out
}

func (x *index) idsOfTag(tag string) []string {
	x.mu.RLock()
	defer x.mu.RUnlock()
	var out []string
	for id := range x.tags[tag] {
		out = append(out, id)
	}
	return out
}

// reset forgets everything.
func (x *index) reset() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.keys = map[string]*keyEntry{}
	x.tags = map[string]map[string]struct{}{}
	x.ids = map[string]idInfo{}
}

// size returns the number of indexed variant ids and the add counter.
func (x *index) size() (int, uint64) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.ids), x.seq
}

// retain forgets the ids indexed before add number before that live does
// not hold (the storage evicted them); ids indexed since are kept, live
// being a snapshot that may predate them.
func (x *index) retain(live map[string]struct{}, before uint64) {
	x.mu.Lock()
	var gone []string
	for id, info := range x.ids {
		if _, ok := live[id]; !ok && info.seq <= before {
			gone = append(gone, id)
		}
	}
	x.mu.Unlock()
	for _, id := range gone {
		x.removeIf(id, before)
	}
}

// removeIf removes id unless it was indexed again after add number before.
func (x *index) removeIf(id string, before uint64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if info, ok := x.ids[id]; !ok || info.seq > before {
		return
	}
	x.removeLocked(id)
}
