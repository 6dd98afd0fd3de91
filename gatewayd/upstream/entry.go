package upstream

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"strings"

	"cairn.dev/cairn/gatewayd/gwconfig"
)

// DefaultRegistryPrefix is where services register in raftkv:
// <prefix><service>/<id>.
const DefaultRegistryPrefix = "/cairn/services/"

// MaxWeight is the largest weight a registry entry may carry, as in the
// gateway configuration.
const MaxWeight = 1000

// maxEntryBytes bounds a registry entry's value.
const maxEntryBytes = 4096

// Entry is the JSON value of a registry key <prefix><service>/<id>.
type Entry struct {
	Address string `json:"address"`          // host:port
	Weight  int    `json:"weight,omitempty"` // 1..MaxWeight; 0 or absent means 1
}

// ParseEntry decodes a registry value into a target. Unknown fields are
// ignored (newer writers may add some); a missing or invalid address, a
// weight outside 0..MaxWeight, trailing data and values over 4 KiB are
// ErrInvalidEntry.
func ParseEntry(value []byte) (gwconfig.Target, error) {
	if len(value) > maxEntryBytes {
		return gwconfig.Target{}, fmt.Errorf("%w: %d bytes, the limit is %d", ErrInvalidEntry, len(value), maxEntryBytes)
	}
	var e Entry
	dec := json.NewDecoder(bytes.NewReader(value))
	if err := dec.Decode(&e); err != nil {
		return gwconfig.Target{}, fmt.Errorf("%w: %v", ErrInvalidEntry, err)
	}
	if dec.More() {
		return gwconfig.Target{}, fmt.Errorf("%w: data after the JSON object", ErrInvalidEntry)
	}
	if err := checkAddress(e.Address); err != nil {
		return gwconfig.Target{}, err
	}
	if e.Weight < 0 || e.Weight > MaxWeight {
		return gwconfig.Target{}, fmt.Errorf("%w: weight %d is outside 0..%d", ErrInvalidEntry, e.Weight, MaxWeight)
	}
	return gwconfig.Target{Address: e.Address, Weight: max(e.Weight, 1)}, nil
}

// checkAddress accepts host:port with a non-empty host without spaces and a
// port in 1..65535.
func checkAddress(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%w: address %q: %v", ErrInvalidEntry, addr, err)
	}
	if host == "" || strings.ContainsAny(host, " \t\r\n/") {
		return fmt.Errorf("%w: address %q: bad host", ErrInvalidEntry, addr)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("%w: address %q: bad port", ErrInvalidEntry, addr)
	}
	return nil
}

// checkName accepts a service or instance id: non-empty, without '/'.
func checkName(what, s string) error {
	if s == "" || strings.Contains(s, "/") {
		return fmt.Errorf("%w: %s %q must be non-empty and without '/'", ErrInvalidEntry, what, s)
	}
	return nil
}

// normPrefix returns prefix with the default for "" and a trailing '/'.
func normPrefix(prefix string) string {
	if prefix == "" {
		return DefaultRegistryPrefix
	}
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return prefix
}
