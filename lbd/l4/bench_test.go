package l4

import (
	"io"
	"net"
	"testing"
)

// BenchmarkTCPThroughput streams b.N chunks of 64 KiB from a client through
// the proxy into a backend that discards them (splice on Linux).
func BenchmarkTCPThroughput(b *testing.B) {
	const chunk = 64 << 10
	got := make(chan int64, 1)
	be := backendServer(b, func(c net.Conn) {
		n, _ := io.Copy(io.Discard, c)
		got <- n
	})
	bal := &testBalancer{backends: []testBackend{{"a", be}}}
	p, err := NewTCP(TCPConfig{Balancer: bal})
	if err != nil {
		b.Fatal(err)
	}
	ln := listen(b)
	go p.Serve(ln)
	defer p.Close()
	c := dial(b, ln.Addr().String())
	buf := make([]byte, chunk)
	b.SetBytes(chunk)
	b.ResetTimer()
	for range b.N {
		if _, err := c.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	c.CloseWrite()
	if n := <-got; n != int64(b.N)*chunk {
		b.Fatalf("backend got %d bytes, want %d", n, int64(b.N)*chunk)
	}
}
