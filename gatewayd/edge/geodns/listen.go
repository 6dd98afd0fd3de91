package geodns

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

// Transport limits.
const (
	// MaxTCPConns is the most TCP connections served at once; more are
	// closed as soon as they are accepted.
	MaxTCPConns = 256
	// TCPIdleTimeout closes a TCP connection that sends no query for this
	// long (RFC 7766 suggests seconds); it also bounds reading one query.
	TCPIdleTimeout = 10 * time.Second
	// WriteTimeout bounds sending one response.
	WriteTimeout = 5 * time.Second
	// bindAttempts is how many ports Listen tries, with port 0, to find
	// one free for both UDP and TCP.
	bindAttempts = 32
)

// Listen binds addr ("host:port") for both TCP and UDP. With port 0 it
// picks a port that is free for both. Addr reports the address afterwards
// and Ready's channel is closed. It serves nothing until Serve.
func (s *Server) Listen(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("geodns: listen address %q: %w", addr, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if s.udp != nil {
		return ErrListening
	}
	for attempt := 1; ; attempt++ {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("geodns: listen tcp %s: %w", addr, err)
		}
		tcp := ln.(*net.TCPListener)
		bound := tcp.Addr().(*net.TCPAddr).Port
		pc, err := net.ListenPacket("udp", net.JoinHostPort(host, strconv.Itoa(bound)))
		if err == nil {
			s.tcp, s.udp = tcp, pc.(*net.UDPConn)
			a := tcp.Addr().String()
			s.addr.Store(&a)
			close(s.ready)
			s.logger.Info("geodns: listening", "addr", a)
			return nil
		}
		tcp.Close()
		if port != "0" || attempt == bindAttempts {
			return fmt.Errorf("geodns: listen udp %s: %w", net.JoinHostPort(host, strconv.Itoa(bound)), err)
		}
	}
}

// Serve answers queries on the sockets Listen bound until ctx ends or
// Close is called; then it stops gracefully: it stops reading, lets every
// query being answered finish, closes the sockets and returns nil. It
// returns an error when a socket fails for good; ErrNotListening before
// Listen, ErrServed when called again, ErrClosed after Close.
func (s *Server) Serve(ctx context.Context) error {
	s.mu.Lock()
	switch {
	case s.serving:
		s.mu.Unlock()
		return ErrServed
	case s.closed:
		s.mu.Unlock()
		return ErrClosed
	case s.udp == nil:
		s.mu.Unlock()
		return ErrNotListening
	}
	s.serving = true
	udp, tcp := s.udp, s.tcp
	s.mu.Unlock()
	defer close(s.done)

	fatal := make(chan error, 1)
	fail := func(err error) {
		select {
		case fatal <- err:
		default:
		}
	}
	workers := max(2, runtime.GOMAXPROCS(0))
	for range workers {
		s.goroutines.Go(func() { s.serveUDP(udp, fail) })
	}
	s.goroutines.Go(func() { s.acceptTCP(tcp, fail) })

	var err error
	select {
	case <-ctx.Done():
	case <-s.stop:
	case err = <-fatal:
		s.logger.Error("geodns: serving failed", "err", err)
	}
	s.shutdown()
	return err
}

// ListenAndServe is Listen followed by Serve.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	if err := s.Listen(addr); err != nil {
		return err
	}
	return s.Serve(ctx)
}

// Close stops the Server: a running Serve stops gracefully (Close waits
// for it), and sockets bound by Listen are closed. Close may be called
// more than once and concurrently.
func (s *Server) Close() {
	s.stopOnce.Do(func() { close(s.stop) })
	s.mu.Lock()
	if s.serving {
		s.mu.Unlock()
		<-s.done
		return
	}
	s.closeSockets()
	s.mu.Unlock()
}

