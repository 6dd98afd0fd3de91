package geodns

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Limits on a Config. Larger configurations are refused by New and
// ParseRegions with an error naming the field and the limit.
const (
	MaxRegions         = 256  // regions in a Config
	MaxRegionNameBytes = 63   // bytes in a region name
	MaxSubnets         = 4096 // subnets over all regions
	MaxRegionAddrs     = 256  // addresses of one region
	MaxNameservers     = 16   // names in Config.Nameservers
	MinTTL             = time.Second
	MaxTTL             = 24 * time.Hour
)

// DefaultTTL is the answer TTL when Config.TTL is zero.
const DefaultTTL = 30 * time.Second

// Config is the zone a Server answers.
type Config struct {
	// Zone is the CDN host name, answered for itself: "cdn.cairn.test."
	// (the trailing dot may be left out; case does not matter).
	Zone string
	// Regions, in fallback order (see Healthy). At least one.
	Regions []Region
	// Default names the region of clients in no region's subnets; "" means
	// the first region.
	Default string
	// TTL of the answers, whole seconds (default DefaultTTL; MinTTL..MaxTTL).
	// It is also the SOA minimum, the TTL of negative answers.
	TTL time.Duration
	// Healthy, when set, says whether a region's edges are up; an
	// unhealthy region's clients get the next healthy region in the order
	// of Regions (wrapping around). When no region is healthy, the client's
	// own region is answered. It is called on every address query, from
	// many goroutines at once: it must be fast and safe for concurrent use.
	Healthy func(region string) bool
	// Nameservers are the names of the zone's NS records (and the first is
	// the SOA MNAME). Default: the zone name itself (every edge runs this
	// server, so the zone's addresses are its name servers). A name must be
	// the zone name or outside the zone: this server answers no other
	// names inside it, so it could not give their addresses.
	Nameservers []string
	// Hostmaster is the SOA RNAME, a mailbox in DNS form (default
	// "hostmaster.<zone>").
	Hostmaster string
}

// normalize checks c and returns a copy with defaults applied, names in
// canonical (lowercase, fully qualified) form, and IPv4-mapped IPv6
// addresses unmapped. Errors wrap ErrConfig.
func (c Config) normalize() (Config, error) {
	zone, err := checkName("zone", c.Zone)
	if err != nil {
		return Config{}, err
	}
	if zone == "." {
		return Config{}, fmt.Errorf("%w: zone: the root zone cannot be served", ErrConfig)
	}
	c.Zone = zone
	if err := validateRegions(c.Regions); err != nil {
		return Config{}, err
	}
	regions := make([]Region, len(c.Regions))
	for i, r := range c.Regions {
		regions[i] = Region{Name: r.Name, Subnets: slices.Clone(r.Subnets), Addrs: make([]netip.Addr, len(r.Addrs))}
		for j, a := range r.Addrs {
			regions[i].Addrs[j] = a.Unmap()
		}
	}
	c.Regions = regions
	if c.Default == "" {
		c.Default = c.Regions[0].Name
	} else if !slices.ContainsFunc(c.Regions, func(r Region) bool { return r.Name == c.Default }) {
		return Config{}, fmt.Errorf("%w: default: %q is not one of the regions", ErrConfig, clip(c.Default))
	}
	switch {
	case c.TTL == 0:
		c.TTL = DefaultTTL
	case c.TTL < MinTTL || c.TTL > MaxTTL:
		return Config{}, fmt.Errorf("%w: ttl is %v, the limits are %v..%v", ErrConfig, c.TTL, MinTTL, MaxTTL)
	}
	c.TTL = c.TTL.Truncate(time.Second)
	if len(c.Nameservers) > MaxNameservers {
		return Config{}, fmt.Errorf("%w: nameservers has %d names, the limit is %d", ErrConfig, len(c.Nameservers), MaxNameservers)
	}
	if len(c.Nameservers) == 0 {
		c.Nameservers = []string{c.Zone}
	} else {
		names := make([]string, len(c.Nameservers))
		for i, n := range c.Nameservers {
			field := fmt.Sprintf("nameservers[%d]", i)
			if names[i], err = checkName(field, n); err != nil {
				return Config{}, err
			}
			if names[i] != c.Zone && dns.IsSubDomain(c.Zone, names[i]) {
				return Config{}, fmt.Errorf("%w: %s: %q is inside the zone %q but not its apex; this server answers no such name", ErrConfig, field, names[i], c.Zone)
			}
		}
		c.Nameservers = names
	}
	if c.Hostmaster == "" {
		c.Hostmaster = "hostmaster." + c.Zone
	} else if c.Hostmaster, err = checkName("hostmaster", c.Hostmaster); err != nil {
		return Config{}, err
	}
	return c, nil
}

