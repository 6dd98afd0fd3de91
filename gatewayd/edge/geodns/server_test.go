package geodns

import (
	"context"
	"io"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestRegionBySource sends real queries over UDP and TCP from different
// loopback source addresses and checks each gets its region's edges.
func TestRegionBySource(t *testing.T) {
	s := newTestServer(t, Config{})
	startServer(t, s)
	cases := []struct {
		source string
		qtype  uint16
		want   []string
	}{
		{"127.0.1.1", dns.TypeA, []string{"127.0.1.1", "127.0.1.2"}},
		{"127.0.1.200", dns.TypeAAAA, []string{"2001:db8:1::1"}},
		{"127.0.2.7", dns.TypeA, []string{"127.0.2.1"}},
		{"127.0.2.7", dns.TypeAAAA, []string{"2001:db8:2::1"}},
		{"127.0.0.1", dns.TypeA, []string{"127.0.9.1"}}, // no subnet: Default
		{"127.0.1.1", dns.TypeANY, []string{"127.0.1.1", "127.0.1.2", "2001:db8:1::1"}},
	}
	for _, network := range []string{"udp", "tcp"} {
		for _, c := range cases {
			r := exchange(t, s, network, c.source, query(testZone, c.qtype, 0))
			got := addrs(r)
			slices.Sort(got)
			if r.Rcode != dns.RcodeSuccess || !r.Authoritative || !slices.Equal(got, c.want) {
				t.Errorf("%s from %s %s: rcode %s aa %v answer %v, want NOERROR aa %v",
					network, c.source, dns.TypeToString[c.qtype], dns.RcodeToString[r.Rcode], r.Authoritative, got, c.want)
			}
			for _, rr := range r.Answer {
				if rr.Header().Ttl != uint32(DefaultTTL.Seconds()) || rr.Header().Name != testZone {
					t.Errorf("%s: record %v: want ttl %v and owner %s", network, rr, DefaultTTL, testZone)
				}
			}
			if ecsOf(r) != nil {
				t.Errorf("%s from %s: response has an ECS option the query did not", network, c.source)
			}
		}
	}
	if st := s.Stats(); st.UDP != uint64(len(cases)) || st.TCP != uint64(len(cases)) || st.NoError != 2*uint64(len(cases)) {
		t.Errorf("stats %+v, want %d UDP and %d TCP NOERROR responses", st, len(cases), len(cases))
	}
}

// TestECS checks the EDNS Client Subnet option decides the region and is
// echoed with the scope over which the answer holds.
func TestECS(t *testing.T) {
	s := newTestServer(t, Config{})
	startServer(t, s)
	cases := []struct {
		subnet string
		qtype  uint16
		want   []string
		scope  uint8
	}{
		{"127.0.2.0/24", dns.TypeA, []string{"127.0.2.1"}, 24},
		{"127.0.1.128/25", dns.TypeA, []string{"127.0.1.1", "127.0.1.2"}, 24},
		{"10.1.9.0/24", dns.TypeA, []string{"127.0.1.1", "127.0.1.2"}, 21},     // 10.1.8.0/21 holds no frankfurt subnet
		{"10.1.7.0/24", dns.TypeA, []string{"127.0.2.1"}, 24},                  // the more specific subnet
		{"10.1.0.0/16", dns.TypeA, []string{"127.0.1.1", "127.0.1.2"}, 22},     // 10.1.7/24 lies inside: the answer for 10.1.0.0 holds over 10.1.0.0/22, longer than the source
		{"192.0.2.0/24", dns.TypeA, []string{"127.0.9.1"}, 1},                  // default; 0.0.0.0/1 holds the other subnets
		{"2001:db8:2:5::/64", dns.TypeAAAA, []string{"2001:db8:2::1"}, 48},     // IPv6 subnet
		{"2001:db8:1::/56", dns.TypeA, []string{"127.0.1.1", "127.0.1.2"}, 48}, // family of the answer is the question's
	}
	for _, network := range []string{"udp", "tcp"} {
		for _, c := range cases {
			// Sent from tokyo's subnet: the ECS option wins over the source.
			r := exchange(t, s, network, "127.0.1.1", withECS(query(testZone, c.qtype, 1232), c.subnet))
			got := addrs(r)
			slices.Sort(got)
			e := ecsOf(r)
			if r.Rcode != dns.RcodeSuccess || !slices.Equal(got, c.want) || e == nil {
				t.Fatalf("%s ECS %s: rcode %s answer %v ecs %v, want %v with ECS", network, c.subnet, dns.RcodeToString[r.Rcode], got, e, c.want)
			}
			p := netip.MustParsePrefix(c.subnet)
			echoed, _ := netip.AddrFromSlice(e.Address)
			if e.SourceScope != c.scope || int(e.SourceNetmask) != p.Bits() || echoed.Unmap() != p.Addr() {
				t.Errorf("%s ECS %s: echoed %v, want %s with scope %d", network, c.subnet, e, c.subnet, c.scope)
			}
		}
	}

	// Source prefix 0: the resolver asks for an answer not tailored to its
	// clients; the packet's source decides, scope 0.
	r := exchange(t, s, "udp", "127.0.2.9", withECS(query(testZone, dns.TypeA, 1232), "0.0.0.0/0"))
	if got := addrs(r); !slices.Equal(got, []string{"127.0.2.1"}) || ecsOf(r) == nil || ecsOf(r).SourceScope != 0 {
		t.Errorf("ECS /0: answer %v ecs %v, want frankfurt with scope 0", got, ecsOf(r))
	}
	// Names whose answer does not depend on the client echo scope 0.
	r = exchange(t, s, "udp", "127.0.1.1", withECS(query("x."+testZone, dns.TypeA, 1232), "127.0.2.0/24"))
	if r.Rcode != dns.RcodeNameError || ecsOf(r) == nil || ecsOf(r).SourceScope != 0 {
		t.Errorf("NXDOMAIN with ECS: rcode %s ecs %v, want scope 0", dns.RcodeToString[r.Rcode], ecsOf(r))
	}
	// Address bits beyond the source prefix: FORMERR.
	m := query(testZone, dns.TypeA, 1232)
	// (dns.EDNS0_SUBNET masks the address when packing: send raw bytes.)
	m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_LOCAL{Code: dns.EDNS0SUBNET, Data: []byte{0, 1, 16, 0, 10, 1, 7}})
	if r := exchange(t, s, "udp", "127.0.1.1", m); r.Rcode != dns.RcodeFormatError || len(r.Answer) != 0 {
		t.Errorf("ECS with host bits: rcode %s answer %v, want FORMERR", dns.RcodeToString[r.Rcode], r.Answer)
	}
}

