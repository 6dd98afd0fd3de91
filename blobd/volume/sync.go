package volume

// acquireSlot waits for, then takes, v's sync slot: the holder alone
// fsyncs v's files or swaps them.
func (v *volume) acquireSlot() {
	v.smu.Lock()
	for v.syncing {
		v.scond.Wait()
	}
	v.syncing = true
	v.smu.Unlock()
}

// releaseSlot frees the slot; if the holder made every write up to seq
// durable (err nil), later callers waiting for those writes return at once.
func (v *volume) releaseSlot(seq uint64, err error) {
	v.smu.Lock()
	v.syncing = false
	if err == nil && seq > v.synced {
		v.synced = seq
	}
	v.scond.Broadcast()
	v.smu.Unlock()
}

// Sync makes every needle and tombstone written to volume vid before the
// call durable: when it returns nil they survive a crash of the process or
// the machine. Concurrent callers share fsyncs (group commit): a caller that
// arrives while an fsync runs waits for it, and one fsync then covers every
// caller waiting. A failed fsync fails the volume (ErrFailed).
func (s *Store) Sync(vid uint32) error {
	v, err := s.volume(vid)
	if err != nil {
		return err
	}
	return v.sync()
}

func (v *volume) sync() error {
	v.mu.RLock()
	target := v.seq
	v.mu.RUnlock()
	v.smu.Lock()
	for {
		if v.synced >= target {
			v.smu.Unlock()
			return nil
		}
		if !v.syncing {
			break
		}
		v.waiters++
		v.scond.Wait()
		v.waiters--
	}
	v.syncing = true
	v.fsyncs++
	v.smu.Unlock()

	v.mu.RLock()
	if err := v.usable(); err != nil {
		v.mu.RUnlock()
		v.releaseSlot(0, err)
		return err
	}
	seq, end, dat, idx := v.seq, v.end, v.dat, v.idx
	v.mu.RUnlock()
	err := fdatasync(dat)
	if err == nil {
		err = fdatasync(idx)
	}
	if err != nil {
		err = v.fail(err)
		v.releaseSlot(0, err)
		return err
	}
	// Record what that fsync covered, so Open trusts it without a check.
	// The mark is durable with the next fsync; until then Open checks more.
	v.idxMu.Lock()
	if end > v.marked {
		if err = v.appendEntry(0, entry{off8: uint32(end / 8), flags: flagSyncMark}); err == nil {
			v.marked = end
		}
	}
	v.idxMu.Unlock()
	if err != nil {
		err = v.fail(err)
		v.releaseSlot(0, err)
		return err
	}
	v.releaseSlot(seq, nil)
	return nil
}
