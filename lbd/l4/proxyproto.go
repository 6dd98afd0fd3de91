package l4

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// Limits and constants of the PROXY protocol (HAProxy's "PROXY protocol"
// versions 1 and 2).
const (
	// MaxProxyV1Line is the longest version 1 header, "\r\n" included.
	MaxProxyV1Line = 107
	// proxyV2HeaderLen is the fixed part of a version 2 header: signature,
	// version/command, family/protocol and the 16-bit length.
	proxyV2HeaderLen = 16
)

// proxyV2Sig starts every version 2 header.
var proxyV2Sig = []byte("\r\n\r\n\x00\r\nQUIT\n")

// Version 2 command and family/protocol bytes.
const (
	v2Local   = 0x20 // version 2, LOCAL: the proxy's own connection (health check)
	v2Proxy   = 0x21 // version 2, PROXY: relayed for a client
	v2Unspec  = 0x00
	v2TCP4    = 0x11
	v2UDP4    = 0x12
	v2TCP6    = 0x21
	v2UDP6    = 0x22
	v2Unix    = 0x31 // stream; 0x32 datagram
	v2InetLen = 12
	v2Inet6   = 36
	v2UnixLen = 216
)

// WriteProxyHeader writes a PROXY protocol header of version 1 (text) or 2
// (binary) saying the connection came from src to dst. When src and dst are
// not both TCP addresses it writes the "unknown" form (v1 "PROXY UNKNOWN",
// v2 PROXY command with the unspecified family), which tells the receiver to
// use the connection's own addresses. An IPv4 and an IPv6 address together
// are written as IPv6 (the IPv4 one mapped).
func WriteProxyHeader(w io.Writer, version int, src, dst net.Addr) error {
	if version != 1 && version != 2 {
		return fmt.Errorf("l4: PROXY protocol version %d, want 1 or 2", version)
	}
	s, sok := tcpAddrPort(src)
	d, dok := tcpAddrPort(dst)
	known := sok && dok
	v4 := known && s.Addr().Is4() && d.Addr().Is4()
	if known && !v4 {
		s = netip.AddrPortFrom(netip.AddrFrom16(s.Addr().As16()), s.Port())
		d = netip.AddrPortFrom(netip.AddrFrom16(d.Addr().As16()), d.Port())
	}
	var buf []byte
	if version == 1 {
		switch {
		case !known:
			buf = []byte("PROXY UNKNOWN\r\n")
		default:
			fam := "TCP6"
			if v4 {
				fam = "TCP4"
			}
			buf = fmt.Appendf(nil, "PROXY %s %s %s %d %d\r\n", fam, s.Addr(), d.Addr(), s.Port(), d.Port())
		}
	} else {
		buf = append(buf, proxyV2Sig...)
		switch {
		case !known:
			buf = append(buf, v2Proxy, v2Unspec, 0, 0)
		case v4:
			buf = append(buf, v2Proxy, v2TCP4, 0, v2InetLen)
			buf = append(buf, s.Addr().AsSlice()...)
			buf = append(buf, d.Addr().AsSlice()...)
			buf = binary.BigEndian.AppendUint16(buf, s.Port())
			buf = binary.BigEndian.AppendUint16(buf, d.Port())
		default:
			buf = append(buf, v2Proxy, v2TCP6, 0, v2Inet6)
			buf = append(buf, s.Addr().AsSlice()...)
			buf = append(buf, d.Addr().AsSlice()...)
			buf = binary.BigEndian.AppendUint16(buf, s.Port())
			buf = binary.BigEndian.AppendUint16(buf, d.Port())
		}
	}
	_, err := w.Write(buf)
	return err
}

// tcpAddrPort returns a's address (IPv4-mapped ones unmapped) when a is a
// TCP address with an IP.
func tcpAddrPort(a net.Addr) (netip.AddrPort, bool) {
	t, ok := a.(*net.TCPAddr)
	if !ok || t == nil {
		return netip.AddrPort{}, false
	}
	ap := t.AddrPort()
	if !ap.Addr().IsValid() {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), true
}

// ReadProxyHeader reads a PROXY protocol header, version 1 or 2, from the
// start of r and returns the client (src) and proxy-side (dst) addresses it
// carries: *net.TCPAddr, or *net.UDPAddr for v2 UDP. Both are nil for the
// forms without addresses (v1 UNKNOWN, v2 LOCAL, v2 unspecified or unix
// family): the receiver should use the connection's own addresses. v2 TLVs
// are skipped. Reads are bounded: at most MaxProxyV1Line bytes for v1, and
// for v2 the 16-byte header plus its length field (≤ 65535). Malformed input
// gives an error wrapping ErrProxyHeader; what was read is consumed.
func ReadProxyHeader(r *bufio.Reader) (src, dst net.Addr, err error) {
	first, err := r.Peek(1)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrProxyHeader, eofUnexpected(err))
	}
	switch first[0] {
	case 'P':
		return readProxyV1(r)
	case proxyV2Sig[0]:
		return readProxyV2(r)
	}
	return nil, nil, fmt.Errorf("%w: starts with %q, neither \"PROXY \" nor the v2 signature", ErrProxyHeader, first[0])
}

// eofUnexpected turns io.EOF into io.ErrUnexpectedEOF: a header was due.
func eofUnexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