// TestZoneRecords checks the apex SOA and NS, NODATA, NXDOMAIN inside the
// zone, REFUSED outside it, case-insensitive names, and the other codes.
func TestZoneRecords(t *testing.T) {
	s := newTestServer(t, Config{TTL: 45 * time.Second, Nameservers: []string{"ns1.example.net", "cdn.cairn.test"}})
	startServer(t, s)

	r := exchange(t, s, "udp", "127.0.0.1", query(testZone, dns.TypeSOA, 0))
	soa, ok := firstRR(r.Answer).(*dns.SOA)
	if r.Rcode != dns.RcodeSuccess || !r.Authoritative || !ok || soa.Ns != "ns1.example.net." || soa.Mbox != "hostmaster."+testZone || soa.Minttl != 45 || soa.Hdr.Ttl != 45 {
		t.Errorf("SOA: %v", r)
	}
	r = exchange(t, s, "tcp", "127.0.0.1", query(testZone, dns.TypeNS, 0))
	var ns []string
	for _, rr := range r.Answer {
		ns = append(ns, rr.(*dns.NS).Ns)
	}
	if r.Rcode != dns.RcodeSuccess || !r.Authoritative || !slices.Equal(ns, []string{"ns1.example.net.", testZone}) {
		t.Errorf("NS: %v", r)
	}

	cases := []struct {
		name    string
		qtype   uint16
		qclass  uint16
		rcode   int
		aa      bool
		soaAuth bool // the authority section holds the SOA
	}{
		{testZone, dns.TypeMX, dns.ClassINET, dns.RcodeSuccess, true, true}, // NODATA
		{"www." + testZone, dns.TypeA, dns.ClassINET, dns.RcodeNameError, true, true},
		{"a.b." + testZone, dns.TypeAAAA, dns.ClassINET, dns.RcodeNameError, true, true},
		{"cairn.test.", dns.TypeA, dns.ClassINET, dns.RcodeRefused, false, false},
		{"example.com.", dns.TypeA, dns.ClassINET, dns.RcodeRefused, false, false},
		{"xcdn.cairn.test.", dns.TypeA, dns.ClassINET, dns.RcodeRefused, false, false},
		{testZone, dns.TypeA, dns.ClassCHAOS, dns.RcodeRefused, false, false},
		{testZone, dns.TypeAXFR, dns.ClassINET, dns.RcodeRefused, false, false},
	}
	for _, c := range cases {
		m := query(c.name, c.qtype, 0)
		m.Question[0].Qclass = c.qclass
		r := exchange(t, s, "udp", "127.0.1.1", m)
		_, isSOA := firstRR(r.Ns).(*dns.SOA)
		if r.Rcode != c.rcode || r.Authoritative != c.aa || isSOA != c.soaAuth || len(r.Answer) != 0 {
			t.Errorf("%s %s: rcode %s aa %v authority %v answer %v, want %s aa %v soa %v",
				c.name, dns.TypeToString[c.qtype], dns.RcodeToString[r.Rcode], r.Authoritative, r.Ns, r.Answer,
				dns.RcodeToString[c.rcode], c.aa, c.soaAuth)
		}
	}

	// Names match case-insensitively; the question comes back as sent.
	r = exchange(t, s, "udp", "127.0.2.1", query("CdN.cAiRn.TeSt.", dns.TypeA, 0))
	if got := addrs(r); !slices.Equal(got, []string{"127.0.2.1"}) || r.Question[0].Name != "CdN.cAiRn.TeSt." || r.Answer[0].Header().Name != "CdN.cAiRn.TeSt." {
		t.Errorf("mixed case: %v", r)
	}

	// EDNS version 1: BADVERS with an OPT of version 0.
	m := query(testZone, dns.TypeA, 1232)
	m.IsEdns0().SetVersion(1)
	r = exchange(t, s, "udp", "127.0.1.1", m)
	if r.Rcode != dns.RcodeBadVers || r.IsEdns0() == nil || r.IsEdns0().Version() != 0 || len(r.Answer) != 0 {
		t.Errorf("EDNS version 1: %v", r)
	}
	// Opcode NOTIFY: NOTIMP.
	m = query(testZone, dns.TypeSOA, 0)
	m.Opcode = dns.OpcodeNotify
	if r := exchange(t, s, "udp", "127.0.1.1", m); r.Rcode != dns.RcodeNotImplemented {
		t.Errorf("NOTIFY: rcode %s, want NOTIMP", dns.RcodeToString[r.Rcode])
	}
	// Two questions: FORMERR.
	m = query(testZone, dns.TypeA, 0)
	m.Question = append(m.Question, m.Question[0])
	if r := exchange(t, s, "udp", "127.0.1.1", m); r.Rcode != dns.RcodeFormatError {
		t.Errorf("two questions: rcode %s, want FORMERR", dns.RcodeToString[r.Rcode])
	}
}

