package httpproxy

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
)

// tunnel is one spliced upgrade: the hijacked client connection and the
// upstream connection.
type tunnel struct {
	client   net.Conn
	upstream io.ReadWriteCloser
	once     sync.Once
}

func (t *tunnel) close() {
	t.once.Do(func() {
		_ = t.client.Close()
		_ = t.upstream.Close()
	})
}

// splice completes a protocol switch the upstream accepted: it takes over
// the client connection, relays the 101 answer and copies bytes both ways
// until either side closes or the Proxy is closed. It returns when both
// directions have stopped.
func (p *Proxy) splice(w http.ResponseWriter, r *http.Request, s *sent) Outcome {
	resp := s.resp
	defer s.cancel()
	fail := func(err error) Outcome {
		_ = resp.Body.Close()
		return writeFailure(w, r, Reset, err)
	}
	if !strings.EqualFold(resp.Header.Get(headerUpgrade), r.Header.Get(headerUpgrade)) {
		return fail(fmt.Errorf("%w: asked %q, got %q", ErrUpgradeRefused, r.Header.Get(headerUpgrade), resp.Header.Get(headerUpgrade)))
	}
	backend, ok := resp.Body.(io.ReadWriteCloser)
	if !ok {
		return fail(fmt.Errorf("%w: upstream body is not writable", ErrUpgradeRefused))
	}
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return fail(ErrClosed)
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return fail(fmt.Errorf("%w: %v", ErrHijackUnsupported, err))
	}
	t := &tunnel{client: conn, upstream: backend}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		t.close()
		return Outcome{Status: http.StatusSwitchingProtocols, Started: true, Kind: ClientGone, Err: ErrClosed}
	}
	p.tunnels[t] = struct{}{}
	p.tunnelWG.Add(1)
	p.mu.Unlock()
	defer func() {
		t.close()
		p.mu.Lock()
		delete(p.tunnels, t)
		p.mu.Unlock()
		p.tunnelWG.Done()
	}()

	o := Outcome{Status: http.StatusSwitchingProtocols, Started: true}
	hdr := make(http.Header, len(resp.Header))
	for k, vv := range resp.Header {
		hdr[k] = vv
	}
	if _, err := io.WriteString(brw, "HTTP/1.1 101 Switching Protocols\r\n"); err == nil {
		err = hdr.Write(brw)
		if err == nil {
			_, err = io.WriteString(brw, "\r\n")
		}
	}
	if err := brw.Flush(); err != nil {
		o.Kind, o.Err = ClientGone, err
		return o
	}
	// Bytes the client sent right after its request are already buffered.
	if n := brw.Reader.Buffered(); n > 0 {
		early, _ := brw.Reader.Peek(n)
		if _, err := backend.Write(early); err != nil {
			o.Kind, o.Err = Reset, err
			return o
		}
	}

	up := make(chan error, 1)
	go func() { // owned: splice waits for it below
		bp := getBuffer()
		defer putBuffer(bp)
		_, err := io.CopyBuffer(backend, conn, *bp)
		t.close()
		up <- err
	}()
	bp := getBuffer()
	n, downErr := io.CopyBuffer(conn, backend, *bp)
	putBuffer(bp)
	t.close()
	upErr := <-up
	o.Bytes = n
	if downErr != nil && !errors.Is(downErr, net.ErrClosed) {
		o.Err = downErr
	} else if upErr != nil && !errors.Is(upErr, net.ErrClosed) {
		o.Err = upErr
	}
	return o
}
