package node

import (
	"errors"
	"testing"
)

func TestConnPoolReusesRetainsAndCloses(t *testing.T) {
	p := NewConnPool(DialConfig{}, nil)
	a, err := p.Conn("127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	again, err := p.Conn("127.0.0.1:1")
	if err != nil || again != a {
		t.Fatalf("second Conn = %p, %v; want the first connection %p", again, err, a)
	}
	b, err := p.Conn("127.0.0.1:2")
	if err != nil || b == a {
		t.Fatalf("Conn to another address = %p, %v; want a new connection", b, err)
	}
	p.Retain(func(addr string) bool { return addr == "127.0.0.1:2" })
	if fresh, err := p.Conn("127.0.0.1:1"); err != nil || fresh == a {
		t.Fatalf("Conn after Retain dropped the address = %p, %v; want a new connection", fresh, err)
	}
	if kept, err := p.Conn("127.0.0.1:2"); err != nil || kept != b {
		t.Fatalf("Conn to a retained address = %p, %v; want the kept connection %p", kept, err, b)
	}
	p.Close()
	if _, err := p.Conn("127.0.0.1:2"); !errors.Is(err, ErrPoolClosed) {
		t.Fatalf("Conn after Close: %v, want ErrPoolClosed", err)
	}
	p.Close()
}