func readProxyV1(r *bufio.Reader) (src, dst net.Addr, err error) {
	var line [MaxProxyV1Line]byte
	n := 0
	for {
		if n == len(line) {
			return nil, nil, fmt.Errorf("%w: v1 line longer than %d bytes", ErrProxyHeader, MaxProxyV1Line)
		}
		b, err := r.ReadByte()
		if err != nil {
			return nil, nil, fmt.Errorf("%w: v1 line: %w", ErrProxyHeader, eofUnexpected(err))
		}
		line[n] = b
		n++
		if b == '\n' {
			break
		}
	}
	if n < 2 || line[n-2] != '\r' {
		return nil, nil, fmt.Errorf("%w: v1 line does not end with \\r\\n", ErrProxyHeader)
	}
	text := string(line[:n-2])
	fields := strings.Split(text, " ")
	if fields[0] != "PROXY" || len(fields) < 2 {
		return nil, nil, fmt.Errorf("%w: v1 line %q does not start with \"PROXY \"", ErrProxyHeader, text)
	}
	var want4 bool
	switch fields[1] {
	case "UNKNOWN":
		return nil, nil, nil // the rest of the line, if any, is to be ignored
	case "TCP4":
		want4 = true
	case "TCP6":
	default:
		return nil, nil, fmt.Errorf("%w: v1 protocol %q, want TCP4, TCP6 or UNKNOWN", ErrProxyHeader, fields[1])
	}
	if len(fields) != 6 {
		return nil, nil, fmt.Errorf("%w: v1 line %q has %d fields, want 6", ErrProxyHeader, text, len(fields))
	}
	var ips [2]netip.Addr
	var ports [2]uint16
	for i := range 2 {
		ip, err := netip.ParseAddr(fields[2+i])
		if err != nil || ip.Zone() != "" || ip.Is4() != want4 {
			return nil, nil, fmt.Errorf("%w: v1 address %q is not an %s address", ErrProxyHeader, fields[2+i], fields[1])
		}
		ips[i] = ip
		port, err := parsePort(fields[4+i])
		if err != nil {
			return nil, nil, fmt.Errorf("%w: v1 port %q: %v", ErrProxyHeader, fields[4+i], err)
		}
		ports[i] = port
	}
	return net.TCPAddrFromAddrPort(netip.AddrPortFrom(ips[0], ports[0])),
		net.TCPAddrFromAddrPort(netip.AddrPortFrom(ips[1], ports[1])), nil
}

// parsePort parses a decimal port 0..65535 without sign or leading zeros.
func parsePort(s string) (uint16, error) {
	if s == "" || (len(s) > 1 && s[0] == '0') || s[0] < '0' || s[0] > '9' {
		return 0, fmt.Errorf("want a decimal number 0..65535 without leading zeros")
	}
	v, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		return 0, fmt.Errorf("want a decimal number 0..65535")
	}
	return uint16(v), nil
}

func readProxyV2(r *bufio.Reader) (src, dst net.Addr, err error) {
	var hdr [proxyV2HeaderLen]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, nil, fmt.Errorf("%w: v2 header: %w", ErrProxyHeader, eofUnexpected(err))
	}
	if !bytes.Equal(hdr[:12], proxyV2Sig) {
		return nil, nil, fmt.Errorf("%w: bad v2 signature % x", ErrProxyHeader, hdr[:12])
	}
	verCmd, famProto := hdr[12], hdr[13]
	length := int(binary.BigEndian.Uint16(hdr[14:]))
	if verCmd>>4 != 2 {
		return nil, nil, fmt.Errorf("%w: v2 version nibble %d, want 2", ErrProxyHeader, verCmd>>4)
	}
	if verCmd != v2Local && verCmd != v2Proxy {
		return nil, nil, fmt.Errorf("%w: v2 command %d, want 0 (LOCAL) or 1 (PROXY)", ErrProxyHeader, verCmd&0xf)
	}
	var need int
	switch famProto {
	case v2Unspec:
	case v2TCP4, v2UDP4:
		need = v2InetLen
	case v2TCP6, v2UDP6:
		need = v2Inet6
	case v2Unix, v2Unix + 1:
		need = v2UnixLen
	default:
		return nil, nil, fmt.Errorf("%w: v2 family/protocol 0x%02x unsupported", ErrProxyHeader, famProto)
	}
	if length < need {
		return nil, nil, fmt.Errorf("%w: v2 length %d is shorter than the %d address bytes of family 0x%02x", ErrProxyHeader, length, need, famProto)
	}
	// Only the addresses are kept; TLVs and unix paths are discarded.
	keep := need
	if famProto>>4 == 3 {
		keep = 0
	}
	body := make([]byte, keep)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, nil, fmt.Errorf("%w: v2 addresses: %w", ErrProxyHeader, eofUnexpected(err))
	}
	if _, err := r.Discard(length - keep); err != nil {
		return nil, nil, fmt.Errorf("%w: v2 body of %d bytes: %w", ErrProxyHeader, length, eofUnexpected(err))
	}
	if verCmd == v2Local || keep == 0 {
		return nil, nil, nil
	}
	alen := keep/2 - 2
	sip, _ := netip.AddrFromSlice(body[:alen])
	dip, _ := netip.AddrFromSlice(body[alen : 2*alen])
	sp := netip.AddrPortFrom(sip, binary.BigEndian.Uint16(body[2*alen:]))
	dp := netip.AddrPortFrom(dip, binary.BigEndian.Uint16(body[2*alen+2:]))
	if famProto&0xf == 2 {
		return net.UDPAddrFromAddrPort(sp), net.UDPAddrFromAddrPort(dp), nil
	}
	return net.TCPAddrFromAddrPort(sp), net.TCPAddrFromAddrPort(dp), nil
}
