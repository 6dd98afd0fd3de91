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
	ids  map[string][]string // variant id -> its tags
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
	return &index{keys: map[string]*keyEntry{}, tags: map[string]map[string]struct{}{}, ids: map[string][]string{}}
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
	if len(m.tags) > 0 {
		x.ids[id] = m.tags
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
	for _, t := range x.ids[id] {
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
	x.ids = map[string][]string{}
}
