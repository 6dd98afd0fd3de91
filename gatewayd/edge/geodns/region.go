package geodns

import (
	"fmt"
	"net/netip"
	"strings"
)

// Region is a set of edges that serves the clients of some subnets.
type Region struct {
	// Name identifies the region ("tokyo"): letters, digits, '-', '_' and
	// '.', at most MaxRegionNameBytes bytes, unique in a Config.
	Name string
	// Subnets are the client networks this region serves. A client is in
	// the region of the longest subnet that contains it. May be empty (a
	// region that is only a Default or a fallback).
	Subnets []netip.Prefix
	// Addrs are the region's edge addresses, answered as A (IPv4) and AAAA
	// (IPv6) records. At least one.
	Addrs []netip.Addr
}

// ParseRegions parses the flag syntax of a region list:
//
//	name=cidr[,cidr...]@addr[,addr...][;name=...]
//
// for example "tokyo=127.0.1.0/24@127.0.1.1;frankfurt=127.0.2.0/24@127.0.2.1".
// A bare address in the subnet list is a single-host subnet (/32 or /128);
// the subnet list may be empty ("global=@192.0.2.1"). Spaces around the
// parts are ignored, and so are empty entries (a trailing ';'). The result
// is checked as Config.Regions is by New (names, limits, host bits,
// duplicates); errors wrap ErrConfig and name the entry.
func ParseRegions(spec string) ([]Region, error) {
	var regions []Region
	for i, entry := range strings.Split(spec, ";") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		r, err := parseRegion(entry)
		if err != nil {
			return nil, fmt.Errorf("%w: regions entry %d (%q): %v", ErrConfig, i, clip(entry), err)
		}
		regions = append(regions, r)
	}
	if err := validateRegions(regions); err != nil {
		return nil, err
	}
	return regions, nil
}

// parseRegion parses one "name=cidr,cidr@addr,addr" entry.
func parseRegion(entry string) (Region, error) {
	name, rest, ok := strings.Cut(entry, "=")
	if !ok {
		return Region{}, fmt.Errorf("want name=subnets@addrs, no '='")
	}
	subnets, addrs, ok := strings.Cut(rest, "@")
	if !ok {
		return Region{}, fmt.Errorf("want name=subnets@addrs, no '@'")
	}
	r := Region{Name: strings.TrimSpace(name)}
	for _, s := range splitList(subnets) {
		p, err := parsePrefix(s)
		if err != nil {
			return Region{}, err
		}
		r.Subnets = append(r.Subnets, p)
	}
	for _, s := range splitList(addrs) {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return Region{}, fmt.Errorf("address %q: %v", clip(s), err)
		}
		r.Addrs = append(r.Addrs, a)
	}
	return r, nil
}

// parsePrefix parses a CIDR or a bare address (a host prefix).
func parsePrefix(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("subnet %q: %v", clip(s), err)
		}
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("subnet %q: %v", clip(s), err)
	}
	return p, nil
}

// splitList splits a comma-separated list, trimming spaces and dropping
// empty items.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// clip shortens s for an error message.
func clip(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}