// shutdown stops the goroutines gracefully and closes the sockets: the TCP
// listener at once, then read deadlines in the past wake every reader,
// which finishes the response it is writing and returns.
func (s *Server) shutdown() {
	s.stopOnce.Do(func() { close(s.stop) })
	s.goroutines.Close()
	s.mu.Lock()
	s.stopping = true
	s.tcp.Close()
	now := time.Now()
	s.udp.SetReadDeadline(now)
	for c := range s.conns {
		c.SetReadDeadline(now)
	}
	s.mu.Unlock()
	s.goroutines.Wait()
	s.mu.Lock()
	s.closeSockets()
	s.mu.Unlock()
}

// closeSockets closes the listening sockets. s.mu must be held.
func (s *Server) closeSockets() {
	if s.closed {
		return
	}
	s.closed = true
	if s.udp != nil {
		s.udp.Close()
		s.tcp.Close()
	}
}

// stopped reports whether shutdown began.
func (s *Server) stopped() bool {
	select {
	case <-s.stop:
		return true
	default:
		return false
	}
}

// serveUDP reads and answers datagrams until shutdown. A read error other
// than shutdown's is reported to fail.
func (s *Server) serveUDP(conn *net.UDPConn, fail func(error)) {
	buf := make([]byte, 65535)
	for {
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if s.stopped() {
				return
			}
			fail(fmt.Errorf("geodns: udp read: %w", err))
			return
		}
		out := s.respond(buf[:n], from.Addr(), true)
		if out == nil {
			continue
		}
		conn.SetWriteDeadline(time.Now().Add(WriteTimeout))
		if _, err := conn.WriteToUDPAddrPort(out, from); err != nil {
			s.logger.Debug("geodns: udp write failed", "to", from, "err", err)
		}
	}
}

// acceptTCP accepts connections until shutdown and serves each in its own
// goroutine. Temporary accept errors (out of file descriptors) back off.
func (s *Server) acceptTCP(ln *net.TCPListener, fail func(error)) {
	backoff := 5 * time.Millisecond
	for {
		c, err := ln.AcceptTCP()
		if err != nil {
			if s.stopped() {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				s.logger.Warn("geodns: tcp accept failed; retrying", "err", err, "backoff", backoff)
				select {
				case <-time.After(backoff):
				case <-s.stop:
					return
				}
				backoff = min(2*backoff, time.Second)
				continue
			}
			fail(fmt.Errorf("geodns: tcp accept: %w", err))
			return
		}
		backoff = 5 * time.Millisecond
		if !s.track(c) {
			c.Close()
			continue
		}
		if !s.goroutines.Go(func() { s.serveTCP(c) }) {
			s.untrack(c)
			c.Close()
		}
	}
}

// track registers an accepted connection; false when the Server is
// stopping or MaxTCPConns are open (counted in TCPRejected).
func (s *Server) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping {
		return false
	}
	if len(s.conns) >= MaxTCPConns {
		s.stats.tcpRejected.Add(1)
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

// untrack forgets a connection.
func (s *Server) untrack(c net.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// serveTCP answers the length-prefixed queries of one connection (RFC
// 1035 §4.2.2, in order) until the client closes it, it idles for
// TCPIdleTimeout, or shutdown.
func (s *Server) serveTCP(c *net.TCPConn) {
	defer func() {
		s.untrack(c)
		c.Close()
	}()
	from := c.RemoteAddr().(*net.TCPAddr).AddrPort().Addr()
	var prefix [2]byte
	buf := make([]byte, 0, 512)
	for {
		// Set the deadline before checking stop: shutdown closes stop
		// before it moves the deadline to now, so one of them is seen.
		c.SetReadDeadline(time.Now().Add(TCPIdleTimeout))
		if s.stopped() {
			return
		}
		if _, err := io.ReadFull(c, prefix[:]); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint16(prefix[:]))
		if cap(buf) < n {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(c, buf); err != nil {
			return
		}
		out := s.respond(buf, from, false)
		if out == nil {
			continue
		}
		msg := make([]byte, 2+len(out))
		binary.BigEndian.PutUint16(msg, uint16(len(out)))
		copy(msg[2:], out)
		c.SetWriteDeadline(time.Now().Add(WriteTimeout))
		if _, err := c.Write(msg); err != nil {
			s.logger.Debug("geodns: tcp write failed", "to", from, "err", err)
			return
		}
	}
}
