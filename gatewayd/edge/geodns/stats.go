package geodns

import "sync/atomic"

// Stats counts what a Server did since New. Every response counts once
// under its code; Truncated counts UDP responses cut to the client's size
// (TC set); Dropped counts packets not answered (shorter than a header,
// or responses rather than queries); TCPRejected counts connections
// closed at once because MaxTCPConns were open.
type Stats struct {
	Queries     uint64 // messages received (UDP datagrams and TCP messages)
	UDP, TCP    uint64 // responses sent, by transport
	NoError     uint64 // answers with records, and NODATA
	NXDomain    uint64
	Refused     uint64
	FormErr     uint64
	NotImp      uint64
	BadVers     uint64
	Truncated   uint64
	Dropped     uint64
	TCPRejected uint64
}

// counters are the live counts behind Stats.
type counters struct {
	queries, udp, tcp, noError, nxDomain, refused, formErr, notImp, badVers atomic.Uint64
	truncated, dropped, tcpRejected                                         atomic.Uint64
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	c := &s.stats
	return Stats{
		Queries: c.queries.Load(), UDP: c.udp.Load(), TCP: c.tcp.Load(),
		NoError: c.noError.Load(), NXDomain: c.nxDomain.Load(), Refused: c.refused.Load(),
		FormErr: c.formErr.Load(), NotImp: c.notImp.Load(), BadVers: c.badVers.Load(),
		Truncated: c.truncated.Load(), Dropped: c.dropped.Load(), TCPRejected: c.tcpRejected.Load(),
	}
}
