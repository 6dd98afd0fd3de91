//go:build unix

package l4

import (
	"net"
	"sync"
	"syscall"
)

// readDatagram waits for a datagram on c and reads it into a buffer taken
// from bufs only once one is ready, so that idle sessions hold no buffer. It
// returns the buffer (nil on error before a read) and the datagram's length,
// which exceeds MaxDatagram when the datagram was cut to the buffer.
func readDatagram(c *net.UDPConn, bufs *sync.Pool) (*[]byte, int, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, 0, err
	}
	var (
		buf  *[]byte
		n    int
		rerr error
	)
	err = rc.Read(func(fd uintptr) bool {
		b := bufs.Get().(*[]byte)
		for {
			n, rerr = syscall.Read(int(fd), *b)
			if rerr != syscall.EINTR {
				break
			}
		}
		if rerr == syscall.EAGAIN {
			bufs.Put(b)
			return false // wait until readable
		}
		buf = b
		return true
	})
	if err == nil {
		err = rerr
	}
	if err != nil {
		if buf != nil {
			bufs.Put(buf)
		}
		return nil, 0, err
	}
	return buf, n, nil
}
