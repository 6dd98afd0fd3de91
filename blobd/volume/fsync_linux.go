package volume

import (
	"os"

	"syscall"
)

// fdatasync flushes f's data and the size needed to read it back, skipping
// timestamps, retrying on EINTR.
func fdatasync(f *os.File) error {
	conn, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var err2 error
	if err := conn.Control(func(fd uintptr) {
		for err2 = syscall.Fdatasync(int(fd)); err2 == syscall.EINTR; err2 = syscall.Fdatasync(int(fd)) {
		}
	}); err != nil {
		return err
	}
	return err2
}
