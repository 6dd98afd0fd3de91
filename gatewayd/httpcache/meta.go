package httpcache

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"time"

	"cairn.dev/cairn/gatewayd/internal/varcodec"
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
	b = varcodec.AppendString(b, m.key)
	b = binary.AppendUvarint(b, uint64(m.status))
	for _, t := range []time.Time{m.reqTime, m.respTime, m.stored, m.softPurged} {
		b = binary.AppendVarint(b, unixNano(t))
	}
	for _, d := range []time.Duration{m.initialAge, m.lifetime, m.swr, m.sie} {
		b = binary.AppendVarint(b, int64(d))
	}
	b = varcodec.AppendStrings(b, m.varyNames)
	b = varcodec.AppendStrings(b, m.varyValues)
	b = varcodec.AppendStrings(b, m.tags)
	b = binary.AppendUvarint(b, uint64(len(m.header)))
	for name, vals := range m.header {
		b = varcodec.AppendString(b, name)
		b = varcodec.AppendStrings(b, vals)
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

var errMetaCorrupt = errors.New("httpcache: corrupt metadata")

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
	r := &varcodec.Reader{B: b[2:], Corrupt: errMetaCorrupt}
	m.key = r.String()
	status := r.Uvarint()
	if status > 999 {
		r.Err = errMetaCorrupt
	}
	m.status = int(status)
	m.reqTime = fromUnixNano(r.Varint())
	m.respTime = fromUnixNano(r.Varint())
	m.stored = fromUnixNano(r.Varint())
	m.softPurged = fromUnixNano(r.Varint())
	m.initialAge = time.Duration(r.Varint())
	m.lifetime = time.Duration(r.Varint())
	m.swr = time.Duration(r.Varint())
	m.sie = time.Duration(r.Varint())
	m.varyNames = r.Strings(maxMetaStrings)
	m.varyValues = r.Strings(maxMetaStrings)
	m.tags = r.Strings(maxMetaStrings)
	n := r.Count(maxMetaStrings)
	m.header = make(http.Header, n)
	for i := 0; i < n && r.Err == nil; i++ {
		name := r.String()
		m.header[name] = r.Strings(maxMetaStrings)
	}
	if r.Err == nil && len(r.B) != 0 {
		r.Err = errMetaCorrupt
	}
	if r.Err == nil && len(m.varyNames) != len(m.varyValues) {
		r.Err = errMetaCorrupt
	}
	if r.Err != nil {
		return nil, r.Err
	}
	return m, nil
}