func firstRR(rrs []dns.RR) dns.RR {
	if len(rrs) == 0 {
		return nil
	}
	return rrs[0]
}

// TestHealthyFallback checks an unhealthy region's clients get the next
// healthy region, wrapping around, and their own when none is healthy.
func TestHealthyFallback(t *testing.T) {
	var mu sync.Mutex
	down := map[string]bool{}
	setDown := func(names ...string) {
		mu.Lock()
		defer mu.Unlock()
		clear(down)
		for _, n := range names {
			down[n] = true
		}
	}
	s := newTestServer(t, Config{Healthy: func(region string) bool {
		mu.Lock()
		defer mu.Unlock()
		return !down[region]
	}})
	startServer(t, s)
	cases := []struct {
		down   []string
		source string
		want   string
	}{
		{nil, "127.0.1.1", "127.0.1.1"},
		{[]string{"tokyo"}, "127.0.1.1", "127.0.2.1"},              // next: frankfurt
		{[]string{"tokyo", "frankfurt"}, "127.0.1.1", "127.0.9.1"}, // then global
		{[]string{"global"}, "127.0.0.1", "127.0.1.1"},             // wraps around to tokyo
		{[]string{"tokyo", "frankfurt", "global"}, "127.0.2.1", "127.0.2.1"},
	}
	for _, c := range cases {
		setDown(c.down...)
		r := exchange(t, s, "udp", c.source, query(testZone, dns.TypeA, 0))
		if got := addrs(r); len(got) == 0 || !slices.Contains(got, c.want) {
			t.Errorf("down %v, from %s: answer %v, want %s", c.down, c.source, got, c.want)
		}
		if name, got := s.Answer(netip.MustParseAddr(c.source)); !slices.Contains(got, netip.MustParseAddr(c.want)) {
			t.Errorf("down %v: Answer(%s) = %q %v, want the region of %s", c.down, c.source, name, got, c.want)
		}
	}
}

