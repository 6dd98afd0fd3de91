package geodns

import (
	"encoding/binary"
	"net"
	"net/netip"

	"github.com/miekg/dns"
)

// UDP payload sizes: MinUDPSize is what a client without EDNS accepts;
// MaxUDPSize is the most this server sends over UDP whatever the client
// advertises (the DNS flag day 2020 value, which avoids IP fragmentation).
// Larger answers are truncated (TC set) and the client retries over TCP.
const (
	MinUDPSize = 512
	MaxUDPSize = 1232
)

// respond answers one DNS message from client and returns the packed
// response, or nil to send nothing. udp selects the UDP size limits.
//
// Messages shorter than a header, and responses (QR set), are dropped. A
// query that does not parse gets FORMERR carrying only its header's ID and
// opcode. respond never panics on any input (see FuzzRespond).
func (s *Server) respond(raw []byte, client netip.Addr, udp bool) []byte {
	s.stats.queries.Add(1)
	if len(raw) < 12 || raw[2]&0x80 != 0 {
		s.stats.dropped.Add(1)
		return nil
	}
	req := new(dns.Msg)
	if err := req.Unpack(raw); err != nil {
		return s.pack(headerError(raw), MinUDPSize, udp)
	}
	m, size := s.reply(req, client)
	if !udp {
		size = dns.MaxMsgSize
	}
	return s.pack(m, size, udp)
}

// headerError is the FORMERR response to a query whose header is all that
// parsed: its ID, opcode and RD bit, no question.
func headerError(raw []byte) *dns.Msg {
	m := new(dns.Msg)
	m.Id = binary.BigEndian.Uint16(raw)
	m.Response = true
	m.Opcode = int(raw[2]>>3) & 0xF
	m.RecursionDesired = raw[2]&0x01 != 0
	m.Rcode = dns.RcodeFormatError
	return m
}

// pack truncates m to size when it is larger (UDP), packs it and counts it.
func (s *Server) pack(m *dns.Msg, size int, udp bool) []byte {
	if udp && m.Len() > size {
		m.Truncate(size)
		s.stats.truncated.Add(1)
	}
	out, err := m.Pack()
	if err != nil {
		// Only records this server built are packed; a failure is a bug,
		// logged, and the query goes unanswered rather than half-answered.
		s.logger.Error("geodns: packing a response failed", "err", err, "question", m.Question)
		s.stats.dropped.Add(1)
		return nil
	}
	switch m.Rcode {
	case dns.RcodeSuccess:
		s.stats.noError.Add(1)
	case dns.RcodeNameError:
		s.stats.nxDomain.Add(1)
	case dns.RcodeRefused:
		s.stats.refused.Add(1)
	case dns.RcodeFormatError:
		s.stats.formErr.Add(1)
	case dns.RcodeNotImplemented:
		s.stats.notImp.Add(1)
	case dns.RcodeBadVers:
		s.stats.badVers.Add(1)
	}
	if udp {
		s.stats.udp.Add(1)
	} else {
		s.stats.tcp.Add(1)
	}
	return out
}

// reply builds the response to a parsed query from client, and the UDP
// size the client accepts.
func (s *Server) reply(req *dns.Msg, client netip.Addr) (*dns.Msg, int) {
	m := new(dns.Msg)
	m.Compress = true
	if req.Opcode != dns.OpcodeQuery {
		return m.SetRcode(req, dns.RcodeNotImplemented), MinUDPSize
	}
	if len(req.Question) != 1 {
		return m.SetRcode(req, dns.RcodeFormatError), MinUDPSize
	}
	m.SetReply(req)

	// EDNS (RFC 6891): at most one OPT; version 0 only. The reply carries
	// an OPT when the query did.
	size := MinUDPSize
	var opt *dns.OPT
	for _, rr := range req.Extra {
		if o, ok := rr.(*dns.OPT); ok {
			if opt != nil {
				return m.SetRcode(req, dns.RcodeFormatError), MinUDPSize
			}
			opt = o
		}
	}
	var ecs *dns.EDNS0_SUBNET
	if opt != nil {
		size = min(max(int(opt.UDPSize()), MinUDPSize), MaxUDPSize)
		m.SetEdns0(MaxUDPSize, false)
		if opt.Version() != 0 {
			m.Rcode = dns.RcodeBadVers
			return m, size
		}
		for _, o := range opt.Option {
			if e, ok := o.(*dns.EDNS0_SUBNET); ok {
				if ecs != nil {
					m.Rcode = dns.RcodeFormatError
					return m, size
				}
				ecs = e
			}
		}
	}
	scope := s.answer(m, req.Question[0], client, ecs)
	if scope < 0 {
		m.Rcode = dns.RcodeFormatError
		m.Answer, m.Ns = nil, nil
		return m, size
	}
	if ecs != nil && m.Rcode != dns.RcodeRefused {
		m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_SUBNET{
			Code:          dns.EDNS0SUBNET,
			Family:        ecs.Family,
			SourceNetmask: ecs.SourceNetmask,
			SourceScope:   uint8(scope),
			Address:       ecs.Address,
		})
	}
	return m, size
}

