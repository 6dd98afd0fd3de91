package geodns

import (
	"hash/fnv"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/miekg/dns"

	"cairn.dev/cairn/node"
)

// Server is the authoritative DNS server of one CDN zone. It answers the
// zone name's A and AAAA queries with the addresses of the client's region
// (see Answer), SOA and NS at the apex, NXDOMAIN for other names in the
// zone and REFUSED outside it, over UDP and TCP on one address.
//
// Create it with New, then Listen and Serve (or ListenAndServe); stop it by
// cancelling Serve's context or with Close. Its methods are safe for
// concurrent use.
type Server struct {
	cfg    Config
	logger *slog.Logger
	table  *table
	dflt   int           // index of cfg.Default in cfg.Regions
	soa    *dns.SOA      // the apex SOA (owner name in canonical case)
	ns     []*dns.NS     // the apex NS records
	rotate atomic.Uint64 // round-robin start of address answers
	stats  counters

	addr  atomic.Pointer[string] // the bound address, set by Listen
	ready chan struct{}          // closed by Listen once bound
	stop  chan struct{}          // closed when shutdown begins
	done  chan struct{}          // closed when Serve has stopped everything

	mu       sync.Mutex // protects the fields below
	udp      *net.UDPConn
	tcp      *net.TCPListener
	conns    map[net.Conn]struct{} // open TCP connections
	serving  bool                  // Serve was called
	stopping bool                  // shutdown began: no new connections
	closed   bool                  // sockets closed

	stopOnce   sync.Once
	goroutines node.Goroutines // UDP workers, the TCP accept loop and connections
}

// New checks cfg (errors wrap ErrConfig and name the field and the limit)
// and returns a Server that is not listening yet. A nil logger discards.
func New(cfg Config, logger *slog.Logger) (*Server, error) {
	cfg, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		cfg:    cfg,
		logger: logger.With("zone", cfg.Zone),
		table:  newTable(cfg.Regions),
		ready:  make(chan struct{}),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
		conns:  make(map[net.Conn]struct{}),
	}
	s.dflt = slices.IndexFunc(cfg.Regions, func(r Region) bool { return r.Name == cfg.Default })
	ttl := uint32(cfg.TTL.Seconds())
	s.soa = &dns.SOA{
		Hdr:     dns.RR_Header{Name: cfg.Zone, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: ttl},
		Ns:      cfg.Nameservers[0],
		Mbox:    cfg.Hostmaster,
		Serial:  serial(cfg),
		Refresh: 3600,
		Retry:   600,
		Expire:  86400,
		Minttl:  ttl,
	}
	for _, n := range cfg.Nameservers {
		s.ns = append(s.ns, &dns.NS{Hdr: dns.RR_Header{Name: cfg.Zone, Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: ttl}, Ns: n})
	}
	return s, nil
}

// serial is the SOA serial: a hash of the zone's configuration, so that
// every edge with the same configuration reports the same serial. The zone
// is never transferred, so the serial need not increase.
func serial(cfg Config) uint32 {
	h := fnv.New32a()
	h.Write([]byte(cfg.Zone))
	for _, r := range cfg.Regions {
		h.Write([]byte{0})
		h.Write([]byte(r.Name))
		for _, p := range r.Subnets {
			h.Write([]byte(p.String()))
		}
		h.Write([]byte{'@'})
		for _, a := range r.Addrs {
			h.Write(a.AsSlice())
		}
	}
	return h.Sum32()
}

// Answer returns the region that answers a client at the given address and
// that region's addresses (a copy, in configuration order): the region of
// the longest subnet containing client, else the Default region; when
// Healthy says that region is down, the next healthy one in Regions order.
func (s *Server) Answer(client netip.Addr) (region string, addrs []netip.Addr) {
	i, _ := s.table.lookup(client)
	r := s.cfg.Regions[s.pick(i)]
	return r.Name, slices.Clone(r.Addrs)
}

// pick turns a table lookup result (-1: no subnet) into the index of the
// region to answer, applying Default and Healthy.
func (s *Server) pick(i int) int {
	if i < 0 {
		i = s.dflt
	}
	if s.cfg.Healthy == nil || s.cfg.Healthy(s.cfg.Regions[i].Name) {
		return i
	}
	n := len(s.cfg.Regions)
	for j := 1; j < n; j++ {
		if k := (i + j) % n; s.cfg.Healthy(s.cfg.Regions[k].Name) {
			return k
		}
	}
	return i
}

// Addr returns the address the Server listens on (UDP and TCP share it),
// or "" before Listen.
func (s *Server) Addr() string {
	if p := s.addr.Load(); p != nil {
		return *p
	}
	return ""
}

// Ready returns a channel closed once the Server is listening (Addr is set).
func (s *Server) Ready() <-chan struct{} { return s.ready }
