package httpproxy

import (
	"encoding/hex"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Canonical header names used on the hot path.
const (
	headerRequestID      = "X-Request-Id"
	headerForwardedFor   = "X-Forwarded-For"
	headerForwardedProto = "X-Forwarded-Proto"
	headerForwardedHost  = "X-Forwarded-Host"
	headerForwarded      = "Forwarded"
	headerConnection     = "Connection"
	headerUpgrade        = "Upgrade"
	headerTE             = "Te"
	headerUserAgent      = "User-Agent"
)

// Shared single-value slices. They are only ever read (the transports and
// net/http never modify header values), so every request may reference them.
var (
	valueTrailers = []string{"trailers"}
	valueUpgrade  = []string{"Upgrade"}
	valueEmpty    = []string{""}
	valueHTTP     = []string{"http"}
	valueHTTPS    = []string{"https"}
)

// isHopByHop reports whether the canonical header name k is a hop-by-hop
// header (RFC 9110 section 7.6.1 and the historical Proxy-Connection and
// Keep-Alive).
func isHopByHop(k string) bool {
	switch k {
	case "Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
		"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade":
		return true
	}
	return false
}

// removeConnectionListed deletes from dst the headers named by the
// Connection header values of src.
func removeConnectionListed(dst, src http.Header) {
	for _, v := range src[headerConnection] {
		for len(v) > 0 {
			var name string
			name, v, _ = strings.Cut(v, ",")
			name = strings.TrimSpace(name)
			if name != "" {
				delete(dst, http.CanonicalHeaderKey(name))
			}
		}
	}
}

// hasToken reports whether a comma-separated header value list holds token,
// compared case-insensitively.
func hasToken(values []string, token string) bool {
	for _, v := range values {
		for len(v) > 0 {
			var t string
			t, v, _ = strings.Cut(v, ",")
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// clientIP returns the IP of r's peer ("" when RemoteAddr has none).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// ClientIP returns the IP address of r's direct peer, without trusting any
// forwarding header.
func ClientIP(r *http.Request) string { return clientIP(r) }

// RequestID returns r's X-Request-Id. A missing or unusable one (longer than
// 128 bytes, or holding bytes outside visible ASCII) is replaced in
// r.Header by a fresh random 32-hex-digit id first, so the gateway, the
// upstream, the error bodies and the access log agree on it. Not safe to
// call concurrently for one request.
func RequestID(r *http.Request) string {
	if vv := r.Header[headerRequestID]; len(vv) == 1 && validRequestID(vv[0]) {
		return vv[0]
	}
	id := NewRequestID()
	r.Header[headerRequestID] = []string{id}
	return id
}

// NewRequestID returns a random 32-hex-digit request id. It is unique, not
// secret.
func NewRequestID() string {
	var b [16]byte
	u1, u2 := rand.Uint64(), rand.Uint64()
	for i := range 8 {
		b[i] = byte(u1 >> (8 * i))
		b[8+i] = byte(u2 >> (8 * i))
	}
	return hex.EncodeToString(b[:])
}

func validRequestID(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// forwardedElement returns the RFC 7239 element describing r's hop:
// for=<client>;host=<host>;proto=<scheme>, quoting what is not a token.
func forwardedElement(ip, host, proto string) string {
	var b strings.Builder
	b.Grow(len(ip) + len(host) + len(proto) + 24)
	b.WriteString("for=")
	switch addr, err := netip.ParseAddr(ip); {
	case err != nil:
		b.WriteString("unknown") // not an IP peer (e.g. a unix socket)
	case addr.Is6():
		b.WriteString(`"[`) // IPv6: quoted and bracketed, without a zone
		b.WriteString(addr.WithZone("").String())
		b.WriteString(`]"`)
	default:
		b.WriteString(ip)
	}
	if host != "" {
		b.WriteString(";host=")
		writeForwardedValue(&b, host)
	}
	b.WriteString(";proto=")
	b.WriteString(proto)
	return b.String()
}

// writeForwardedValue writes v as an RFC 7239 value: a token as is,
// anything else as a quoted string with '"' and '\' escaped.
func writeForwardedValue(b *strings.Builder, v string) {
	token := true
	for i := 0; i < len(v); i++ {
		if !isTokenChar(v[i]) {
			token = false
			break
		}
	}
	if token {
		b.WriteString(v)
		return
	}
	b.WriteByte('"')
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '"' || c == '\\' {
			b.WriteByte('\\')
		}
		if c < ' ' || c == 0x7f {
			continue // never forward control bytes
		}
		b.WriteByte(c)
	}
	b.WriteByte('"')
}

// isTokenChar reports whether c is an RFC 9110 tchar.
func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// outboundHeader builds the header sent upstream for r: r's end-to-end
// headers (values shared, not copied), the forwarding headers and the
// request id. upgrade keeps Connection: Upgrade and the Upgrade header.
// vals is backing store for the new values (one allocation with the URL).
func outboundHeader(r *http.Request, rid string, upgrade bool, vals *[4]string) http.Header {
	in := r.Header
	out := make(http.Header, len(in)+6)
	for k, vv := range in {
		if isHopByHop(k) {
			continue
		}
		out[k] = vv
	}
	if _, ok := in[headerConnection]; ok {
		removeConnectionListed(out, in)
	}
	if hasToken(in[headerTE], "trailers") {
		out[headerTE] = valueTrailers
	}
	if upgrade {
		out[headerConnection] = valueUpgrade
		out[headerUpgrade] = in[headerUpgrade]
	}
	if _, ok := in[headerUserAgent]; !ok {
		out[headerUserAgent] = valueEmpty // keep Go's default User-Agent out
	}
	proto := valueHTTP
	if r.TLS != nil {
		proto = valueHTTPS
	}
	ip := clientIP(r)
	if prior := in[headerForwardedFor]; len(prior) > 0 {
		vals[0] = strings.Join(prior, ", ") + ", " + ip
	} else {
		vals[0] = ip
	}
	out[headerForwardedFor] = vals[0:1:1]
	out[headerForwardedProto] = proto
	vals[1] = r.Host
	out[headerForwardedHost] = vals[1:2:2]
	elem := forwardedElement(ip, r.Host, proto[0])
	if prior := in[headerForwarded]; len(prior) > 0 {
		vals[2] = strings.Join(prior, ", ") + ", " + elem
	} else {
		vals[2] = elem
	}
	out[headerForwarded] = vals[2:3:3]
	vals[3] = rid
	out[headerRequestID] = vals[3:4:4]
	return out
}

// copyResponseHeader copies the upstream's end-to-end response headers into
// dst (values shared).
func copyResponseHeader(dst, src http.Header) {
	for k, vv := range src {
		if isHopByHop(k) {
			continue
		}
		dst[k] = vv
	}
	if _, ok := src[headerConnection]; ok {
		removeConnectionListed(dst, src)
	}
}
