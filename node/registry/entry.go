package registry

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// DefaultPrefix is where services register in raftkv: <prefix><service>/<id>.
const DefaultPrefix = "/cairn/services/"

// MaxWeight is the largest weight an instance may carry (as in gatewayd's
// upstream targets).
const MaxWeight = 1000

// maxEntryBytes bounds a registry entry's value.
const maxEntryBytes = 4096

// Entry is the JSON value of a registry key <prefix><service>/<id>.
type Entry struct {
	Address string `json:"address"`          // host:port
	Weight  int    `json:"weight,omitempty"` // 1..MaxWeight; 0 or absent means 1
}

// Instance is one registered instance of a service, as a Watcher delivers
// it: ID is the last element of its key, Weight is in 1..MaxWeight.
type Instance struct {
	ID      string
	Address string
	Weight  int
}

// ParseEntry decodes a registry value, with a zero or absent weight made 1.
// Unknown fields are ignored (newer writers may add some); a missing or
// invalid address, a weight outside 0..MaxWeight, trailing data and values
// over 4 KiB are ErrInvalidEntry.
func ParseEntry(value []byte) (Entry, error) {
	if len(value) > maxEntryBytes {
		return Entry{}, fmt.Errorf("%w: %d bytes, the limit is %d", ErrInvalidEntry, len(value), maxEntryBytes)
	}
	var e Entry
	dec := json.NewDecoder(bytes.NewReader(value))
	if err := dec.Decode(&e); err != nil {
		return Entry{}, fmt.Errorf("%w: %v", ErrInvalidEntry, err)
	}
	if dec.More() {
		return Entry{}, fmt.Errorf("%w: data after the JSON object", ErrInvalidEntry)
	}
	if err := checkAddress(e.Address); err != nil {
		return Entry{}, err
	}
	if err := checkWeight(e.Weight); err != nil {
		return Entry{}, err
	}
	e.Weight = max(e.Weight, 1)
	return e, nil
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

// checkWeight accepts 0..MaxWeight (0 standing for 1).
func checkWeight(w int) error {
	if w < 0 || w > MaxWeight {
		return fmt.Errorf("%w: weight %d is outside 0..%d", ErrInvalidEntry, w, MaxWeight)
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
		return DefaultPrefix
	}
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return prefix
}
