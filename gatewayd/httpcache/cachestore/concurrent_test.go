package cachestore

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"cairn.dev/cairn/gatewayd/httpcache"
	"github.com/stretchr/testify/require"
)

// TestConcurrentUse runs Get, Touch, Create (known and unknown sizes,
// memory and disk objects), SetMeta, Delete and Range from several
// goroutines over a small key space, checking that every body read matches
// its meta (meta "v<N>", body bytes all N%251, N unique per write), then
// checks the Store's accounting and files. Writers of one key (Create to
// Commit, Get then SetMeta) hold that key's lock, as the engine coalesces
// them; reads, deletes and other keys run freely.
func TestConcurrentUse(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	dir := t.TempDir()
	o := Options{MemoryBytes: 256 << 10, MaxMemoryObject: 8 << 10, DiskBytes: 2 << 20, Dir: dir, Seed: seed}
	s := openStore(t, o)
	const workers, ops, keys = 8, 500, 64
	var wg sync.WaitGroup
	var nextVersion sync.Mutex
	version := 0
	newVersion := func() int {
		nextVersion.Lock()
		defer nextVersion.Unlock()
		version++
		return version
	}
	var keyMu [keys]sync.Mutex
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			for range ops {
				k := rng.IntN(keys)
				id := fmt.Sprint("k", k)
				switch op := rng.IntN(10); {
				case op < 5:
					meta, b, ok := s.Get(id)
					if !ok {
						s.Touch(id)
						continue
					}
					if err := checkBody(meta, b); err != nil {
						errs <- fmt.Errorf("%s: %w", id, err)
						return
					}
				case op < 8:
					keyMu[k].Lock()
					v := newVersion()
					size := int64(100 + rng.IntN(20<<10))
					if rng.IntN(4) == 0 {
						size = -1
					}
					wr, err := s.Create(id, []byte(fmt.Sprint("v", v)), size)
					if err != nil {
						keyMu[k].Unlock()
						continue
					}
					n := 100 + rng.IntN(20<<10)
					if size >= 0 {
						n = int(size)
					}
					body := bytes.Repeat([]byte{byte(v % 251)}, n)
					_, err1 := wr.Write(body[:n/2])
					_, err2 := wr.Write(body[n/2:])
					if err1 != nil || err2 != nil || rng.IntN(10) == 0 {
						wr.Abort()
					} else {
						wr.Commit()
					}
					keyMu[k].Unlock()
				case op < 9:
					// SetMeta keeps the version (the body is unchanged) but
					// may change the meta's length.
					keyMu[k].Lock()
					if meta, b, ok := s.Get(id); ok {
						b.Close()
						pad := bytes.Repeat([]byte(" "), rng.IntN(50))
						s.SetMeta(id, append(slices.Clone(bytes.TrimRight(meta, " ")), pad...)) // meta is read-only
					}
					keyMu[k].Unlock()
				default:
					if rng.IntN(4) == 0 {
						s.Range(func(string, []byte) bool { return rng.IntN(20) != 0 })
					} else {
						s.Delete(id)
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	idle(t, s)
	checkStore(t, s)
	u := s.Usage()
	t.Logf("usage %+v", u)

	// Everything still readable, and the disk tier survives a restart.
	s.Range(func(id string, _ []byte) bool {
		meta, b, ok := s.Get(id)
		if ok {
			require.NoError(t, checkBody(meta, b), id)
		}
		return true
	})
	require.NoError(t, s.Close())
	s2 := openStore(t, o)
	checkStore(t, s2)
	s2.Range(func(id string, _ []byte) bool {
		meta, b, ok := s2.Get(id)
		require.True(t, ok, id)
		require.NoError(t, checkBody(meta, b), id)
		return true
	})
}

// checkBody checks that b matches meta "v<N>" (padded) and closes it.
func checkBody(meta []byte, b httpcache.Body) error {
	defer b.Close()
	v, err := strconv.Atoi(string(bytes.TrimRight(bytes.TrimPrefix(meta, []byte("v")), " ")))
	if err != nil {
		return fmt.Errorf("meta %q: %w", meta, err)
	}
	p := make([]byte, b.Size())
	if n, err := b.ReadAt(p, 0); n != len(p) {
		return fmt.Errorf("read %d of %d bytes: %w", n, len(p), err)
	}
	for i, c := range p {
		if c != byte(v%251) {
			return fmt.Errorf("%s body byte %d is %d, want %d (tier %s)", meta, i, c, v%251, b.Tier())
		}
	}
	return nil
}

// checkStore checks the Store's invariants: policies and index agree,
// limits hold, exactly the disk entries have files.
func checkStore(t *testing.T, s *Store) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var memBytes, diskBytes int64
	files := map[string]bool{}
	for id, e := range s.index {
		require.Equal(t, id, e.id)
		switch e.tier {
		case tierMemory:
			require.NotEqual(t, segNone, e.seg, id)
			require.Equal(t, memCost(id, e.meta, int64(len(e.mem.data))), e.size, id)
			memBytes += e.size
		case tierDisk:
			require.NotEqual(t, segNone, e.seg, id)
			require.Equal(t, fileSize(id, e.meta, e.bodyLen), e.size, id)
			diskBytes += e.size
			path := objectPath(s.objDir, e.gen)
			st, err := os.Stat(path)
			require.NoError(t, err, id)
			require.Equal(t, e.size, st.Size(), id)
			files[path] = true
		default:
			t.Fatalf("%s: tier %d after the worker went idle", id, e.tier)
		}
	}
	require.Equal(t, memBytes, s.mem.bytes())
	require.Zero(t, s.demotingBytes)
	require.LessOrEqual(t, memBytes, s.opts.MemoryBytes)
	require.Equal(t, s.mem.window.n+s.mem.probation.n+s.mem.protected.n+
		s.disk.window.n+s.disk.probation.n+s.disk.protected.n, len(s.index))
	require.Equal(t, diskBytes, s.disk.bytes())
	require.LessOrEqual(t, diskBytes, s.opts.DiskBytes)
	require.NoError(t, filepath.WalkDir(s.objDir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !files[path] {
			t.Errorf("file %s belongs to no entry", path)
		}
		return err
	}))
}
