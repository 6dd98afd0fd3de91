package chaos

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Port lanes. A cluster's layout spans at most 1000 ports from its base port
// (a block of 100 per service, ten services; see cluster.Layout). A run that
// draws its ports takes one of laneCount lanes, [laneFirst+laneSize*i,
// laneFirst+laneSize*i+999], and holds the lane's file lock until its cluster
// is down. The locks live in the temporary directory and are shared by every
// checkout on the host, so two runs never share a port however many go on at
// once, and a killed node's ports stay free until it restarts. The lanes lie
// below the ephemeral port range and apart from the ranges the cluster and e2e
// tests draw from (20000 and up).
const (
	laneFirst = 10000
	laneSize  = 1000
	laneCount = 10
)

// laneWait bounds how long a run waits for a free lane when every lane is
// taken.
const laneWait = 10 * time.Minute

// lanePort returns the base port of lane.
func lanePort(lane int) int { return laneFirst + laneSize*lane }

// acquireLane locks a free lane that tried does not hold, trying lane start
// first and then the next ones in turn, and returns it with the function that
// frees it. The lock files are in dir (os.TempDir() but in tests). When every
// lane is locked by other runs it polls until one is free, within wait.
func acquireLane(dir string, wait time.Duration, start int, tried map[int]bool) (lane int, release func(), err error) {
	if len(tried) >= laneCount {
		return 0, nil, errors.New("chaos: every port lane has a port in use by another process")
	}
	var lockErr error
	ok := WaitFor(wait, func() bool {
		for i := range laneCount {
			l := (start + i) % laneCount
			if tried[l] {
				continue
			}
			f, got, err := tryLock(filepath.Join(dir, fmt.Sprintf("cairn-chaos-lane-%d.lock", l)))
			if err != nil {
				lockErr = err
				return true
			}
			if got {
				lane, release = l, func() { f.Close() } // closing the file releases the lock
				return true
			}
		}
		return false
	})
	switch {
	case lockErr != nil:
		return 0, nil, lockErr
	case !ok:
		return 0, nil, fmt.Errorf("chaos: no free port lane in %v (each of the %d lanes is held by another run)", wait, laneCount)
	}
	return lane, release, nil
}

// tryLock takes the exclusive file lock of path without waiting. It returns the
// open file that holds the lock (close it to release), or got false when
// another open file holds it. The kernel releases the lock if the process
// dies.
func tryLock(path string) (f *os.File, got bool, err error) {
	f, err = os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, false, fmt.Errorf("chaos: lock %s: %w", path, err)
	}
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		f.Close()
		return nil, false, nil
	}
	if err != nil {
		f.Close()
		return nil, false, fmt.Errorf("chaos: lock %s: %w", path, err)
	}
	return f, true, nil
}
