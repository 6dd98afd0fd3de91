package chaos

import (
	"path/filepath"
	"testing"
	"time"
)

func TestTryLockExcludes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	f, got, err := tryLock(path)
	if err != nil || !got {
		t.Fatalf("first tryLock = %v, %v; want the lock", got, err)
	}
	if g, got, err := tryLock(path); err != nil || got {
		if g != nil {
			g.Close()
		}
		t.Fatalf("second tryLock while held = %v, %v; want not got", got, err)
	}
	f.Close()
	g, got, err := tryLock(path)
	if err != nil || !got {
		t.Fatalf("tryLock after release = %v, %v; want the lock", got, err)
	}
	g.Close()
}

// A run takes the first lane from its start that no other run holds and that
// it has not tried, and two runs never hold the same lane.
func TestAcquireLaneSkipsHeldAndTried(t *testing.T) {
	dir := t.TempDir()
	a, releaseA, err := acquireLane(dir, time.Second, 8, nil)
	if err != nil || a != 8 {
		t.Fatalf("first run: lane %d, %v; want 8", a, err)
	}
	b, releaseB, err := acquireLane(dir, time.Second, 8, map[int]bool{9: true})
	if err != nil || b != 0 {
		t.Fatalf("second run (8 held, 9 tried): lane %d, %v; want 0 (wrapping around)", b, err)
	}
	releaseA()
	c, releaseC, err := acquireLane(dir, time.Second, 8, nil)
	if err != nil || c != 8 {
		t.Fatalf("after release: lane %d, %v; want 8 again", c, err)
	}
	releaseB()
	releaseC()
	if lanePort(0) != 10000 || lanePort(laneCount-1)+laneSize-1 != 19999 {
		t.Fatalf("lanes span %d..%d, want 10000..19999", lanePort(0), lanePort(laneCount-1)+laneSize-1)
	}
}

func TestAcquireLaneAllTaken(t *testing.T) {
	dir := t.TempDir()
	tried := map[int]bool{}
	for i := range laneCount {
		tried[i] = true
	}
	if _, _, err := acquireLane(dir, time.Minute, 0, tried); err == nil {
		t.Fatal("every lane tried: want an error at once")
	}
	var releases []func()
	for i := range laneCount {
		_, r, err := acquireLane(dir, time.Second, i, nil)
		if err != nil {
			t.Fatalf("lane %d: %v", i, err)
		}
		releases = append(releases, r)
	}
	start := time.Now()
	if _, _, err := acquireLane(dir, 200*time.Millisecond, 0, nil); err == nil {
		t.Fatal("every lane held: want an error once the wait ran out")
	} else if time.Since(start) < 200*time.Millisecond {
		t.Fatalf("gave up after %v, before the wait ran out", time.Since(start))
	}
	for _, r := range releases {
		r()
	}
}
