package geodns

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// TestParseRegions checks the flag syntax.
func TestParseRegions(t *testing.T) {
	got, err := ParseRegions(" tokyo = 127.0.1.0/24 , 10.0.0.0/8 @ 127.0.1.1, 2001:db8::1 ; frankfurt=127.0.2.0/24@127.0.2.1;global=@192.0.2.1;solo=198.51.100.7@192.0.2.2; ")
	if err != nil {
		t.Fatal(err)
	}
	want := []Region{
		{"tokyo", []netip.Prefix{netip.MustParsePrefix("127.0.1.0/24"), netip.MustParsePrefix("10.0.0.0/8")}, []netip.Addr{netip.MustParseAddr("127.0.1.1"), netip.MustParseAddr("2001:db8::1")}},
		{"frankfurt", []netip.Prefix{netip.MustParsePrefix("127.0.2.0/24")}, []netip.Addr{netip.MustParseAddr("127.0.2.1")}},
		{"global", nil, []netip.Addr{netip.MustParseAddr("192.0.2.1")}},
		{"solo", []netip.Prefix{netip.MustParsePrefix("198.51.100.7/32")}, []netip.Addr{netip.MustParseAddr("192.0.2.2")}},
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i].Name != want[i].Name || !equal(got[i].Subnets, want[i].Subnets) || !equal(got[i].Addrs, want[i].Addrs) {
			t.Errorf("region %d: got %v, want %v", i, got[i], want[i])
		}
	}

	bad := []struct{ spec, want string }{
		{"", "regions: none given"},
		{" ; ", "regions: none given"},
		{"tokyo", "no '='"},
		{"tokyo=127.0.1.0/24", "no '@'"},
		{"tokyo=127.0.1.0/24@", "regions[0].addrs: none given"},
		{"tokyo=127.0.1.0/33@127.0.1.1", `subnet "127.0.1.0/33"`},
		{"tokyo=127.0.1.1/24@127.0.1.1", "host bits set (did you mean 127.0.1.0/24?)"},
		{"tokyo=127.0.1.0/24@127.0.1", `address "127.0.1"`},
		{"tokyo=@0.0.0.0", "not a usable address"},
		{"tokyo=@fe80::1%eth0", "has an IPv6 zone"},
		{"tokyo=::ffff:10.0.0.0/104@10.0.0.1", "IPv4-mapped"},
		{"=@127.0.0.1", "regions[0].name: empty"},
		{"to kyo=@127.0.0.1", "only letters, digits"},
		{strings.Repeat("x", 64) + "=@127.0.0.1", "64 bytes, the limit is 63"},
		{"a=@127.0.0.1;a=@127.0.0.2", `"a" is also regions[0]`},
		{"a=10.0.0.0/8@127.0.0.1;b=10.0.0.0/8@127.0.0.2", `10.0.0.0/8 is also a subnet of region "a"`},
	}
	for _, c := range bad {
		_, err := ParseRegions(c.spec)
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseRegions(%q) = %v, want an ErrConfig containing %q", c.spec, err, c.want)
		}
	}
}

func equal[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestConfigErrors checks New refuses bad configs naming the field and limit.
func TestConfigErrors(t *testing.T) {
	one := []Region{{Name: "a", Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.1")}}}
	many := func(n int) []Region {
		var rs []Region
		for i := range n {
			rs = append(rs, Region{Name: "r" + strings.Repeat("x", i%50) + string(rune('a'+i/50)), Addrs: one[0].Addrs})
		}
		return rs
	}
	manyAddrs := make([]netip.Addr, MaxRegionAddrs+1)
	for i := range manyAddrs {
		manyAddrs[i] = netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
	}
	manySubnets := make([]netip.Prefix, MaxSubnets+1)
	for i := range manySubnets {
		manySubnets[i] = netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 0}), 24)
	}
	cases := []struct {
		cfg  Config
		want string
	}{
		{Config{Regions: one}, "zone is empty"},
		{Config{Zone: "bad..name", Regions: one}, "zone: \"bad..name\" is not a valid domain name"},
		{Config{Zone: ".", Regions: one}, "root zone"},
		{Config{Zone: testZone}, "regions: none given"},
		{Config{Zone: testZone, Regions: many(MaxRegions + 1)}, "257 given, the limit is 256"},
		{Config{Zone: testZone, Regions: []Region{{Name: "a", Addrs: manyAddrs}}}, "regions[0].addrs: 257 given, the limit is 256"},
		{Config{Zone: testZone, Regions: []Region{{Name: "a", Subnets: manySubnets, Addrs: one[0].Addrs}}}, "more than 4096 subnets"},
		{Config{Zone: testZone, Regions: []Region{{Name: "a", Subnets: []netip.Prefix{{}}, Addrs: one[0].Addrs}}}, "regions[0].subnets[0] is not a valid prefix"},
		{Config{Zone: testZone, Regions: one, Default: "b"}, `default: "b" is not one of the regions`},
		{Config{Zone: testZone, Regions: one, TTL: time.Millisecond}, "ttl is 1ms, the limits are 1s..24h0m0s"},
		{Config{Zone: testZone, Regions: one, TTL: 25 * time.Hour}, "ttl is 25h0m0s"},
		{Config{Zone: testZone, Regions: one, Nameservers: []string{"ns1." + testZone}}, "nameservers[0]: \"ns1.cdn.cairn.test.\" is inside the zone"},
		{Config{Zone: testZone, Regions: one, Nameservers: []string{"ok.example.", ""}}, "nameservers[1] is empty"},
		{Config{Zone: testZone, Regions: one, Nameservers: make([]string, MaxNameservers+1)}, "nameservers has 17 names, the limit is 16"},
		{Config{Zone: testZone, Regions: one, Hostmaster: "a b..c"}, "hostmaster:"},
	}
	for i, c := range cases {
		_, err := New(c.cfg, nil)
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("case %d: New = %v, want an ErrConfig containing %q", i, err, c.want)
		}
	}

	// Defaults and normalisation.
	s, err := New(Config{Zone: "CDN.Cairn.Test", Regions: []Region{{Name: "a", Addrs: []netip.Addr{netip.MustParseAddr("::ffff:192.0.2.1")}}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.cfg.Zone != testZone || s.cfg.Default != "a" || s.cfg.TTL != DefaultTTL || s.cfg.Nameservers[0] != testZone ||
		s.cfg.Hostmaster != "hostmaster."+testZone || !s.cfg.Regions[0].Addrs[0].Is4() {
		t.Errorf("normalised config %+v", s.cfg)
	}
}

// FuzzParseRegions checks ParseRegions never panics, and that whatever it
// accepts New accepts too.
func FuzzParseRegions(f *testing.F) {
	f.Add(testRegions)
	f.Add("a=1.2.3.4@5.6.7.8")
	f.Add("a=::/0,0.0.0.0/0@::1;b=@1.1.1.1;")
	f.Add("a=1.2.3.0/24@@1.1.1.1")
	f.Add("=;=;@")
	f.Fuzz(func(t *testing.T, spec string) {
		regions, err := ParseRegions(spec)
		if err != nil {
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("error %v does not wrap ErrConfig", err)
			}
			return
		}
		if _, err := New(Config{Zone: testZone, Regions: regions}, nil); err != nil {
			t.Fatalf("ParseRegions(%q) accepted what New refuses: %v", spec, err)
		}
	})
}
