package geodns

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
)

const testZone = "cdn.cairn.test."

// testRegions is the layout most tests use: tokyo and frankfurt by source
// address on loopback, a more specific subnet inside tokyo's that belongs
// to frankfurt, IPv6 subnets, and a global default without subnets.
const testRegions = "tokyo=127.0.1.0/24,10.1.0.0/16,2001:db8:1::/48@127.0.1.1,127.0.1.2,2001:db8:1::1;" +
	"frankfurt=127.0.2.0/24,10.1.7.0/24,2001:db8:2::/48@127.0.2.1,2001:db8:2::1;" +
	"global=@127.0.9.1"

// testLogger routes a Server's logs to t.Log.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// newTestServer builds a Server for cfg (Zone and Regions defaulted to the
// test layout, Default "global").
func newTestServer(t testing.TB, cfg Config) *Server {
	t.Helper()
	if cfg.Zone == "" {
		cfg.Zone = testZone
	}
	if cfg.Regions == nil {
		regions, err := ParseRegions(testRegions)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Regions = regions
		if cfg.Default == "" {
			cfg.Default = "global"
		}
	}
	s, err := New(cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// startServer serves s on 127.0.0.1:0 until the test ends, and checks
// that Serve then returned nil.
func startServer(t testing.TB, s *Server) {
	t.Helper()
	if err := s.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-errc:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return after cancel")
		}
	})
}

// client returns a dns.Client over network ("udp" or "tcp") whose packets
// leave from source (any 127/8 address works on Linux without setup).
func client(network, source string) *dns.Client {
	ip := net.ParseIP(source)
	var local net.Addr = &net.UDPAddr{IP: ip}
	if network == "tcp" {
		local = &net.TCPAddr{IP: ip}
	}
	return &dns.Client{Net: network, Timeout: 5 * time.Second, Dialer: &net.Dialer{LocalAddr: local, Timeout: 5 * time.Second}}
}

// query builds a query for name and type, with EDNS when udpSize > 0.
func query(name string, qtype uint16, udpSize uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	if udpSize > 0 {
		m.SetEdns0(udpSize, false)
	}
	return m
}

// withECS adds an ECS option for prefix to m (which must have EDNS).
func withECS(m *dns.Msg, prefix string) *dns.Msg {
	p := netip.MustParsePrefix(prefix)
	family := uint16(1)
	if p.Addr().Is6() {
		family = 2
	}
	opt := m.IsEdns0()
	opt.Option = append(opt.Option, &dns.EDNS0_SUBNET{
		Code: dns.EDNS0SUBNET, Family: family, SourceNetmask: uint8(p.Bits()),
		Address: net.IP(p.Addr().AsSlice()),
	})
	return m
}

// exchange sends m to s from source over network and returns the answer.
func exchange(t testing.TB, s *Server, network, source string, m *dns.Msg) *dns.Msg {
	t.Helper()
	r, _, err := client(network, source).Exchange(m, s.Addr())
	if err != nil {
		t.Fatalf("%s exchange from %s: %v", network, source, err)
	}
	if r.Id != m.Id {
		t.Fatalf("response id %d, query id %d", r.Id, m.Id)
	}
	return r
}

// addrs returns the A/AAAA addresses of r's answer section, in order.
func addrs(r *dns.Msg) []string {
	var out []string
	for _, rr := range r.Answer {
		switch rr := rr.(type) {
		case *dns.A:
			out = append(out, rr.A.String())
		case *dns.AAAA:
			out = append(out, rr.AAAA.String())
		}
	}
	return out
}

// ecsOf returns the ECS option of r, or nil.
func ecsOf(r *dns.Msg) *dns.EDNS0_SUBNET {
	opt := r.IsEdns0()
	if opt == nil {
		return nil
	}
	for _, o := range opt.Option {
		if e, ok := o.(*dns.EDNS0_SUBNET); ok {
			return e
		}
	}
	return nil
}
