// Package geodns is the CDN edge's authoritative DNS server: it answers
// the CDN host name (the zone, "cdn.cairn.test.") with the addresses of
// the edges nearest to the client.
//
// Nearness is configured, not measured: each Region lists the client
// subnets it serves and its edges' addresses. A query is answered for the
// client's subnet taken from its EDNS Client Subnet option (RFC 7871) when
// it carries one, else for the packet's source address. The client is in
// the region of the longest subnet containing it, else in the Default
// region; when Config.Healthy says that region is down, the next healthy
// region in configuration order answers.
//
//	regions, err := geodns.ParseRegions("tokyo=10.1.0.0/16@192.0.2.1;frankfurt=10.2.0.0/16@192.0.2.2")
//	srv, err := geodns.New(geodns.Config{Zone: "cdn.cairn.test.", Regions: regions}, logger)
//	go srv.ListenAndServe(ctx, "127.0.0.1:5353") // UDP and TCP; cancel ctx to stop
//	<-srv.Ready()
//
// # Answers
//
//   - A and AAAA (and ANY, answered with both) at the zone name: the
//     region's IPv4 or IPv6 addresses, all of them, rotated round-robin
//     from one response to the next, with Config.TTL; NODATA when the
//     region has no address of the family. With an ECS option the
//     response echoes it with the scope prefix length over which the
//     answer holds (a longer scope than the source when a more specific
//     subnet lies inside the client's); answers that do not depend on the
//     client echo scope 0 (REFUSED echoes nothing). A source prefix length
//     of 0 is answered for the packet's source address, with scope 0.
//   - SOA and NS at the zone name (NS names default to the zone name).
//     Other types there: NODATA with the SOA.
//   - NXDOMAIN with the SOA for any other name inside the zone; REFUSED
//     for names outside it, classes other than IN, and zone transfers.
//   - FORMERR for a query that does not parse, that has other than one
//     question, two OPT or ECS options, or ECS address bits set beyond its
//     source prefix; BADVERS for EDNS versions above 0; NOTIMP for opcodes
//     other than QUERY. Packets shorter than a DNS header and responses are
//     dropped. Names are matched case-insensitively and the question is
//     echoed as sent.
//
// # Transports
//
// UDP and TCP share one address. UDP answers fit MinUDPSize (512) bytes
// or the client's EDNS buffer size, at most MaxUDPSize (1232); larger ones
// are truncated with TC set and the client retries over TCP (RFC 7766),
// where a connection carries any number of queries, answered in order,
// until it idles for TCPIdleTimeout; MaxTCPConns bound the connections.
//
// # Lifecycle
//
// New checks the Config; Listen binds (port 0 picks a port free for UDP
// and TCP both; Addr and Ready report it); Serve runs until its context
// ends or Close, then stops gracefully: reading stops, responses in flight
// are sent, sockets are closed. The Server owns its goroutines (UDP
// readers, the TCP acceptor, one per connection) and Serve returns after
// all of them did. Stats counts queries and responses by code.
package geodns