// TestAnswer checks Answer's region choice and that it returns a copy.
func TestAnswer(t *testing.T) {
	s := newTestServer(t, Config{})
	cases := []struct{ client, region string }{
		{"127.0.1.9", "tokyo"},
		{"10.1.7.3", "frankfurt"},
		{"10.1.8.3", "tokyo"},
		{"::ffff:127.0.2.3", "frankfurt"}, // IPv4-mapped is IPv4
		{"2001:db8:1:ff::1", "tokyo"},
		{"2001:db8:3::1", "global"},
		{"8.8.8.8", "global"},
	}
	for _, c := range cases {
		name, got := s.Answer(netip.MustParseAddr(c.client))
		if name != c.region || len(got) == 0 {
			t.Errorf("Answer(%s) = %q %v, want %q", c.client, name, got, c.region)
		}
	}
	_, a := s.Answer(netip.MustParseAddr("127.0.1.1"))
	a[0] = netip.MustParseAddr("192.0.2.99")
	if _, b := s.Answer(netip.MustParseAddr("127.0.1.1")); b[0] == a[0] {
		t.Error("Answer returned the Server's own slice")
	}
}

// TestRoundRobin checks successive answers start from different edges.
func TestRoundRobin(t *testing.T) {
	s := newTestServer(t, Config{})
	startServer(t, s)
	firsts := map[string]bool{}
	for range 4 {
		r := exchange(t, s, "udp", "127.0.1.1", query(testZone, dns.TypeA, 0))
		firsts[addrs(r)[0]] = true
	}
	if len(firsts) != 2 {
		t.Errorf("first addresses over 4 answers: %v, want both of tokyo's", firsts)
	}
}

