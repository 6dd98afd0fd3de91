package cluster

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// lockFileName is the file in the cluster directory that serialises commands
// changing the cluster (up, start, stop, kill, restart, down), across processes.
const lockFileName = ".lock"

// lockTimeout bounds how long a command waits for another one to finish. It is
// longer than a graceful stop of every node.
const lockTimeout = time.Minute

// dirLock is a held exclusive flock on <dir>/.lock.
type dirLock struct{ f *os.File }

// lockDir takes the exclusive lock of dir, creating dir if needed, waiting at most
// timeout for a holder to release it. Locks taken through different calls conflict
// even inside one process.
func lockDir(dir string, timeout time.Duration) (*dirLock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	path := filepath.Join(dir, lockFileName)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	var lerr error
	ok := pollUntil(timeout, func() bool {
		lerr = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		return lerr == nil || !errors.Is(lerr, syscall.EWOULDBLOCK)
	})
	if lerr != nil {
		f.Close()
		if !ok || errors.Is(lerr, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s is held by another cairn cluster command (waited %v)", ErrLocked, path, timeout)
		}
		return nil, fmt.Errorf("cluster: flock %s: %w", path, lerr)
	}
	return &dirLock{f: f}, nil
}

// unlock releases the lock. Closing the file drops the flock.
func (l *dirLock) unlock() { l.f.Close() }
