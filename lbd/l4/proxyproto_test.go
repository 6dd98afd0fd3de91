package l4

import (
	"bufio"
	"bytes"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
)

func tcpAddr(s string) *net.TCPAddr { return net.TCPAddrFromAddrPort(netip.MustParseAddrPort(s)) }

func TestProxyHeaderRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name     string
		src, dst net.Addr
		v1       string // the version 1 line
		wantS    string // "" = no addresses
		wantD    string
	}{
		{"ipv4", tcpAddr("192.0.2.1:56324"), tcpAddr("198.51.100.7:443"),
			"PROXY TCP4 192.0.2.1 198.51.100.7 56324 443\r\n", "192.0.2.1:56324", "198.51.100.7:443"},
		{"ipv6", tcpAddr("[2001:db8::1]:1"), tcpAddr("[2001:db8::2]:65535"),
			"PROXY TCP6 2001:db8::1 2001:db8::2 1 65535\r\n", "[2001:db8::1]:1", "[2001:db8::2]:65535"},
		{"mapped v4 is v4", tcpAddr("[::ffff:10.0.0.1]:80"), tcpAddr("10.0.0.2:81"),
			"PROXY TCP4 10.0.0.1 10.0.0.2 80 81\r\n", "10.0.0.1:80", "10.0.0.2:81"},
		{"mixed families", tcpAddr("10.0.0.1:80"), tcpAddr("[2001:db8::2]:81"),
			"PROXY TCP6 ::ffff:10.0.0.1 2001:db8::2 80 81\r\n", "10.0.0.1:80", "[2001:db8::2]:81"},
		{"unknown", &net.UnixAddr{Name: "/tmp/s", Net: "unix"}, tcpAddr("10.0.0.2:81"),
			"PROXY UNKNOWN\r\n", "", ""},
		{"nil", nil, nil, "PROXY UNKNOWN\r\n", "", ""},
	} {
		for _, version := range []int{1, 2} {
			var buf bytes.Buffer
			if err := WriteProxyHeader(&buf, version, tc.src, tc.dst); err != nil {
				t.Fatalf("%s v%d: write: %v", tc.name, version, err)
			}
			if version == 1 && buf.String() != tc.v1 {
				t.Errorf("%s: v1 line %q, want %q", tc.name, buf.String(), tc.v1)
			}
			buf.WriteString("rest")
			br := bufio.NewReader(&buf)
			src, dst, err := ReadProxyHeader(br)
			if err != nil {
				t.Fatalf("%s v%d: read: %v", tc.name, version, err)
			}
			gotS, gotD := "", ""
			if src != nil {
				gotS, gotD = src.String(), dst.String()
			}
			if gotS != tc.wantS || gotD != tc.wantD {
				t.Errorf("%s v%d: read %q %q, want %q %q", tc.name, version, gotS, gotD, tc.wantS, tc.wantD)
			}
			if rest, _ := br.ReadString(0); rest != "rest" {
				t.Errorf("%s v%d: the bytes after the header are %q", tc.name, version, rest)
			}
		}
	}
	if err := WriteProxyHeader(&bytes.Buffer{}, 3, nil, nil); err == nil {
		t.Error("version 3 written without error")
	}
}

// v2 builds a version 2 header from its parts.
func v2(cmd, fam byte, body []byte) []byte {
	b := append([]byte{}, proxyV2Sig...)
	b = append(b, cmd, fam, byte(len(body)>>8), byte(len(body)))
	return append(b, body...)
}

