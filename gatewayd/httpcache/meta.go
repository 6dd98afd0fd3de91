package httpcache

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// metaVersion is the first byte of every encoded meta; decode refuses others.
const metaVersion = 1

// maxMetaStrings bounds the counts read by decodeMeta so a corrupt blob
// cannot make it allocate without limit.
const maxMetaStrings = 1 << 16

// Meta flags.
const (
	flagSoftPurged = 1 << iota
	flagNoCache    // response no-cache: always revalidate
	flagNoStale    // must-revalidate, proxy-revalidate or s-maxage: never serve stale
)

// meta is the engine's record of one stored response (one variant).
type meta struct {
	key        string
	status     int
	flags      uint8
	reqTime    time.Time // when the request that got this response was sent
	respTime   time.Time // when its response arrived
	stored     time.Time // when this variant was first stored
	softPurged time.Time // when a soft purge marked it (flagSoftPurged)
	// initialAge is corrected_initial_age (RFC 9111 §4.2.3).
	initialAge time.Duration
	// lifetime is the freshness lifetime; swr and sie the RFC 5861 windows
	// (-1: none).
	lifetime, swr, sie time.Duration
	varyNames          []string // canonical, sorted
	varyValues         []string // normalised, one per name
	tags               []string // Surrogate-Key
	header             http.Header
}

func (m *meta) has(f uint8) bool { return m.flags&f != 0 }

// encodeMeta writes m in the version 1 binary layout: version byte, then
// uvarint/varint fields and length-prefixed strings in a fixed order.
func encodeMeta(m *meta) []byte {
	b := make([]byte, 0, 256)
	b = append(b, metaVersion, m.flags)
	b = appendString(b, m.key)
	b = binary.AppendUvarint(b, uint64(m.status))
	for _, t := range []time.Time{m.reqTime, m.respTime, m.stored, m.softPurged} {
		b = binary.AppendVarint(b, unixNano(t))
	}
	for _, d := range []time.Duration{m.initialAge, m.lifetime, m.swr, m.sie} {
		b = binary.AppendVarint(b, int64(d))
	}
	b = appendStrings(b, m.varyNames)
	b = appendStrings(b, m.varyValues)
	b = appendStrings(b, m.tags)
	b = binary.AppendUvarint(b, uint64(len(m.header)))
	for name, vals := range m.header {
		b = appendString(b, name)
		b = appendStrings(b, vals)
	}
	return b
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendStrings(b []byte, ss []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(ss)))
	for _, s := range ss {
		b = appendString(b, s)
	}
	return b
}

var errMetaCorrupt = errors.New("httpcache: corrupt metadata")

// metaReader decodes; the first error sticks.
type metaReader struct {
	b   []byte
	err error
}

func (r *metaReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errMetaCorrupt
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *metaReader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errMetaCorrupt
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *metaReader) string() string {
	n := r.uvarint()
	if r.err != nil {
		return ""
	}
	if n > uint64(len(r.b)) {
		r.err = errMetaCorrupt
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *metaReader) count() int {
	n := r.uvarint()
	// Every string takes at least one byte, so a count above the bytes left is corrupt.
	if r.err == nil && (n > maxMetaStrings || n > uint64(len(r.b))) {
		r.err = errMetaCorrupt
	}
	if r.err != nil {
		return 0
	}
	return int(n)
}

func (r *metaReader) strings() []string {
	n := r.count()
	if n == 0 {
		return nil
	}
	ss := make([]string, n)
	for i := range ss {
		ss[i] = r.string()
	}
	return ss
}

// decodeMeta parses what encodeMeta wrote. It fails on another version,
// truncated input or trailing bytes.
func decodeMeta(b []byte) (*meta, error) {
	if len(b) < 2 {
		return nil, errMetaCorrupt
	}
	if b[0] != metaVersion {
		return nil, fmt.Errorf("httpcache: metadata version %d, want %d", b[0], metaVersion)
	}
	m := &meta{flags: b[1]}
	r := &metaReader{b: b[2:]}
	m.key = r.string()
	status := r.uvarint()
	if status > 999 {
		r.err = errMetaCorrupt
	}
	m.status = int(status)
	m.reqTime = fromUnixNano(r.varint())
	m.respTime = fromUnixNano(r.varint())
	m.stored = fromUnixNano(r.varint())
	m.softPurged = fromUnixNano(r.varint())
	m.initialAge = time.Duration(r.varint())
	m.lifetime = time.Duration(r.varint())
	m.swr = time.Duration(r.varint())
	m.sie = time.Duration(r.varint())
	m.varyNames = r.strings()
	m.varyValues = r.strings()
	m.tags = r.strings()
	n := r.count()
	m.header = make(http.Header, n)
	for i := 0; i < n && r.err == nil; i++ {
		name := r.string()
		m.header[name] = r.strings()
	}
	if r.err == nil && len(r.b) != 0 {
		r.err = errMetaCorrupt
	}
	if r.err == nil && len(m.varyNames) != len(m.varyValues) {
		r.err = errMetaCorrupt
	}
	if r.err != nil {
		return nil, r.err
	}
	return m, nil
}
