package httpproxy

import (
	"net/http"
	"strings"
	"testing"
)

// FuzzOutboundHeader feeds arbitrary header lines (name:value, one per
// line) through outboundHeader and checks its contract: no hop-by-hop
// header and nothing the Connection header names survives (but TE:
// trailers), the forwarding headers are set, and no value gains a control
// byte.
func FuzzOutboundHeader(f *testing.F) {
	f.Add("Connection: X-A, keep-alive\nX-A: 1\nKeep-Alive: 5\nTE: trailers\nX-B: 2", "10.0.0.1:1234", "example.com")
	f.Add("Forwarded: for=1.1.1.1\nX-Forwarded-For: 2.2.2.2", "[::1]:80", "h\"ost")
	f.Add("Connection: ,,,\nUpgrade: websocket", "bad", "")
	f.Fuzz(func(t *testing.T, lines, remote, host string) {
		in := http.Header{}
		for _, l := range strings.Split(lines, "\n") {
			k, v, ok := strings.Cut(l, ":")
			if !ok || k == "" {
				continue
			}
			in.Add(k, strings.TrimSpace(v))
		}
		r := &http.Request{Header: in, RemoteAddr: remote, Host: host, ProtoMajor: 1, ProtoMinor: 1}
		out := outboundHeader(r, "rid", false, new([4]string))
		for k := range out {
			if isHopByHop(k) && !(k == "Te" && out.Get("Te") == "trailers") {
				t.Errorf("hop-by-hop %q forwarded", k)
			}
		}
		for _, v := range in["Connection"] {
			for _, name := range strings.Split(v, ",") {
				name = http.CanonicalHeaderKey(strings.TrimSpace(name))
				if name == "" || name == "Te" || isForwardingHeader(name) {
					continue
				}
				if _, ok := out[name]; ok {
					t.Errorf("Connection-listed %q forwarded", name)
				}
			}
		}
		for _, k := range []string{"X-Forwarded-For", "X-Forwarded-Proto", "Forwarded", "X-Request-Id"} {
			if len(out[k]) != 1 {
				t.Errorf("%s = %q", k, out[k])
			}
		}
		if fwd := out.Get("Forwarded"); strings.ContainsAny(fwd, "\r\n\x00") && !strings.ContainsAny(strings.Join(in["Forwarded"], ""), "\r\n\x00") {
			t.Errorf("Forwarded gained a control byte: %q", fwd)
		}
	})
}

// isForwardingHeader names the headers outboundHeader sets itself.
func isForwardingHeader(k string) bool {
	switch k {
	case "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "Forwarded", "X-Request-Id", "User-Agent":
		return true
	}
	return false
}

// FuzzForwardedElement checks that the RFC 7239 element built from any
// host is one element: no unquoted comma or semicolon inside the host
// value and no control bytes.
func FuzzForwardedElement(f *testing.F) {
	f.Add("10.0.0.1", "example.com:8080", "http")
	f.Add("::1", "a,b;c=\"d\\", "https")
	f.Add("", "\x00\r\n", "http")
	f.Fuzz(func(t *testing.T, ip, host, proto string) {
		if proto != "http" && proto != "https" {
			proto = "http"
		}
		e := forwardedElement(ip, host, proto)
		for i := 0; i < len(e); i++ {
			if e[i] < ' ' || e[i] == 0x7f {
				t.Fatalf("control byte in %q", e)
			}
		}
		// Outside quoted strings there are exactly the two ';' separators.
		inQuote, escaped, semis := false, false, 0
		for i := 0; i < len(e); i++ {
			c := e[i]
			switch {
			case escaped:
				escaped = false
			case inQuote && c == '\\':
				escaped = true
			case c == '"':
				inQuote = !inQuote
			case !inQuote && c == ',':
				t.Fatalf("unquoted comma in %q", e)
			case !inQuote && c == ';':
				semis++
			}
		}
		wantSemis := 2
		if host == "" {
			wantSemis = 1
		}
		if inQuote || semis != wantSemis {
			t.Fatalf("malformed element %q", e)
		}
	})
}

// FuzzRequestID checks that RequestID always leaves one usable id.
func FuzzRequestID(f *testing.F) {
	f.Add("abc-123")
	f.Add("bad id")
	f.Add(strings.Repeat("x", 200))
	f.Fuzz(func(t *testing.T, id string) {
		r := &http.Request{Header: http.Header{"X-Request-Id": {id}}}
		got := RequestID(r)
		if !validRequestID(got) || r.Header.Get("X-Request-Id") != got {
			t.Fatalf("id %q -> %q", id, got)
		}
		if validRequestID(id) && got != id {
			t.Fatalf("valid id %q replaced by %q", id, got)
		}
	})
}

// FuzzParseRetryOn checks that accepted lists hold only known kinds and
// 5xx statuses.
func FuzzParseRetryOn(f *testing.F) {
	f.Add("connect_failure,503")
	f.Add("reset,timeout,502,504")
	f.Add("599,500,abc")
	f.Fuzz(func(t *testing.T, list string) {
		kinds, statuses, err := ParseRetryOn(strings.Split(list, ","))
		if err != nil {
			return
		}
		for _, k := range kinds {
			if k != Connect && k != Reset && k != Timeout {
				t.Fatalf("kind %v", k)
			}
		}
		for _, s := range statuses {
			if s < 500 || s > 599 {
				t.Fatalf("status %d", s)
			}
		}
	})
}
