package transcode

import (
	"context"
	"net/http"
	"strings"

	"google.golang.org/grpc/metadata"
)

// RequestIDKey is the gRPC metadata key the request's X-Request-Id header
// is forwarded under.
const RequestIDKey = "x-request-id"

// droppedKeys are metadata keys never sent upstream even when the caller
// asks: credentials (the gateway authenticates the caller; the upstream
// trusts the gateway, not the caller's token) and headers HTTP/2 or gRPC
// own.
var droppedKeys = map[string]bool{
	"authorization":       true,
	"proxy-authorization": true,
	"cookie":              true,
	"x-api-key":           true,
	"content-type":        true,
	"te":                  true,
	"host":                true,
	"connection":          true,
	"user-agent":          true,
}

// outgoing returns ctx carrying the metadata of the upstream call: the
// request id and the caller's extra metadata, keys lower-cased, with the
// dropped keys, reserved ones ("grpc-" and ":" prefixes) and invalid ones
// left out (a key must be [0-9a-z._-]+, a value of a key not ending in
// "-bin" printable ASCII).
func outgoing(ctx context.Context, r *http.Request, extra map[string]string) context.Context {
	md := metadata.MD{}
	for k, v := range extra {
		k = strings.ToLower(k)
		if !forwardable(k, v) {
			continue
		}
		md.Set(k, v)
	}
	if id := r.Header.Get("X-Request-Id"); id != "" && forwardable(RequestIDKey, id) {
		md.Set(RequestIDKey, id)
	}
	if len(md) == 0 {
		return ctx
	}
	return metadata.NewOutgoingContext(ctx, md)
}

// forwardable reports whether the lower-cased key k with value v may go
// upstream.
func forwardable(k, v string) bool {
	if k == "" || droppedKeys[k] || strings.HasPrefix(k, "grpc-") {
		return false
	}
	for i := range len(k) {
		c := k[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	if strings.HasSuffix(k, "-bin") {
		return true
	}
	for i := range len(v) {
		if v[i] < 0x20 || v[i] > 0x7e {
			return false
		}
	}
	return true
}