func TestProxyHeaderV2Forms(t *testing.T) {
	inet := []byte{10, 0, 0, 1, 10, 0, 0, 2, 0, 80, 1, 187}
	tlv := []byte{0x04, 0, 3, 'a', 'b', 'c'} // a NOOP TLV
	for _, tc := range []struct {
		name string
		in   []byte
		want string // "src dst", "" = no addresses
	}{
		{"local", v2(v2Local, v2Unspec, nil), ""},
		{"local with addresses ignored", v2(v2Local, v2TCP4, inet), ""},
		{"unspec", v2(v2Proxy, v2Unspec, []byte{1, 2, 3}), ""},
		{"tcp4 with tlv", v2(v2Proxy, v2TCP4, append(inet, tlv...)), "10.0.0.1:80 10.0.0.2:443"},
		{"udp4", v2(v2Proxy, v2UDP4, inet), "10.0.0.1:80 10.0.0.2:443"},
		{"unix", v2(v2Proxy, v2Unix, make([]byte, v2UnixLen)), ""},
	} {
		src, dst, err := ReadProxyHeader(bufio.NewReader(bytes.NewReader(tc.in)))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		got := ""
		if src != nil {
			got = src.String() + " " + dst.String()
		}
		if got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestProxyHeaderMalformed(t *testing.T) {
	inet := []byte{10, 0, 0, 1, 10, 0, 0, 2, 0, 80, 1, 187}
	for _, tc := range []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"not proxy", "GET / HTTP/1.1\r\n"},
		{"no crlf", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"},
		{"truncated", "PROXY TCP4 1.2.3.4"},
		{"too long", "PROXY UNKNOWN " + strings.Repeat("x", 100) + "\r\n"},
		{"bad proto", "PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n"},
		{"v6 in tcp4", "PROXY TCP4 ::1 ::1 1 2\r\n"},
		{"v4 in tcp6", "PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n"},
		{"port range", "PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n"},
		{"port sign", "PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n"},
		{"port zero-padded", "PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n"},
		{"fields", "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n"},
		{"double space", "PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n"},
		{"PROXYX", "PROXYX\r\n"},
		{"v2 short", string(proxyV2Sig[:10])},
		{"v2 bad sig", "\r\n\r\n\x00\r\nQUIX\n\x21\x11\x00\x0c"},
		{"v2 version 1", string(v2(0x11, v2TCP4, inet))},
		{"v2 command 2", string(v2(0x22, v2TCP4, inet))},
		{"v2 family", string(v2(v2Proxy, 0x41, inet))},
		{"v2 length short", string(v2(v2Proxy, v2TCP6, inet))},
		{"v2 body missing", string(v2(v2Proxy, v2TCP4, inet)[:20])},
	} {
		_, _, err := ReadProxyHeader(bufio.NewReader(strings.NewReader(tc.in)))
		if !errors.Is(err, ErrProxyHeader) {
			t.Errorf("%s: err = %v, want ErrProxyHeader", tc.name, err)
		}
	}
}

func FuzzReadProxyHeader(f *testing.F) {
	var b bytes.Buffer
	WriteProxyHeader(&b, 2, tcpAddr("10.0.0.1:80"), tcpAddr("10.0.0.2:443"))
	f.Add(b.Bytes())
	b.Reset()
	WriteProxyHeader(&b, 2, tcpAddr("[2001:db8::1]:80"), tcpAddr("[2001:db8::2]:443"))
	f.Add(b.Bytes())
	f.Add(v2(v2Local, v2Unspec, nil))
	f.Add([]byte("PROXY TCP4 192.0.2.1 198.51.100.7 56324 443\r\n"))
	f.Add([]byte("PROXY TCP6 2001:db8::1 2001:db8::2 1 65535\r\nGET"))
	f.Add([]byte("PROXY UNKNOWN\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bytes.NewReader(in)
		br := bufio.NewReaderSize(r, 16)
		src, dst, err := ReadProxyHeader(br)
		consumed := len(in) - r.Len() - br.Buffered()
		if err != nil {
			if !errors.Is(err, ErrProxyHeader) {
				t.Fatalf("error %v does not wrap ErrProxyHeader", err)
			}
			return
		}
		if len(in) > 0 && in[0] == 'P' && consumed > MaxProxyV1Line {
			t.Fatalf("v1 header consumed %d bytes", consumed)
		}
		if (src == nil) != (dst == nil) {
			t.Fatalf("one address nil: %v %v", src, dst)
		}
		ts, ok1 := src.(*net.TCPAddr)
		td, ok2 := dst.(*net.TCPAddr)
		if !ok1 || !ok2 {
			return
		}
		// What was read writes back and reads again the same, in both versions.
		for _, version := range []int{1, 2} {
			var out bytes.Buffer
			if err := WriteProxyHeader(&out, version, ts, td); err != nil {
				t.Fatal(err)
			}
			s2, d2, err := ReadProxyHeader(bufio.NewReader(&out))
			if err != nil {
				t.Fatalf("v%d re-read of %q: %v", version, out.Bytes(), err)
			}
			want := addrPortOf(ts).String() + " " + addrPortOf(td).String()
			got := addrPortOf(s2).String() + " " + addrPortOf(d2).String()
			if got != want {
				t.Fatalf("v%d round trip: %s, want %s", version, got, want)
			}
		}
	})
}
