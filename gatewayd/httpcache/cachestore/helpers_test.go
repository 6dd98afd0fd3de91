package cachestore

import (
	"io"
	"io/fs"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"cairn.dev/cairn/gatewayd/httpcache"
	"github.com/stretchr/testify/require"
)

// testLogger routes the store's logs to t.Log.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// openStore opens a Store closed at the end of the test.
func openStore(t testing.TB, o Options) *Store {
	t.Helper()
	if o.Logger == nil {
		o.Logger = testLogger(t)
	}
	s, err := Open(o)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// put stores body under id with a known size.
func put(s *Store, id, meta string, body []byte) error {
	w, err := s.Create(id, []byte(meta), int64(len(body)))
	if err != nil {
		return err
	}
	if _, err := w.Write(body); err != nil {
		w.Abort()
		return err
	}
	return w.Commit()
}

// read returns the whole body and closes it.
func read(t testing.TB, b httpcache.Body) []byte {
	t.Helper()
	p, err := io.ReadAll(io.NewSectionReader(b, 0, b.Size()))
	require.NoError(t, err)
	require.NoError(t, b.Close())
	return p
}

// get returns id's meta, body and tier ("" when missing).
func get(t testing.TB, s *Store, id string) (string, string, string) {
	t.Helper()
	meta, b, ok := s.Get(id)
	if !ok {
		return "", "", ""
	}
	tier := b.Tier()
	return string(meta), string(read(t, b)), tier
}

// waitFor polls cond until it holds or 10 s pass.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond) // polling interval, not synchronisation
	}
}

// idle waits until the background worker has nothing queued or running:
// no entry is demoting or promoting.
func idle(t testing.TB, s *Store) {
	t.Helper()
	waitFor(t, "the worker to go idle", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		if len(s.work) > 0 {
			return false
		}
		for _, e := range s.index {
			if e.tier == tierDemoting || e.tier == tierPromoting {
				return false
			}
		}
		return true
	})
}

// listDir returns the names under dir, recursively (files only).
func listDir(t testing.TB, dir string) []string {
	t.Helper()
	var names []string
	require.NoError(t, filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			names = append(names, rel)
		}
		return nil
	}))
	return names
}
