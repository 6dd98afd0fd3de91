//go:build !unix

package l4

import (
	"net"
	"sync"
)

// readDatagram reads one datagram from c into a buffer from bufs. It returns
// the buffer and the datagram's length.
func readDatagram(c *net.UDPConn, bufs *sync.Pool) (*[]byte, int, error) {
	b := bufs.Get().(*[]byte)
	n, err := c.Read(*b)
	if err != nil {
		bufs.Put(b)
		return nil, 0, err
	}
	return b, n, nil
}
