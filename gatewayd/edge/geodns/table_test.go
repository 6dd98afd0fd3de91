package geodns

import (
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"
)

// TestTableAgainstReference builds random region layouts (seeded; the seed
// is logged) and checks lookup against a brute-force reference: the
// longest containing subnet, and the scope, which must be the shortest
// prefix of the address (not shorter than the matched subnet) that holds
// no subnet longer than itself. It also samples addresses inside the
// scope and checks they get the same region.
func TestTableAgainstReference(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	randAddr := func(v6 bool) netip.Addr {
		// Few distinct high bits so that subnets nest and neighbour.
		if v6 {
			var b [16]byte
			b[0], b[1], b[2] = 0x20, byte(rng.IntN(4)), byte(rng.IntN(256))
			return netip.AddrFrom16(b)
		}
		return netip.AddrFrom4([4]byte{10, byte(rng.IntN(4)), byte(rng.IntN(256)), byte(rng.IntN(256))})
	}
	for round := range 100 {
		var regions []Region
		seen := map[netip.Prefix]bool{}
		for i := range 1 + rng.IntN(5) {
			r := Region{Name: "r" + string(rune('a'+i)), Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.1")}}
			for range rng.IntN(6) {
				v6 := rng.IntN(3) == 0
				bits := 8 + rng.IntN(25)
				if v6 {
					bits = 8 + rng.IntN(20)
				}
				p, _ := randAddr(v6).Prefix(bits)
				if !seen[p] {
					seen[p] = true
					r.Subnets = append(r.Subnets, p)
				}
			}
			regions = append(regions, r)
		}
		tab := newTable(regions)
		for range 30 {
			a := randAddr(rng.IntN(3) == 0)
			wantRegion, wantLen := -1, -1
			for i, r := range regions {
				for _, p := range r.Subnets {
					if p.Contains(a) && p.Bits() > wantLen {
						wantRegion, wantLen = i, p.Bits()
					}
				}
			}
			wantScope := max(wantLen, 0)
			for ; wantScope < a.BitLen(); wantScope++ {
				outer, _ := a.Prefix(wantScope)
				inside := false
				for _, r := range regions {
					for _, p := range r.Subnets {
						if p.Bits() > wantScope && outer.Contains(p.Addr()) {
							inside = true
						}
					}
				}
				if !inside {
					break
				}
			}
			region, scope := tab.lookup(a)
			if region != wantRegion || scope != wantScope {
				t.Fatalf("round %d: lookup(%s) = region %d scope %d, want %d %d; regions %v", round, a, region, scope, wantRegion, wantScope, regions)
			}
			// Every address inside a/scope gets the same region.
			outer, _ := a.Prefix(scope)
			for range 20 {
				b := randomIn(rng, outer)
				if r, _ := tab.lookup(b); r != region {
					t.Fatalf("round %d: %s in %s gets region %d, %s got %d; regions %v", round, b, outer, r, a, region, regions)
				}
			}
		}
	}
}

// randomIn returns a random address inside p.
func randomIn(rng *rand.Rand, p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		if rng.IntN(2) == 1 {
			b[i/8] |= 1 << (7 - i%8)
		}
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// BenchmarkLookup measures one lookup among 4096 IPv4 and IPv6 subnets.
func BenchmarkLookup(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	var regions []Region
	seen := map[netip.Prefix]bool{}
	for i := range 16 {
		r := Region{Name: "r" + string(rune('a'+i)), Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.1")}}
		for len(r.Subnets) < MaxSubnets/16 {
			var p netip.Prefix
			if rng.IntN(2) == 0 {
				p, _ = netip.AddrFrom4([4]byte{byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256)), 0}).Prefix(8 + rng.IntN(17))
			} else {
				var a [16]byte
				a[0], a[1], a[2], a[3] = 0x20, 0x01, byte(rng.IntN(256)), byte(rng.IntN(256))
				p, _ = netip.AddrFrom16(a).Prefix(16 + rng.IntN(33))
			}
			if !seen[p] {
				seen[p] = true
				r.Subnets = append(r.Subnets, p)
			}
		}
		regions = append(regions, r)
	}
	tab := newTable(regions)
	a := netip.MustParseAddr("2001:42:1::1")
	b.ReportAllocs()
	for b.Loop() {
		tab.lookup(a)
	}
}