// checkName checks a domain name and returns it lowercase and fully qualified.
func checkName(field, name string) (string, error) {
	if strings.TrimSpace(name) == "" {
		return "", fmt.Errorf("%w: %s is empty", ErrConfig, field)
	}
	if _, ok := dns.IsDomainName(name); !ok {
		return "", fmt.Errorf("%w: %s: %q is not a valid domain name (labels of 1..63 bytes, 255 bytes in all)", ErrConfig, field, clip(name))
	}
	return dns.CanonicalName(name), nil
}

// validateRegions checks names, limits, subnets and addresses of regions.
func validateRegions(regions []Region) error {
	if len(regions) == 0 {
		return fmt.Errorf("%w: regions: none given, want at least one", ErrConfig)
	}
	if len(regions) > MaxRegions {
		return fmt.Errorf("%w: regions: %d given, the limit is %d", ErrConfig, len(regions), MaxRegions)
	}
	names := make(map[string]int, len(regions))
	owner := make(map[netip.Prefix]string)
	total := 0
	for i, r := range regions {
		field := fmt.Sprintf("regions[%d]", i)
		if err := checkRegionName(r.Name); err != nil {
			return fmt.Errorf("%w: %s.name: %v", ErrConfig, field, err)
		}
		if j, dup := names[r.Name]; dup {
			return fmt.Errorf("%w: %s.name: %q is also regions[%d]", ErrConfig, field, r.Name, j)
		}
		names[r.Name] = i
		total += len(r.Subnets)
		if total > MaxSubnets {
			return fmt.Errorf("%w: %s.subnets: more than %d subnets over all regions, the limit", ErrConfig, field, MaxSubnets)
		}
		for j, p := range r.Subnets {
			if !p.IsValid() {
				return fmt.Errorf("%w: %s.subnets[%d] is not a valid prefix", ErrConfig, field, j)
			}
			if p.Addr().Zone() != "" {
				return fmt.Errorf("%w: %s.subnets[%d]: %s has an IPv6 zone", ErrConfig, field, j, p)
			}
			if p.Addr().Is4In6() {
				return fmt.Errorf("%w: %s.subnets[%d]: %s is IPv4-mapped IPv6; write the IPv4 subnet", ErrConfig, field, j, p)
			}
			if p.Masked() != p {
				return fmt.Errorf("%w: %s.subnets[%d]: %s has host bits set (did you mean %s?)", ErrConfig, field, j, p, p.Masked())
			}
			if other, dup := owner[p]; dup {
				return fmt.Errorf("%w: %s.subnets[%d]: %s is also a subnet of region %q", ErrConfig, field, j, p, other)
			}
			owner[p] = r.Name
		}
		if len(r.Addrs) == 0 {
			return fmt.Errorf("%w: %s.addrs: none given, want at least one", ErrConfig, field)
		}
		if len(r.Addrs) > MaxRegionAddrs {
			return fmt.Errorf("%w: %s.addrs: %d given, the limit is %d", ErrConfig, field, len(r.Addrs), MaxRegionAddrs)
		}
		for j, a := range r.Addrs {
			if !a.IsValid() || a.IsUnspecified() {
				return fmt.Errorf("%w: %s.addrs[%d]: %v is not a usable address", ErrConfig, field, j, a)
			}
			if a.Zone() != "" {
				return fmt.Errorf("%w: %s.addrs[%d]: %s has an IPv6 zone", ErrConfig, field, j, a)
			}
		}
	}
	return nil
}

// checkRegionName checks a region name's length and characters.
func checkRegionName(name string) error {
	if name == "" {
		return fmt.Errorf("empty")
	}
	if len(name) > MaxRegionNameBytes {
		return fmt.Errorf("%d bytes, the limit is %d", len(name), MaxRegionNameBytes)
	}
	for _, c := range []byte(name) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
		if !ok {
			return fmt.Errorf("%q: only letters, digits, '-', '_' and '.' are allowed", clip(name))
		}
	}
	return nil
}
