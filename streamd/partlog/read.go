package partlog

import (
	"fmt"

	"cairn.dev/cairn/streamd/record"
)

// Read returns whole batches: the one holding offset (or the first after it,
// when compaction emptied it) and those after it, while their base offset is
// below limit, at least one even if larger than maxBytes, then stopping
// before maxBytes would be exceeded. It returns ErrOffsetOutOfRange when
// offset < StartOffset or > EndOffset, and nothing at EndOffset or when the
// first batch's base is not below limit. It reads the files with one pread
// per segment touched (two when the first batch is larger than the read
// ahead), never a copy kept in memory, into a new buffer the caller owns. It
// is safe concurrently with appends and other reads.
func (l *Log) Read(offset int64, maxBytes int, limit int64) ([]byte, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if err := l.usable(); err != nil {
		return nil, err
	}
	if offset < l.start || offset > l.end {
		return nil, fmt.Errorf("%w: %d not in [%d, %d]", ErrOffsetOutOfRange, offset, l.start, l.end)
	}
	if offset == l.end || offset >= limit {
		return nil, nil
	}
	maxBytes = max(maxBytes, 0)
	i := l.segmentFor(offset)
	var out []byte
	for ; i < len(l.segs); i++ {
		s := l.segs[i]
		from, ahead := int64(0), int64(0)
		if len(out) == 0 && offset > s.base {
			from = s.lookup(offset)
			ahead = l.interval + record.HeaderSize
		}
		n := min(s.size-from, int64(maxBytes-len(out))+ahead)
		if len(out) == 0 {
			n = max(n, min(s.size-from, record.HeaderSize))
		}
		if n <= 0 {
			break
		}
		buf := make([]byte, n)
		if _, err := s.log.ReadAt(buf, from); err != nil {
			return nil, err
		}
		take, done, err := l.pick(s, buf, from, offset, limit, maxBytes-len(out), len(out) == 0)
		if err != nil {
			return nil, err
		}
		if out == nil {
			out = take
		} else {
			out = append(out, take...)
		}
		if done {
			break
		}
	}
	return out, nil
}

// pick selects from buf, read from s at position from, the batches to
// return: those ending after offset, while base < limit and they fit in
// room (the first one regardless, when first). A first batch cut off by the
// end of buf is read whole with a second pread. done says the read is over
// (a batch did not fit, hit the limit, or the buffer ended before the
// segment did).
func (l *Log) pick(s *segment, buf []byte, from, offset, limit int64, room int, first bool) (take []byte, done bool, err error) {
	start, end := -1, 0
	rest := buf
	pos := 0
	for len(rest) > 0 {
		b, r, nerr := record.Next(rest)
		if nerr != nil { // cut off by the end of the read
			if first && start < 0 {
				// The batch holding offset is not whole in buf: it is bigger
				// than the read ahead (or the index is sparser than the
				// interval). Find it and read it alone.
				at, size := int64(-1), 0
				if _, err := scanBatches(s.log, from+int64(pos), s.size, false, func(b record.Batch, bp int64) bool {
					if b.NextOffset() > offset {
						at, size = bp, len(b)
						return false
					}
					return true
				}); err != nil {
					return nil, true, err
				}
				if at < 0 {
					return nil, true, nil
				}
				whole := make([]byte, size)
				if _, err := s.log.ReadAt(whole, at); err != nil {
					return nil, true, err
				}
				if record.Batch(whole).BaseOffset() >= limit {
					return nil, true, nil
				}
				return whole, true, nil
			}
			return buf[max(start, 0):end], true, nil
		}
		if b.NextOffset() <= offset {
			pos += len(b)
			rest = r
			continue
		}
		if b.BaseOffset() >= limit {
			return buf[max(start, 0):end], true, nil
		}
		if start < 0 {
			start = pos
		}
		if pos+len(b)-start > room && !(first && pos == start) {
			return buf[start:end], true, nil
		}
		pos += len(b)
		end = pos
		rest = r
	}
	if start < 0 {
		return nil, from+int64(len(buf)) < s.size, nil
	}
	return buf[start:end], from+int64(len(buf)) < s.size || end-start >= room, nil
}

// segmentFor is the index of the segment holding offset: the last with
// base <= offset. The caller holds mu.
func (l *Log) segmentFor(offset int64) int {
	lo, hi := 0, len(l.segs)
	for hi-lo > 1 {
		m := (lo + hi) / 2
		if l.segs[m].base <= offset {
			lo = m
		} else {
			hi = m
		}
	}
	return lo
}

// OffsetForTime is the offset of the first record whose timestamp is >= ts
// (unix milliseconds), EndOffset when there is none. It finds the segment by
// its largest timestamp and the place in it by the time index, then reads
// forward.
func (l *Log) OffsetForTime(ts int64) (int64, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if err := l.usable(); err != nil {
		return 0, err
	}
	for _, s := range l.segs {
		if s.maxTS < ts {
			continue
		}
		found := int64(-1)
		var rerr error
		_, err := scanBatches(s.log, s.timeLookup(ts), s.size, false, func(b record.Batch, _ int64) bool {
			if b.MaxTimestamp() < ts {
				return true
			}
			rerr = b.Records(func(r record.Record) bool {
				if r.Timestamp >= ts {
					found = r.Offset
					return false
				}
				return true
			})
			return found < 0 && rerr == nil
		})
		if err != nil {
			return 0, err
		}
		if rerr != nil {
			return 0, rerr
		}
		if found >= 0 {
			return max(found, l.start), nil
		}
	}
	return l.end, nil
}
