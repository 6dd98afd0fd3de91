package httpproxy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"time"
)

// FailureKind says why a proxied exchange failed.
type FailureKind int

// Failure kinds, in Outcome.Kind.
const (
	// None: the upstream answered (any status below 500) and the response
	// was relayed.
	None FailureKind = iota
	// Connect: no connection could be made (dial or TLS handshake); the
	// request certainly did not reach the upstream.
	Connect
	// Timeout: the upstream did not answer within the deadline.
	Timeout
	// Reset: the connection failed after the request may have been sent.
	Reset
	// Status5xx: the upstream answered with a 5xx status.
	Status5xx
	// ClientGone: the client went away; neither an upstream success nor a
	// failure.
	ClientGone
)

// String returns the kind's metric label: none, connect, timeout, reset,
// 5xx, client_gone.
func (k FailureKind) String() string {
	switch k {
	case None:
		return "none"
	case Connect:
		return "connect"
	case Timeout:
		return "timeout"
	case Reset:
		return "reset"
	case Status5xx:
		return "5xx"
	case ClientGone:
		return "client_gone"
	}
	return "unknown"
}

// StatusClientClosed is the status recorded (never sent) when the client
// went away before a response was written, as nginx logs it.
const StatusClientClosed = 499

// Outcome is the result of one Forward (or the last attempt of
// ForwardRetrying).
type Outcome struct {
	// Status is the status written to the client; StatusClientClosed when
	// the client left before the response started (a 502 is then written
	// in case it still reads).
	Status int
	// Kind classifies the upstream's behaviour.
	Kind FailureKind
	// Err is the error behind Kind, nil for None and Status5xx. With Kind
	// None a non-nil Err means the proxy refused the upstream's response
	// itself (ModifyResponse failed) and answered 502.
	Err error
	// Started reports that response bytes were written to the client; after
	// that nothing can be retried or replaced.
	Started bool
	// Bytes counts the response body bytes relayed.
	Bytes int64
	// Attempts is the number of upstream attempts made (1 for Forward).
	Attempts int
	// Duration is the time from the call to its return.
	Duration time.Duration

	truncated bool // the upstream broke off a response already started
}

// Truncated reports that a relayed response broke off upstream after it
// was started: the client got fewer bytes than the upstream meant to send.
func (o Outcome) Truncated() bool { return o.truncated }

// AbortIfTruncated panics with http.ErrAbortHandler when o is Truncated, so
// net/http resets the stream (HTTP/2) or closes the connection (HTTP/1.1)
// and the client sees the response as broken, not as complete. Call it from
// the handler after bookkeeping; deferred functions still run.
func AbortIfTruncated(o Outcome) {
	if o.Truncated() {
		panic(http.ErrAbortHandler)
	}
}

// classify maps a transport error to a FailureKind. clientCtx is the
// client request's context: its end means the client left.
func classify(err error, clientCtx context.Context) FailureKind {
	if clientCtx.Err() != nil {
		return ClientGone
	}
	if errors.Is(err, errStaleConn) {
		return Connect
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return Connect
	}
	var (
		rh  tls.RecordHeaderError
		cv  *tls.CertificateVerificationError
		ua  x509.UnknownAuthorityError
		hn  x509.HostnameError
		alt tls.AlertError
	)
	if errors.As(err, &rh) || errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &alt) {
		return Connect
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return Timeout
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return Timeout
	}
	return Reset
}

// failureStatus is the status written for a failure before any byte.
func failureStatus(k FailureKind) int {
	switch k {
	case Timeout:
		return http.StatusGatewayTimeout
	case ClientGone:
		return StatusClientClosed
	}
	return http.StatusBadGateway
}
