package gwconfig

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// isName reports whether s can name an upstream, route or JWT provider: 1 to
// 128 ASCII letters, digits, '.', '_' and '-' (names appear in metric labels
// and rate-limit keys).
func isName(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// isLabel reports whether s is a printable consumer, group, scope or role
// name: 1 to 256 bytes, no control characters, no spaces.
func isLabel(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || r == 0xfffd {
			return false
		}
	}
	return true
}

// isToken reports whether s is an HTTP token (RFC 9110 section 5.6.2): a
// valid header name or method.
func isToken(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// isHeaderValue reports whether s can be sent as a header value: no CR, LF,
// NUL or other control characters except tab.
func isHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// unEditable are the headers transforms may not touch: hop-by-hop headers,
// Host and the framing headers the proxy owns.
var unEditable = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true,
	"Transfer-Encoding": true, "Te": true, "Trailer": true, "Upgrade": true,
	"Proxy-Authenticate": true, "Proxy-Authorization": true,
	"Host": true, "Content-Length": true,
}

// isHostName reports whether s is a DNS name (letters, digits, '-', '_' in
// dot-separated labels of 1..63, at most 253 bytes) or an IP literal (IPv6
// in brackets). Ports are not allowed.
func isHostName(s string) bool {
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		a, err := netip.ParseAddr(s[1 : len(s)-1])
		return err == nil && a.Is6()
	}
	if _, err := netip.ParseAddr(s); err == nil {
		return !strings.Contains(s, ":")
	}
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// checkAddress reports what is wrong with a host:port target address, or "".
func checkAddress(a string) string {
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		return "must be host:port"
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if !isHostName(host) {
		return "host " + strconv.Quote(host) + " is not a host name or IP address"
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "port " + strconv.Quote(port) + " is not 1..65535"
	}
	return ""
}

// isServiceName reports whether s is a fully-qualified protobuf service
// name: dot-separated identifiers, at least two.
func isServiceName(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) < 2 || len(s) > 512 {
		return false
	}
	for _, p := range parts {
		if !isIdent(p) {
			return false
		}
	}
	return true
}

// isJSONPath reports whether s is a dot path of non-empty object keys.
func isJSONPath(s string) bool {
	if s == "" || len(s) > 512 {
		return false
	}
	for _, k := range strings.Split(s, ".") {
		if k == "" {
			return false
		}
	}
	return true
}
