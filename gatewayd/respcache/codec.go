package respcache

import (
	"encoding/binary"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"cairn.dev/cairn/gatewayd/internal/varcodec"
)

// The entry format, version 1. Integers are varints (u: unsigned), a
// string is a uvarint length and the bytes:
//
//	magic 0xCA, version 0x01
//	u status, varint stored-at (Unix ns), u ttl (ns), u initial age (s)
//	u header count, per header: string name, u value count, string values
//	u vary count, per vary: string name, u value count, string values
//	u body length, body
//
// Nothing may follow the body.
const (
	entryMagic   = 0xCA
	entryVersion = 1
)

// EncodeEntry returns e in the entry format, current version.
func EncodeEntry(e *Entry) []byte {
	n := 32 + len(e.Body)
	for k, v := range e.Header {
		n += len(k) + 4
		for _, s := range v {
			n += len(s) + 4
		}
	}
	b := make([]byte, 0, n)
	b = append(b, entryMagic, entryVersion)
	b = binary.AppendUvarint(b, uint64(e.Status))
	b = binary.AppendVarint(b, e.StoredAt.UnixNano())
	b = binary.AppendUvarint(b, uint64(max(e.TTL, 0)))
	b = binary.AppendUvarint(b, uint64(max(e.InitialAge, 0)/time.Second))
	b = binary.AppendUvarint(b, uint64(len(e.Header)))
	for k, v := range e.Header {
		b = varcodec.AppendStrings(varcodec.AppendString(b, k), v)
	}
	b = binary.AppendUvarint(b, uint64(len(e.Vary)))
	for _, v := range e.Vary {
		b = varcodec.AppendStrings(varcodec.AppendString(b, v.Name), v.Values)
	}
	b = binary.AppendUvarint(b, uint64(len(e.Body)))
	return append(b, e.Body...)
}

// DecodeEntry parses an encoded entry. The entry's Body aliases b, which
// the caller must not modify afterwards. Errors match ErrCorrupt or
// ErrVersion.
func DecodeEntry(b []byte) (*Entry, error) {
	if len(b) < 2 || b[0] != entryMagic {
		return nil, ErrCorrupt
	}
	if b[1] != entryVersion {
		return nil, fmt.Errorf("%w: %d", ErrVersion, b[1])
	}
	d := varcodec.Reader{B: b[2:], Corrupt: ErrCorrupt}
	e := &Entry{}
	status := d.Uvarint()
	stored := d.Varint()
	ttl := d.Uvarint()
	age := d.Uvarint()
	if d.Err == nil && (status < 100 || status > 999 || ttl > 1<<62 || age > maxDelta) {
		return nil, ErrCorrupt
	}
	e.Status = int(status)
	e.StoredAt = time.Unix(0, stored)
	e.TTL = time.Duration(ttl)
	e.InitialAge = time.Duration(age) * time.Second
	nh := d.Count(0)
	if nh > 0 {
		e.Header = make(http.Header, nh)
	} else {
		e.Header = http.Header{}
	}
	for i := 0; i < nh && d.Err == nil; i++ {
		name := d.String()
		vals := d.Strings(0)
		if d.Err == nil && (!validName(name) || e.Header[name] != nil || !validValues(vals)) {
			d.Err = ErrCorrupt
		}
		e.Header[name] = vals
	}
	nv := d.Count(0)
	for i := 0; i < nv && d.Err == nil; i++ {
		name := d.String()
		vals := d.Strings(0)
		if d.Err == nil && (!validName(name) || !validValues(vals)) {
			d.Err = ErrCorrupt
		}
		e.Vary = append(e.Vary, VaryValue{Name: name, Values: vals})
	}
	body := d.Bytes()
	if d.Err != nil {
		return nil, d.Err
	}
	if len(d.B) != 0 {
		return nil, ErrCorrupt
	}
	if cl := e.Header["Content-Length"]; len(cl) > 0 && (len(cl) != 1 || cl[0] != strconv.Itoa(len(body))) {
		return nil, ErrCorrupt // a hit would send a body its header contradicts
	}
	e.Body = body[:len(body):len(body)]
	return e, nil
}

// validName reports whether s is a header field name (an RFC 9110 token).
// The Store is shared, so decoded headers are checked before they reach a
// client.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// validValues reports whether no value holds CR, LF or NUL.
func validValues(vs []string) bool {
	for _, v := range vs {
		if strings.ContainsAny(v, "\r\n\x00") {
			return false
		}
	}
	return true
}
