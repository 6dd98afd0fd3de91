package httpproxy

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// errHeaderTooLarge: the upstream's response headers exceed maxHeaderBytes.
var errHeaderTooLarge = errors.New("httpproxy: upstream response headers too large")

// errStillWriting: the request body was still being sent when the
// response ended.
var errStillWriting = errors.New("httpproxy: request body still being sent")

// writerGrace is how long a finished response waits for the request body
// writer to finish before giving up the connection.
const writerGrace = 100 * time.Millisecond

// drainGrace bounds the wait for a short body remainder on an early Close.
const drainGrace = 100 * time.Millisecond

// maxHeaderBytes bounds the upstream's response headers.
const maxHeaderBytes = 1 << 20

// aLongTimeAgo is a deadline in the past: it makes blocked I/O return.
var aLongTimeAgo = time.Unix(1, 0)

var (
	readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 16<<10) }}
	writerPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 16<<10) }}
)

// connReader counts the bytes read from a connection and, while limit is
// not negative, refuses to read more than limit.
type connReader struct {
	nc    net.Conn
	n     int64
	limit int64
}

func (r *connReader) Read(p []byte) (int, error) {
	if r.limit >= 0 {
		if r.limit == 0 {
			return 0, errHeaderTooLarge
		}
		if int64(len(p)) > r.limit {
			p = p[:r.limit]
		}
	}
	n, err := r.nc.Read(p)
	r.n += int64(n)
	if r.limit >= 0 {
		r.limit -= int64(n)
	}
	return n, err
}

// h1Conn is one upstream connection, used by one exchange at a time.
type h1Conn struct {
	nc        net.Conn
	target    string
	rd        connReader
	br        *bufio.Reader
	idleSince time.Time

	stop      func() bool // stops the context watch of the current exchange
	writeDone chan error  // the body writer's result, for streamed bodies

	mu      sync.Mutex // orders abort against clearing the read deadline
	aborted bool
}

func newH1Conn(nc net.Conn, target string) *h1Conn {
	pc := &h1Conn{nc: nc, target: target}
	pc.rd = connReader{nc: nc, limit: -1}
	pc.br = readerPool.Get().(*bufio.Reader)
	pc.br.Reset(&pc.rd)
	return pc
}

// abort makes the connection's blocked and future I/O fail; the exchange
// then closes it. It runs when the request's context ends.
func (pc *h1Conn) abort() {
	pc.mu.Lock()
	pc.aborted = true
	_ = pc.nc.SetDeadline(aLongTimeAgo)
	pc.mu.Unlock()
}

// close closes the connection and recycles its reader. A closed h1Conn is
// never used again.
func (pc *h1Conn) close() {
	if pc.stop != nil {
		pc.stop()
		pc.stop = nil
	}
	_ = pc.nc.Close()
	if pc.br != nil {
		pc.br.Reset(nil)
		readerPool.Put(pc.br)
		pc.br = nil
	}
}

// release ends an exchange: the connection goes back to c's pool when
// reuse holds and the context did not abort it, else it is closed.
func (pc *h1Conn) release(c *h1Client, reuse bool) {
	if pc.writeDone != nil {
		var err error
		select {
		case err = <-pc.writeDone:
		default:
			err = errStillWriting
			if reuse { // the answer is complete: the writer is finishing
				t := time.NewTimer(writerGrace)
				select {
				case err = <-pc.writeDone:
				case <-t.C:
				}
				t.Stop()
			}
		}
		// A writer still sending stops when the connection closes.
		reuse = reuse && err == nil
		pc.writeDone = nil
	}
	if pc.stop != nil {
		if !pc.stop() {
			reuse = false // the context ended: abort ran or runs
		}
		pc.stop = nil
	}
	if reuse && pc.br.Buffered() == 0 {
		c.put(pc)
		return
	}
	pc.close()
}

