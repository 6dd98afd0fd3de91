package partlog

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// epochEntry says that leader epoch Epoch's first batch has offset Start.
type epochEntry struct {
	Epoch int32
	Start int64
}

// epochCache is the leader-epoch cache: entries in increasing Epoch and
// Start order. It is not safe for concurrent use; Log guards it with mu.
type epochCache struct {
	entries []epochEntry
}

// assign records that epoch starts at start, when epoch is newer than the
// last one; entries at or after start (left by a truncated log) are dropped
// first.
func (c *epochCache) assign(epoch int32, start int64) bool {
	if n := len(c.entries); n > 0 && c.entries[n-1].Epoch >= epoch && c.entries[n-1].Start <= start {
		return false
	}
	c.truncateFrom(start)
	for n := len(c.entries); n > 0 && c.entries[n-1].Epoch >= epoch; n = len(c.entries) {
		c.entries = c.entries[:n-1]
	}
	c.entries = append(c.entries, epochEntry{epoch, start})
	return true
}

// truncateFrom drops the entries starting at or after end.
func (c *epochCache) truncateFrom(end int64) bool {
	i := len(c.entries)
	for i > 0 && c.entries[i-1].Start >= end {
		i--
	}
	changed := i != len(c.entries)
	c.entries = c.entries[:i]
	return changed
}

// truncateBefore moves the cache's beginning to start: entries wholly before
// it go, the one covering it is moved to start.
func (c *epochCache) truncateBefore(start int64) bool {
	i := 0
	for i+1 < len(c.entries) && c.entries[i+1].Start <= start {
		i++
	}
	changed := i > 0
	c.entries = c.entries[i:]
	if len(c.entries) > 0 && c.entries[0].Start < start {
		c.entries[0].Start = start
		changed = true
	}
	return changed
}

func (c *epochCache) last() int32 {
	if len(c.entries) == 0 {
		return -1
	}
	return c.entries[len(c.entries)-1].Epoch
}

// endFor is Kafka's OffsetsForLeaderEpoch: the largest epoch <= epoch and
// the start of the epoch after it (end when it is the latest); (-1, -1) when
// the cache has no epoch <= epoch.
func (c *epochCache) endFor(epoch int32, end int64) (int32, int64) {
	i := len(c.entries) - 1
	for i >= 0 && c.entries[i].Epoch > epoch {
		i--
	}
	if i < 0 {
		return -1, -1
	}
	if i == len(c.entries)-1 {
		return c.entries[i].Epoch, end
	}
	return c.entries[i].Epoch, c.entries[i+1].Start
}

// encode renders the checkpoint file: a version line, a count line, then
// "epoch start" lines.
func (c *epochCache) encode() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "0\n%d\n", len(c.entries))
	for _, e := range c.entries {
		fmt.Fprintf(&b, "%d %d\n", e.Epoch, e.Start)
	}
	return b.Bytes()
}

// loadEpochCache reads the checkpoint; a missing file is an empty cache, a
// malformed one an error (it is replaced atomically, so that means damage).
func loadEpochCache(path string) (epochCache, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return epochCache{}, nil
	}
	if err != nil {
		return epochCache{}, err
	}
	defer f.Close()
	var c epochCache
	sc := bufio.NewScanner(f)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		return c, err
	}
	bad := func(why string) (epochCache, error) {
		return epochCache{}, fmt.Errorf("partlog: %s: %s", path, why)
	}
	if len(lines) < 2 || lines[0] != "0" {
		return bad("bad header")
	}
	n, err := strconv.Atoi(lines[1])
	if err != nil || n != len(lines)-2 {
		return bad("bad count")
	}
	for _, l := range lines[2:] {
		fs := strings.Fields(l)
		if len(fs) != 2 {
			return bad("bad line " + strconv.Quote(l))
		}
		e, err1 := strconv.ParseInt(fs[0], 10, 32)
		s, err2 := strconv.ParseInt(fs[1], 10, 64)
		if err1 != nil || err2 != nil {
			return bad("bad line " + strconv.Quote(l))
		}
		if k := len(c.entries); k > 0 && (c.entries[k-1].Epoch >= int32(e) || c.entries[k-1].Start > s) {
			return bad("entries out of order")
		}
		c.entries = append(c.entries, epochEntry{int32(e), s})
	}
	return c, nil
}
