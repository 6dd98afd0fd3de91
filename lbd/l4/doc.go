// Package l4 is lbd's layer-4 data path: a TCP proxy and a UDP forwarder that
// relay clients to backends chosen by a Balancer, and a PROXY protocol (v1 text
// and v2 binary) writer and parser.
//
// The daemon implements Balancer over its pools: Pick returns a Lease for one
// connection (or UDP session), and the proxy reports back through Lease.Done
// whether connecting worked and how long it took, so health checking and
// load-aware algorithms learn from real traffic. When Lease.Expired closes
// (the backend was drained and its deadline passed) the connection is cut.
//
// TCPProxy tries up to ConnectAttempts different backends per connection,
// optionally sends a PROXY header first, then copies both ways with io.Copy
// between *net.TCPConn, which on Linux moves the bytes with splice(2) without
// copying them through user space. When one side finishes sending, the proxy
// passes the end on with CloseWrite and keeps the other direction flowing
// (half-close). MaxConns stops the accept loop at the limit, so further
// clients wait in the kernel's backlog. Shutdown stops accepting and drains;
// Close cuts at once. Every goroutine belongs to the proxy and has ended when
// Close or Shutdown returns.
//
// UDPProxy keeps one session per client address: a UDP socket connected to
// the backend picked for that client, whose replies go back to the client from
// the frontend's address. Sessions end when idle for SessionTimeout.
//
// Usage:
//
//	p, err := l4.NewTCP(l4.TCPConfig{
//		Name:          "web",
//		Balancer:      pools,  // the daemon's Balancer
//		ProxyProtocol: 2,      // backends learn the client's address
//		MaxConns:      10000,
//		IdleTimeout:   5 * time.Minute,
//		Logger:        logger,
//	})
//	if err != nil {
//		return err
//	}
//	ln, err := net.Listen("tcp", ":8443")
//	if err != nil {
//		return err
//	}
//	go p.Serve(ln) // returns nil once Shutdown or Close began
//	...
//	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
//	defer cancel()
//	p.Shutdown(ctx) // drain for up to 30s, then cut what is left
//
// A backend behind a proxy with ProxyProtocol set reads the header first:
//
//	br := bufio.NewReader(conn)
//	src, dst, err := l4.ReadProxyHeader(br) // src is the client; nil for LOCAL/UNKNOWN
//	// then keep reading the client's bytes from br
package l4
