package volume

import (
	"context"
	"os"
	"slices"
	"time"
)

// ScrubResult counts what a Scrub checked.
type ScrubResult struct {
	Needles int64 // live needles checked
	Bytes   int64 // bytes read
	Corrupt int64 // needles that failed their checks
}

// located is a needle id with its map entry.
type located struct {
	nid uint64
	e   entry
}

// snapshot returns v's entries sorted by offset (live ones only when
// liveOnly), with v's .dat end, generation and a new descriptor of the .dat
// file as of the snapshot (which a later compaction does not disturb; the
// caller closes it). The caller must not hold mu.
func (v *volume) snapshot(liveOnly bool, open bool) (ents []located, end int64, f *os.File, err error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	if v.closed {
		return nil, 0, nil, ErrClosed
	}
	for nid, e := range v.m {
		if liveOnly && e.deleted() {
			continue
		}
		ents = append(ents, located{nid, e})
	}
	slices.SortFunc(ents, func(a, b located) int { return int(a.e.off() - b.e.off()) })
	if open {
		if f, err = os.Open(datPath(v.dir, v.id)); err != nil {
			return nil, 0, nil, err
		}
	}
	return ents, v.end, f, nil
}

// Scrub re-reads every live needle of volume vid (as of the call) and checks
// its header and data CRC, to find bitrot. fn, if not nil, is called for
// every needle checked with nil or its *CorruptError (errors.Is ErrCorrupt).
// Options.ScrubBytesPerSec paces it. It runs alongside every other
// operation, reading the file through its own descriptor; it stops early
// with ctx's error, or with a read error that is not a needle's damage.
func (s *Store) Scrub(ctx context.Context, vid uint32, fn func(nid uint64, err error)) (ScrubResult, error) {
	var res ScrubResult
	v, err := s.volume(vid)
	if err != nil {
		return res, err
	}
	ents, end, f, err := v.snapshot(true, true)
	if err != nil {
		return res, err
	}
	defer f.Close()
	bufp := getBuf()
	defer putBuf(bufp)
	start := time.Now()
	rate := s.opts.ScrubBytesPerSec
	var timer *time.Timer
	for _, l := range ents {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		h, err := v.checkNeedle(f, l.e.off(), end, *bufp)
		if err == nil && (h.nid != l.nid || h.cookie != l.e.cookie || h.size != l.e.size || h.crc != l.e.crc || h.flags != l.e.flags) {
			err = v.corrupt(l.nid, l.e, "needle header does not match the index")
		}
		if ce, ok := err.(*CorruptError); ok {
			ce.Needle = l.nid
		}
		res.Needles++
		res.Bytes += needleLen(l.e.size)
		if err != nil {
			res.Corrupt++
			v.logger.Error("volume: scrub found a damaged needle", "needle", l.nid, "err", err)
		}
		if fn != nil {
			fn(l.nid, err)
		}
		if rate > 0 {
			due := time.Duration(float64(res.Bytes) / float64(rate) * float64(time.Second))
			if ahead := due - time.Since(start); ahead > time.Millisecond {
				if timer == nil {
					timer = time.NewTimer(ahead)
					defer timer.Stop()
				} else {
					timer.Reset(ahead)
				}
				select {
				case <-ctx.Done():
					return res, ctx.Err()
				case <-timer.C:
				}
			}
		}
	}
	return res, nil
}
