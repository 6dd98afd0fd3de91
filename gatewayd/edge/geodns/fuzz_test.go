package geodns

import (
	"encoding/binary"
	"math/rand/v2"
	"net"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// fuzzSeeds returns packed queries of every kind the server answers,
// plus broken ones.
func fuzzSeeds(t testing.TB) [][]byte {
	var msgs []*dns.Msg
	for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeANY, dns.TypeSOA, dns.TypeNS, dns.TypeMX} {
		msgs = append(msgs, query(testZone, qt, 0), query(testZone, qt, 1232))
	}
	msgs = append(msgs,
		query("www."+testZone, dns.TypeA, 0),
		query("example.com.", dns.TypeA, 0),
		withECS(query(testZone, dns.TypeA, 1232), "10.1.7.0/24"),
		withECS(query(testZone, dns.TypeAAAA, 4096), "2001:db8:2::/48"),
		withECS(query(testZone, dns.TypeA, 512), "0.0.0.0/0"),
	)
	var seeds [][]byte
	for _, m := range msgs {
		b, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, b, b[:len(b)-1], b[:12])
	}
	seeds = append(seeds, nil, []byte{0}, make([]byte, 12), []byte("\x12\x34\x81\x80\x00\x01\x00\x00\x00\x00\x00\x00"))
	return seeds
}

// checkResponse checks what respond returned for raw.
func checkResponse(t *testing.T, raw, out []byte, udp bool) {
	if out == nil {
		return
	}
	if len(raw) < 12 {
		t.Fatalf("answered a %d-byte packet", len(raw))
	}
	r := new(dns.Msg)
	if err := r.Unpack(out); err != nil {
		t.Fatalf("response does not unpack: %v", err)
	}
	if r.Id != binary.BigEndian.Uint16(raw) || !r.Response {
		t.Fatalf("response id %d qr %v for query id %d", r.Id, r.Response, binary.BigEndian.Uint16(raw))
	}
	if udp && len(out) > MaxUDPSize {
		t.Fatalf("UDP response of %d bytes", len(out))
	}
}

// FuzzRespond feeds arbitrary packets to the message handler: it must not
// panic, must drop what is shorter than a header or a response, and must
// answer everything else with a well-formed response of the query's ID.
func FuzzRespond(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s, true)
	}
	s := newTestServer(f, Config{})
	f.Fuzz(func(t *testing.T, raw []byte, udp bool) {
		out := s.respond(raw, netip.MustParseAddr("127.0.1.1"), udp)
		checkResponse(t, raw, out, udp)
		if len(raw) >= 12 && raw[2]&0x80 == 0 && out == nil {
			t.Fatalf("query %x dropped", raw)
		}
	})
}

// TestMalformedOverSockets sends random and mutated packets (seeded; the
// seed is logged) over real UDP and TCP, and checks the server answers a
// valid query afterwards.
func TestMalformedOverSockets(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	s := newTestServer(t, Config{})
	startServer(t, s)
	seeds := fuzzSeeds(t)
	packets := make([][]byte, 0, 300)
	for range 300 {
		var p []byte
		if rng.IntN(2) == 0 {
			p = make([]byte, rng.IntN(100))
			for i := range p {
				p[i] = byte(rng.IntN(256))
			}
		} else {
			p = append([]byte(nil), seeds[rng.IntN(len(seeds))]...)
			for range 1 + rng.IntN(4) {
				if len(p) > 0 {
					p[rng.IntN(len(p))] = byte(rng.IntN(256))
				}
			}
		}
		packets = append(packets, p)
	}

	// UDP: one packet at a time, waiting until the server read it, so
	// that no datagram is lost to a full socket buffer.
	udp, err := net.Dial("udp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	read := s.Stats().Queries
	for _, p := range packets {
		if _, err := udp.Write(p); err != nil {
			t.Fatal(err)
		}
		read++
		waitQueries(t, s, read)
	}
	// TCP: all at once on one connection.
	tcp, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	var stream []byte
	for _, p := range packets {
		stream = binary.BigEndian.AppendUint16(stream, uint16(len(p)))
		stream = append(stream, p...)
	}
	if _, err := tcp.Write(stream); err != nil {
		t.Fatal(err)
	}
	read += uint64(len(packets))
	waitQueries(t, s, read)
	// Every message read is answered or dropped (counted once finished).
	deadline := time.Now().Add(5 * time.Second)
	for st := s.Stats(); st.UDP+st.TCP+st.Dropped != st.Queries; st = s.Stats() {
		if time.Now().After(deadline) {
			t.Fatalf("stats %+v: responses + dropped != queries", st)
		}
		runtime.Gosched()
	}
	// Both transports still answer.
	for _, network := range []string{"udp", "tcp"} {
		if r := exchange(t, s, network, "127.0.2.1", query(testZone, dns.TypeA, 0)); len(r.Answer) != 1 {
			t.Errorf("%s after malformed packets: %v", network, r)
		}
	}
}

// waitQueries polls s's stats until it has read n messages, or fails the
// test after a deadline.
func waitQueries(t *testing.T, s *Server, n uint64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for s.Stats().Queries < n {
		if time.Now().After(deadline) {
			t.Fatalf("server read %d messages, want %d", s.Stats().Queries, n)
		}
		runtime.Gosched()
	}
}
