package httpproxy

import (
	"bufio"
	"net"
	"net/http"
)

// StatusWriter wraps an http.ResponseWriter and remembers the status and
// the body bytes written, for access logs and metrics. It passes Flush and
// Hijack through and exposes the wrapped writer with Unwrap, so
// http.ResponseController works through it. Use it from the handler's
// goroutine only. The zero value is not usable; call Reset or
// NewStatusWriter.
type StatusWriter struct {
	w        http.ResponseWriter
	status   int
	bytes    int64
	hijacked bool
}

// NewStatusWriter returns a StatusWriter around w.
func NewStatusWriter(w http.ResponseWriter) *StatusWriter {
	return &StatusWriter{w: w}
}

// Reset points sw at w with no status recorded, so a StatusWriter can be
// reused from a pool.
func (sw *StatusWriter) Reset(w http.ResponseWriter) {
	*sw = StatusWriter{w: w}
}

// Header implements http.ResponseWriter.
func (sw *StatusWriter) Header() http.Header { return sw.w.Header() }

// WriteHeader implements http.ResponseWriter. Informational statuses
// other than 101 pass through unrecorded.
func (sw *StatusWriter) WriteHeader(code int) {
	if sw.status == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		sw.status = code
	}
	sw.w.WriteHeader(code)
}

// Write implements http.ResponseWriter.
func (sw *StatusWriter) Write(b []byte) (int, error) {
	if sw.status == 0 {
		sw.status = http.StatusOK
	}
	n, err := sw.w.Write(b)
	sw.bytes += int64(n)
	return n, err
}

// Flush implements http.Flusher; it does nothing when the wrapped writer
// cannot flush.
func (sw *StatusWriter) Flush() {
	if sw.status == 0 {
		sw.status = http.StatusOK
	}
	if f, ok := sw.w.(http.Flusher); ok {
		f.Flush()
		return
	}
	_ = http.NewResponseController(sw.w).Flush()
}

// Hijack implements http.Hijacker (HTTP/1.x only).
func (sw *StatusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(sw.w).Hijack()
	if err == nil {
		sw.hijacked = true
		if sw.status == 0 {
			sw.status = http.StatusSwitchingProtocols
		}
	}
	return c, rw, err
}

// Unwrap returns the wrapped writer (for http.ResponseController).
func (sw *StatusWriter) Unwrap() http.ResponseWriter { return sw.w }

// Status returns the status written, 0 if none yet.
func (sw *StatusWriter) Status() int { return sw.status }

// Bytes returns the body bytes written through sw.
func (sw *StatusWriter) Bytes() int64 { return sw.bytes }

// Written reports whether a status (or body) was written.
func (sw *StatusWriter) Written() bool { return sw.status != 0 }

// Hijacked reports whether the connection was taken over.
func (sw *StatusWriter) Hijacked() bool { return sw.hijacked }
