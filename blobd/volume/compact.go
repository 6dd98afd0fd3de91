package volume

import (
	"fmt"
	"hash/crc32"
	"os"

	"cairn.dev/cairn/node/boltfile"
)

// Compact rewrites volume vid without the data of deleted needles: live
// needles and tombstones (header only) go into new files of the next
// generation, which are fsynced and then renamed over the old ones, so a
// crash leaves the old volume or the new one (a crash between the two
// renames leaves the new .dat beside the old .idx, whose generation differs:
// Open then rebuilds the index by a scan). Reads, Sync and writes go on
// while the live needles are copied; writes and deletes wait only for the
// final pass, which copies what they added meanwhile. Every needle copied is
// checked first: a damaged one stops the compaction with its *CorruptError
// and leaves the volume as it was (repair it, then compact). Compact
// serialises with itself and Drop.
func (s *Store) Compact(vid uint32) error {
	v, err := s.volume(vid)
	if err != nil {
		return err
	}
	v.compactMu.Lock()
	defer v.compactMu.Unlock()
	v.mu.RLock()
	err = v.usable()
	sb, oldDat := v.sb, v.dat
	v.mu.RUnlock()
	if err != nil {
		return err
	}
	ents, _, _, err := v.snapshot(false, false)
	if err != nil {
		return err
	}
	datTmp, idxTmp := datPath(s.dir, vid)+compactSuffix, idxPath(s.dir, vid)+compactSuffix
	os.Remove(datTmp) // a stale one from an earlier failed attempt
	nsb := super{vid: vid, generation: sb.generation + 1, created: sb.created}
	dat, idx, err := createFiles(datTmp, idxTmp, nsb)
	if err != nil {
		return fmt.Errorf("volume: compact %d: %w", vid, err)
	}
	nv := newVolume(s.dir, vid, &s.opts)
	nv.sb, nv.dat, nv.idx, nv.end, nv.idxEnd = nsb, dat, idx, superLen, superLen
	done := false
	defer func() {
		if !done {
			nv.closeFiles()
			os.Remove(datTmp)
			os.Remove(idxTmp)
		}
	}()
	bufp := getBuf()
	defer putBuf(bufp)
	copied := map[uint64]bool{} // ids copied live in the first pass
	for _, l := range ents {
		if err := v.copyInto(nv, oldDat, l, *bufp); err != nil {
			return err
		}
		if !l.e.deleted() {
			copied[l.nid] = true
		}
	}

	// Final pass: hold writers off, copy what they did meanwhile.
	v.wmu.Lock()
	defer v.wmu.Unlock()
	ents, _, _, err = v.snapshot(false, false)
	if err != nil {
		return err
	}
	for _, l := range ents {
		_, seen := nv.m[l.nid]
		if seen && !(copied[l.nid] && l.e.deleted()) {
			continue
		}
		if seen {
			l.e = entry{flags: flagTombstone} // deleted meanwhile
		}
		if err := v.copyInto(nv, oldDat, l, *bufp); err != nil {
			return err
		}
	}
	if err := fdatasync(dat); err != nil {
		return err
	}
	if err := nv.appendEntry(0, entry{off8: uint32(nv.end / 8), flags: flagSyncMark}); err != nil {
		return err
	}
	if err := fdatasync(idx); err != nil {
		return err
	}

	// Swap: no Sync runs on the old files, no Open of them by a snapshot.
	v.acquireSlot()
	v.idxMu.Lock()
	v.mu.Lock()
	seq := v.seq
	err = os.Rename(datTmp, datPath(s.dir, vid))
	if err != nil {
		v.mu.Unlock()
		v.idxMu.Unlock()
		v.releaseSlot(0, nil)
		return fmt.Errorf("volume: compact %d: %w", vid, err)
	}
	done = true // the new .dat is in place: the volume is the new one
	if rerr := os.Rename(idxTmp, idxPath(s.dir, vid)); rerr != nil {
		err = rerr
	}
	v.dat.Close()
	v.idx.Close()
	v.dat, v.idx, v.sb, v.m, v.end = nv.dat, nv.idx, nv.sb, nv.m, nv.end
	v.live, v.liveBytes, v.deletedBytes, v.tombstones = nv.live, nv.liveBytes, nv.deletedBytes, nv.tombstones
	v.idxEnd, v.marked = nv.idxEnd, nv.end
	v.mu.Unlock()
	v.idxMu.Unlock()
	if err == nil {
		err = boltfile.SyncDir(s.dir)
	}
	if err != nil {
		// On disk: the new .dat, and an index that may be the old one;
		// Open would rebuild it. Stop writing until then.
		err = v.fail(err)
		v.releaseSlot(0, err)
		return err
	}
	v.releaseSlot(seq, nil) // the new files are fsynced: every write is durable
	v.logger.Info("volume: compacted", "generation", nsb.generation, "size", nv.end, "needles", nv.live)
	return nil
}

// copyInto appends l's needle to nv: a tombstone as a header, a live
// needle copied from src through buf after checking it.
func (v *volume) copyInto(nv *volume, src *os.File, l located, buf []byte) error {
	pos := nv.end
	if l.e.deleted() {
		var b [headerLen]byte
		header{nid: l.nid, flags: flagTombstone}.put(b[:])
		if _, err := nv.dat.WriteAt(b[:], pos); err != nil {
			return err
		}
		e := entry{off8: uint32(pos / 8), flags: flagTombstone}
		if err := nv.appendEntry(l.nid, e); err != nil {
			return err
		}
		nv.apply(l.nid, e)
		nv.end = e.needleEnd()
		return nil
	}
	total := needleLen(l.e.size)
	var sum uint32
	for at := int64(0); at < total; {
		b := buf[:min(int64(len(buf)), total-at)]
		if _, err := src.ReadAt(b, l.e.off()+at); err != nil {
			return v.corrupt(l.nid, l.e, fmt.Sprintf("unreadable: %v", err))
		}
		d := b
		if at == 0 {
			if err := v.checkHeader(b, l.nid, l.e); err != nil {
				return err
			}
			d = b[headerLen:]
		}
		dataEnd := headerLen + int64(l.e.size) // data ends here in the needle
		d = d[:max(0, min(int64(len(d)), dataEnd-(at+int64(len(b)-len(d)))))]
		sum = crc32.Update(sum, castagnoli, d)
		if _, err := nv.dat.WriteAt(b, pos+at); err != nil {
			return err
		}
		at += int64(len(b))
	}
	if sum != l.e.crc {
		return v.corrupt(l.nid, l.e, "data crc mismatch")
	}
	e := l.e
	e.off8 = uint32(pos / 8)
	if err := nv.appendEntry(l.nid, e); err != nil {
		return err
	}
	nv.apply(l.nid, e)
	nv.end = pos + total
	return nil
}