// answer fills m's code and sections for question q from client (whose
// ECS option, if any, is ecs) and returns the ECS scope of the answer: 0
// when it does not depend on the client, -1 when the ECS option is
// malformed (FORMERR).
func (s *Server) answer(m *dns.Msg, q dns.Question, client netip.Addr, ecs *dns.EDNS0_SUBNET) int {
	if q.Qclass != dns.ClassINET {
		m.Rcode = dns.RcodeRefused
		return 0
	}
	name := dns.CanonicalName(q.Name)
	if !dns.IsSubDomain(s.cfg.Zone, name) {
		m.Rcode = dns.RcodeRefused
		return 0
	}
	m.Authoritative = true
	if name != s.cfg.Zone {
		m.Rcode = dns.RcodeNameError
		m.Ns = []dns.RR{s.soa}
		return 0
	}
	switch q.Qtype {
	case dns.TypeSOA:
		m.Answer = []dns.RR{s.soa}
		m.Ns = nsRecords(s.ns)
		return 0
	case dns.TypeNS:
		m.Answer = nsRecords(s.ns)
		return 0
	case dns.TypeAXFR, dns.TypeIXFR:
		m.Authoritative = false
		m.Rcode = dns.RcodeRefused
		return 0
	case dns.TypeA, dns.TypeAAAA, dns.TypeANY:
	default:
		m.Ns = []dns.RR{s.soa} // NODATA
		return 0
	}

	who, scope, ok := clientSubnet(client, ecs)
	if !ok {
		return -1
	}
	i, tableScope := s.table.lookup(who)
	if ecs != nil && ecs.SourceNetmask > 0 {
		scope = tableScope
	}
	r := s.cfg.Regions[s.pick(i)]
	ttl := uint32(s.cfg.TTL.Seconds())
	start := int(s.rotate.Add(1) % uint64(len(r.Addrs)))
	for k := range r.Addrs {
		a := r.Addrs[(start+k)%len(r.Addrs)]
		hdr := dns.RR_Header{Name: q.Name, Class: dns.ClassINET, Ttl: ttl}
		switch {
		case a.Is4() && q.Qtype != dns.TypeAAAA:
			hdr.Rrtype = dns.TypeA
			m.Answer = append(m.Answer, &dns.A{Hdr: hdr, A: net.IP(a.AsSlice())})
		case a.Is6() && q.Qtype != dns.TypeA:
			hdr.Rrtype = dns.TypeAAAA
			m.Answer = append(m.Answer, &dns.AAAA{Hdr: hdr, AAAA: net.IP(a.AsSlice())})
		}
	}
	if len(m.Answer) == 0 {
		m.Ns = []dns.RR{s.soa} // the region has no address of this family
	}
	return scope
}

// nsRecords returns the NS records as RRs.
func nsRecords(ns []*dns.NS) []dns.RR {
	out := make([]dns.RR, len(ns))
	for i, n := range ns {
		out[i] = n
	}
	return out
}

// clientSubnet returns the address to look the client up by: the ECS
// option's address (RFC 7871) when it has one with a source prefix
// length above zero, else the packet's source address. ok is false when
// the option is malformed: address bits set beyond the source prefix
// length. A source prefix length of 0 (the resolver asks for an answer
// that does not depend on its clients) answers by the packet's source with
// scope 0.
func clientSubnet(client netip.Addr, ecs *dns.EDNS0_SUBNET) (who netip.Addr, scope int, ok bool) {
	if ecs == nil || ecs.SourceNetmask == 0 {
		return client.Unmap(), 0, true
	}
	var a netip.Addr
	switch ecs.Family {
	case 1:
		a, ok = netip.AddrFromSlice(ecs.Address.To4())
	case 2:
		a, ok = netip.AddrFromSlice(ecs.Address.To16())
	}
	if !ok {
		return netip.Addr{}, 0, false
	}
	p := netip.PrefixFrom(a, int(ecs.SourceNetmask))
	if !p.IsValid() || p.Masked().Addr() != a {
		return netip.Addr{}, 0, false
	}
	return a, 0, true
}
