package protect

import (
	"fmt"
	"net"
	"net/netip"
)

// DefaultIPv6PrefixBits is how many leading bits of an IPv6 address name a
// client when a config leaves IPv6PrefixBits zero.
const DefaultIPv6PrefixBits = 64

// clientKeyer maps addresses to the client they count for.
type clientKeyer struct{ v6bits int }

func newClientKeyer(field string, bits int) (clientKeyer, error) {
	switch {
	case bits == 0:
		bits = DefaultIPv6PrefixBits
	case bits < 0 || bits > 128:
		return clientKeyer{}, fmt.Errorf("%w: %s is %d, it must be within 1..128 (0: %d)", ErrInvalidConfig, field, bits, DefaultIPv6PrefixBits)
	}
	return clientKeyer{v6bits: bits}, nil
}

// key is the client a is counted as: a itself for IPv4 (IPv4-mapped IPv6
// unmapped), its masked prefix for IPv6; zones are dropped.
func (k clientKeyer) key(a netip.Addr) netip.Addr {
	a = a.Unmap().WithZone("")
	if a.Is4() || k.v6bits >= 128 {
		return a
	}
	p, err := a.Prefix(k.v6bits)
	if err != nil {
		return a
	}
	return p.Addr()
}

// addrOf is the IP address of a network address (a *net.TCPAddr, or any
// address whose String is "ip:port"); ok is false when it has none (a Unix
// socket).
func addrOf(na net.Addr) (netip.Addr, bool) {
	switch a := na.(type) {
	case *net.TCPAddr:
		ap := a.AddrPort()
		return ap.Addr(), ap.Addr().IsValid()
	case nil:
		return netip.Addr{}, false
	}
	ap, err := netip.ParseAddrPort(na.String())
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr(), true
}