// exchange writes r and reads the response headers. On failure the caller
// closes pc; stale reports that nothing at all was read back and the
// failure was not a timeout (the upstream closed the connection).
func (pc *h1Conn) exchange(c *h1Client, r *http.Request) (resp *http.Response, err error, stale bool) {
	if done := r.Context().Done(); done != nil {
		pc.stop = context.AfterFunc(r.Context(), pc.abort)
	}
	before := pc.rd.n
	if r.Body != nil && r.Body != http.NoBody && r.ContentLength < 0 {
		// A streamed body is sent while the answer is read, so that
		// full-duplex exchanges (an upstream echoing as it reads) work.
		done := make(chan error, 1)
		pc.writeDone = done
		go func() { // ends with the body or the connection
			err := pc.write(r)
			if err != nil {
				pc.abort()
			}
			done <- err
		}()
	} else if err = pc.write(r); err != nil {
		return nil, err, !isTimeout(err)
	}
	if c.headerTimeout > 0 {
		_ = pc.nc.SetReadDeadline(time.Now().Add(c.headerTimeout))
	}
	pc.rd.limit = maxHeaderBytes
	for {
		resp, err = http.ReadResponse(pc.br, r)
		if err != nil {
			return nil, err, pc.rd.n == before && !isTimeout(err)
		}
		if resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			break
		}
		// 100 Continue, 103 Early Hints: the final answer follows.
	}
	pc.rd.limit = -1
	if c.headerTimeout > 0 {
		pc.mu.Lock()
		if !pc.aborted {
			_ = pc.nc.SetReadDeadline(time.Time{})
		}
		pc.mu.Unlock()
	}
	reuse := !resp.Close && !r.Close && resp.StatusCode != http.StatusSwitchingProtocols &&
		(resp.ContentLength >= 0 || isChunked(resp.TransferEncoding) || resp.Body == http.NoBody)
	if resp.Body == http.NoBody {
		pc.release(c, reuse)
		return resp, nil, false
	}
	resp.Body = &h1Body{pc: pc, c: c, rc: resp.Body, reuse: reuse, left: resp.ContentLength}
	return resp, nil, false
}

// write writes r through a pooled buffered writer.
func (pc *h1Conn) write(r *http.Request) error {
	bw := writerPool.Get().(*bufio.Writer)
	bw.Reset(pc.nc)
	err := writeRequest(bw, r)
	bw.Reset(nil)
	writerPool.Put(bw)
	return err
}

func isChunked(te []string) bool {
	return len(te) > 0 && te[len(te)-1] == "chunked"
}

// isTimeout reports a deadline error (a timeout or an abort).
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// h1Body is a response body that hands its connection back when read to
// the end. Read and Close must not be called concurrently.
type h1Body struct {
	pc    *h1Conn
	c     *h1Client
	rc    io.ReadCloser
	reuse bool
	left  int64 // bytes still expected; -1 when unknown
	done  bool
	err   error // returned by Read once done: io.EOF, the failure, or errBodyClosed
}

// errBodyClosed: Read after Close.
var errBodyClosed = errors.New("httpproxy: read on a closed response body")

func (b *h1Body) Read(p []byte) (int, error) {
	if b.done {
		return 0, b.err
	}
	n, err := b.rc.Read(p)
	if b.left > 0 {
		b.left -= int64(n)
	}
	switch {
	case err == io.EOF:
		b.err = io.EOF
		b.finish(b.reuse)
	case err != nil:
		b.err = err
		b.finish(false)
	}
	return n, err
}

// Close ends the body. A remainder of at most maxDrain bytes arriving
// within drainGrace is read so the connection can be reused; otherwise the
// connection is closed.
func (b *h1Body) Close() error {
	if b.done {
		return nil
	}
	b.err = errBodyClosed
	if b.reuse && b.left <= maxDrain { // known and short, or unknown
		pc := b.pc
		pc.mu.Lock()
		aborted := pc.aborted
		if !aborted {
			_ = pc.nc.SetReadDeadline(time.Now().Add(drainGrace))
		}
		pc.mu.Unlock()
		if !aborted {
			_, err := io.CopyN(io.Discard, b.rc, maxDrain+1)
			reuse := err == io.EOF
			pc.mu.Lock()
			if !pc.aborted {
				_ = pc.nc.SetReadDeadline(time.Time{})
			}
			pc.mu.Unlock()
			b.finish(reuse)
			return nil
		}
	}
	b.finish(false)
	return nil
}

func (b *h1Body) finish(reuse bool) {
	b.done = true
	b.pc.release(b.c, reuse)
	b.pc = nil
}
