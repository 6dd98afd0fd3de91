package node

import (
	"errors"
	"sync"

	"google.golang.org/grpc"
)

// ErrPoolClosed is returned by ConnPool.Conn after Close.
var ErrPoolClosed = errors.New("node: connection pool closed")

// ConnPool holds one client connection per peer gRPC address, dialed lazily
// (through the address's dial override, if any) and kept until Retain drops
// the address or Close. Daemons use it for node-to-node calls outside Raft.
// Safe for concurrent use.
type ConnPool struct {
	dial      DialConfig
	overrides DialOverrides

	mu     sync.Mutex // protects conns and closed
	conns  map[string]*grpc.ClientConn
	closed bool
}

// NewConnPool returns an empty pool that dials with dial and overrides.
func NewConnPool(dial DialConfig, overrides DialOverrides) *ConnPool {
	return &ConnPool{dial: dial, overrides: overrides, conns: map[string]*grpc.ClientConn{}}
}

// Conn returns the connection to addr, dialing it on first use. After Close
// it fails with ErrPoolClosed.
func (p *ConnPool) Conn(addr string) (*grpc.ClientConn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrPoolClosed
	}
	if c := p.conns[addr]; c != nil {
		return c, nil
	}
	c, err := p.overrides.Dial(addr, p.dial)
	if err != nil {
		return nil, err
	}
	p.conns[addr] = c
	return c, nil
}

// Retain closes the connections to the addresses keep rejects.
func (p *ConnPool) Retain(keep func(addr string) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for addr, c := range p.conns {
		if !keep(addr) {
			_ = c.Close()
			delete(p.conns, addr)
		}
	}
}

// Close closes every connection; Conn then fails. Idempotent.
func (p *ConnPool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for addr, c := range p.conns {
		_ = c.Close()
		delete(p.conns, addr)
	}
}
