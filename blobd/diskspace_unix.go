//go:build linux || darwin

package blobd

import "syscall"

// diskSpace returns the size of the file system holding dir and the bytes
// free on it for unprivileged use (0, 0 when it cannot tell).
func diskSpace(dir string) (capacity, free uint64) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, 0
	}
	bs := uint64(st.Bsize)
	return st.Blocks * bs, st.Bavail * bs
}
