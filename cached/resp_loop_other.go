//go:build !linux

package cached

import (
	"errors"
	"net"
)

const (
	defaultRESPIO     = respIOGoroutine
	respLoopSupported = false
)

// errNoLoop is returned off Linux, where Validate refuses resp_io loop.
var errNoLoop = errors.New("cached: resp_io loop needs Linux")

// respLoop is the event loop of resp_io loop, which exists on Linux only.
type respLoop struct{}

func newRESPLoop(*respServer) (*respLoop, error)    { return nil, errNoLoop }
func (*respLoop) adopt(net.Conn) (*respConn, error) { return nil, errNoLoop }
func (*respLoop) run()                              {}
func (*respLoop) stop()                             {}
func (*respLoop) release()                          {}
