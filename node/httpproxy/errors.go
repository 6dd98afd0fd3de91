package httpproxy

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
)

// Sentinel errors. Outcome.Err wraps one of them or the transport's error.
var (
	// ErrNoUpstream: the pick function of ForwardRetrying offered no upstream.
	ErrNoUpstream = errors.New("httpproxy: no upstream available")
	// ErrUpgradeRefused: the upstream answered an upgrade request with a
	// protocol switch that does not match the requested one.
	ErrUpgradeRefused = errors.New("httpproxy: upstream upgrade mismatch")
	// ErrHijackUnsupported: the client connection cannot be taken over
	// (HTTP/2), so an upgrade cannot be spliced.
	ErrHijackUnsupported = errors.New("httpproxy: connection cannot be hijacked")
	// ErrClosed: the proxy or server was closed.
	ErrClosed = errors.New("httpproxy: closed")
	// ErrNoCertificates: a CertStore needs at least one pair.
	ErrNoCertificates = errors.New("httpproxy: no certificate pairs")
	// ErrBadConfig: a configuration value is out of range.
	ErrBadConfig = errors.New("httpproxy: invalid configuration")
)

// errorBody is the JSON shape of every error the gateway writes itself.
type errorBody struct {
	Error     string `json:"error"`
	Message   string `json:"message"`
	RequestID string `json:"request_id,omitempty"`
}

// WriteError answers r with status and the JSON body
// {"error":code,"message":message,"request_id":...}, the request id being
// r's X-Request-Id header (see RequestID). It sets Content-Type,
// Content-Length and Cache-Control: no-store, keeping other headers already
// set on w (WWW-Authenticate, Retry-After, ...). For HEAD no body is
// written. It must be called before anything else was written to w.
func WriteError(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	body, err := json.Marshal(errorBody{Error: code, Message: message, RequestID: r.Header.Get(headerRequestID)})
	if err != nil { // unreachable: strings always marshal
		body = []byte(`{"error":"internal"}`)
	}
	body = append(body, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Del("Content-Encoding")
	h.Del("Etag")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// errorCode is the JSON error code of the statuses the proxy writes.
func errorCode(status int) string {
	switch status {
	case http.StatusGatewayTimeout:
		return "gateway_timeout"
	case http.StatusServiceUnavailable:
		return "unavailable"
	default:
		return "bad_gateway"
	}
}