// TestTruncationAndTCP checks an answer too big for UDP comes back with TC
// set and whole over TCP, including several queries on one connection.
func TestTruncationAndTCP(t *testing.T) {
	var spec []byte
	spec = append(spec, "big=127.0.1.0/24@"...)
	for i := range 100 {
		if i > 0 {
			spec = append(spec, ',')
		}
		spec = append(spec, netip.AddrFrom4([4]byte{10, 0, byte(i / 256), byte(i)}).String()...)
	}
	regions, err := ParseRegions(string(spec))
	if err != nil {
		t.Fatal(err)
	}
	s := newTestServer(t, Config{Regions: regions})
	startServer(t, s)

	for _, size := range []uint16{0, 1232, 4096} {
		r := exchange(t, s, "udp", "127.0.1.1", query(testZone, dns.TypeA, size))
		limit := max(512, min(int(size), MaxUDPSize))
		r.Compress = true // as sent
		if !r.Truncated || r.Len() > limit || len(r.Answer) >= 100 {
			t.Errorf("UDP with EDNS size %d: tc %v, %d bytes, %d answers; want TC within %d bytes", size, r.Truncated, r.Len(), len(r.Answer), limit)
		}
	}
	if st := s.Stats(); st.Truncated != 3 {
		t.Errorf("stats: %d truncated, want 3", st.Truncated)
	}

	conn, err := client("tcp", "127.0.1.1").Dial(s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for i := range 3 {
		m := query(testZone, dns.TypeA, 0)
		if err := conn.WriteMsg(m); err != nil {
			t.Fatal(err)
		}
		r, err := conn.ReadMsg()
		if err != nil {
			t.Fatal(err)
		}
		if r.Id != m.Id || r.Truncated || len(r.Answer) != 100 {
			t.Errorf("TCP query %d: id %d/%d tc %v, %d answers, want all 100", i, r.Id, m.Id, r.Truncated, len(r.Answer))
		}
	}
}

// TestLifecycle checks Listen with port 0 binds one port for UDP and TCP,
// the error cases, and that cancelling Serve's context stops it and frees
// the port.
func TestLifecycle(t *testing.T) {
	s := newTestServer(t, Config{})
	if s.Addr() != "" {
		t.Errorf("Addr before Listen = %q", s.Addr())
	}
	if err := s.Serve(context.Background()); err != ErrNotListening {
		t.Errorf("Serve before Listen: %v, want ErrNotListening", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.ListenAndServe(ctx, "127.0.0.1:0") }()
	select {
	case <-s.Ready():
	case err := <-errc:
		t.Fatalf("ListenAndServe: %v", err)
	}
	addr := s.Addr()
	if err := s.Listen("127.0.0.1:0"); err != ErrListening {
		t.Errorf("second Listen: %v, want ErrListening", err)
	}
	for _, network := range []string{"udp", "tcp"} {
		if r := exchange(t, s, network, "127.0.2.1", query(testZone, dns.TypeA, 0)); len(r.Answer) != 1 {
			t.Errorf("%s: %v", network, r)
		}
	}
	// A TCP connection left open must not hold up the stop.
	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("ListenAndServe after cancel: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ListenAndServe did not return after cancel")
	}
	// The port is free again for both transports.
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("tcp port not released: %v", err)
	}
	ln.Close()
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Fatalf("udp port not released: %v", err)
	}
	pc.Close()
	if err := s.Serve(context.Background()); err != ErrServed {
		t.Errorf("second Serve: %v, want ErrServed", err)
	}
	s.Close() // after Serve returned: a no-op

	// Close without Serve releases what Listen bound.
	s2 := newTestServer(t, Config{})
	if err := s2.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	addr2 := s2.Addr()
	s2.Close()
	if err := s2.Serve(context.Background()); err != ErrClosed {
		t.Errorf("Serve after Close: %v, want ErrClosed", err)
	}
	if err := s2.Listen("127.0.0.1:0"); err != ErrClosed {
		t.Errorf("Listen after Close: %v, want ErrClosed", err)
	}
	ln, err = net.Listen("tcp", addr2)
	if err != nil {
		t.Fatalf("Close did not release the port: %v", err)
	}
	ln.Close()

	// Close stops a running Serve and waits for it.
	s3 := newTestServer(t, Config{})
	if err := s3.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	errc3 := make(chan error, 1)
	go func() { errc3 <- s3.Serve(context.Background()) }()
	if r := exchange(t, s3, "udp", "127.0.0.1", query(testZone, dns.TypeA, 0)); len(r.Answer) != 1 {
		t.Errorf("s3: %v", r)
	}
	s3.Close()
	if err := <-errc3; err != nil {
		t.Errorf("Serve after Close: %v", err)
	}
}

// TestListenBusyPort checks an explicit port taken by UDP is an error.
func TestListenBusyPort(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	s := newTestServer(t, Config{})
	if err := s.Listen(pc.LocalAddr().String()); err == nil {
		s.Close()
		t.Fatal("Listen on a port whose UDP side is taken succeeded")
	}
}

// TestTCPConnLimit checks the connection past MaxTCPConns is closed at
// once and counted, and that a slot freed is usable again.
func TestTCPConnLimit(t *testing.T) {
	s := newTestServer(t, Config{})
	startServer(t, s)
	open := func() int {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.conns)
	}
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range MaxTCPConns {
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	deadline := time.Now().Add(5 * time.Second)
	for open() < MaxTCPConns {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections tracked, want %d", open(), MaxTCPConns)
		}
		runtime.Gosched()
	}
	extra, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	extra.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := extra.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("connection past the limit: read %d, %v; want EOF", n, err)
	}
	if st := s.Stats(); st.TCPRejected != 1 {
		t.Errorf("TCPRejected = %d, want 1", st.TCPRejected)
	}
	conns[0].Close()
	for open() >= MaxTCPConns {
		if time.Now().After(deadline) {
			t.Fatal("closed connection still tracked")
		}
		runtime.Gosched()
	}
	if r := exchange(t, s, "tcp", "127.0.2.1", query(testZone, dns.TypeA, 0)); len(r.Answer) != 1 {
		t.Errorf("after a slot freed: %v", r)
	}
}
