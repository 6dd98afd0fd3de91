package purge

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"

	kvclient "cairn.dev/cairn/raftkv/client"
)

// DefaultPrefix is the key prefix used when none is given.
const DefaultPrefix = "/cairn/edge/"

// seqDigits is the width of a Seq in keys and values.
const seqDigits = 20

// layout names the keys under one prefix (see the package documentation).
type layout struct{ prefix string }

// newLayout checks and normalises prefix: "" is DefaultPrefix, a missing
// trailing "/" is added.
func newLayout(prefix string) (layout, error) {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if len(prefix) > MaxPrefixBytes {
		return layout{}, fmt.Errorf("%w: prefix is %d bytes, the limit is %d", ErrInvalidArgument, len(prefix), MaxPrefixBytes)
	}
	if strings.IndexFunc(prefix, unicode.IsControl) >= 0 {
		return layout{}, fmt.Errorf("%w: prefix %q has a control character", ErrInvalidArgument, prefix)
	}
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return layout{prefix: prefix}, nil
}

// checkNode checks a node name: 1..MaxNodeBytes printable bytes, no "/".
func checkNode(field, node string) error {
	if node == "" {
		return fmt.Errorf("%w: %s is empty", ErrInvalidArgument, field)
	}
	if len(node) > MaxNodeBytes {
		return fmt.Errorf("%w: %s is %d bytes, the limit is %d", ErrInvalidArgument, field, len(node), MaxNodeBytes)
	}
	if i := strings.IndexFunc(node, func(r rune) bool { return r == '/' || !unicode.IsPrint(r) || unicode.IsSpace(r) }); i >= 0 {
		return fmt.Errorf("%w: %s %q has a '/', space or unprintable character at byte %d", ErrInvalidArgument, field, node, i)
	}
	return nil
}

func formatSeq(seq int64) string { return fmt.Sprintf("%0*d", seqDigits, seq) }

// parseSeq parses a Seq written by formatSeq (or plain decimal).
func parseSeq(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("purge: bad sequence number %q", s)
	}
	return n, nil
}

func (l layout) head() string            { return l.prefix + "purges/head" }
func (l layout) logDir() string          { return l.prefix + "purges/log/" }
func (l layout) record(seq int64) string { return l.logDir() + formatSeq(seq) }
func (l layout) nodesDir() string        { return l.prefix + "nodes/" }
func (l layout) node(n string) string    { return l.nodesDir() + n }
func (l layout) appliedDir() string      { return l.prefix + "applied/" }
func (l layout) applied(n string) string { return l.appliedDir() + n }
func (l layout) acksDir() string         { return l.prefix + "acks/" }
func (l layout) acks(seq int64) string   { return l.acksDir() + formatSeq(seq) + "/" }
func (l layout) ack(seq int64, n string) string {
	return l.acks(seq) + n
}

// logEnd is the range end of every record key.
func (l layout) logEnd() string { return string(kvclient.PrefixEnd([]byte(l.logDir()))) }

// recordSeq returns the Seq named by a record key.
func (l layout) recordSeq(key []byte) (int64, error) {
	s, ok := strings.CutPrefix(string(key), l.logDir())
	if !ok {
		return 0, fmt.Errorf("purge: key %q is not a record", key)
	}
	return parseSeq(s)
}
