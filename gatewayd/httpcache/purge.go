package httpcache

// PurgeKey removes every variant of key, or with soft marks them stale
// (served only through stale-while-revalidate, stale-if-error or grace, and
// revalidated on their next request). It returns how many it removed or
// marked.
func (c *Cache) PurgeKey(key string, soft bool) int {
	return c.purge(func() []string { return c.idx.idsOfKey(key) }, soft)
}

// PurgePrefix purges every key that starts with prefix, like PurgeKey.
func (c *Cache) PurgePrefix(prefix string, soft bool) int {
	return c.purge(func() []string { return c.idx.idsOfPrefix(prefix) }, soft)
}

// PurgeTag purges every response that carried tag in Surrogate-Key, like
// PurgeKey.
func (c *Cache) PurgeTag(tag string, soft bool) int {
	return c.purge(func() []string { return c.idx.idsOfTag(tag) }, soft)
}

// PurgeAll removes everything the storage holds and returns how many
// objects it removed.
func (c *Cache) PurgeAll() int {
	c.purgeMu.Lock()
	defer c.purgeMu.Unlock()
	c.purgeEpoch++
	c.st.purges.Add(1)
	var ids []string
	c.store.Range(func(id string, _ []byte) bool {
		ids = append(ids, id)
		return true
	})
	n := 0
	for _, id := range ids {
		if c.store.Delete(id) {
			n++
		}
	}
	c.idx.reset()
	return n
}

// purge removes (or soft-marks) the ids that match, which it looks up
// under purgeMu: an object a fetch commits before the purge is among
// them, one it would commit after is refused (Cache.purgeMu).
func (c *Cache) purge(match func() []string, soft bool) int {
	c.purgeMu.Lock()
	defer c.purgeMu.Unlock()
	c.purgeEpoch++
	ids := match()
	c.st.purges.Add(1)
	n := 0
	now := c.now()
	for _, id := range ids {
		if !soft {
			if c.store.Delete(id) {
				n++
			}
			c.idx.remove(id)
			continue
		}
		b, body, ok := c.store.Get(id)
		if !ok {
			c.idx.remove(id)
			continue
		}
		body.Close()
		m, err := decodeMeta(b)
		if err != nil {
			c.store.Delete(id)
			c.idx.remove(id)
			continue
		}
		if !m.has(flagSoftPurged) {
			m.flags |= flagSoftPurged
			m.softPurged = now
		}
		if c.store.SetMeta(id, encodeMeta(m)) {
			n++
		}
	}
	return n
}
