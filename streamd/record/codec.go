package record

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// BatchHeader holds the header fields [AppendBatchWith] writes; the length,
// magic, CRC, timestamps and record count are computed.
type BatchHeader struct {
	BaseOffset  int64
	LeaderEpoch int32
	Attributes  int16
	// LastOffsetDelta, when >= 0, is written as is (compaction keeps it when
	// it removes the batch's last records); -1 means the last record's delta.
	LastOffsetDelta int32
	Producer        Producer
}

// AppendBatch appends to dst one batch holding recs, with base offset 0,
// leader epoch 0 (the leader sets both on append) and the producer p (use
// NoProducer for none), and returns the extended buffer. Records get offset
// deltas 0..len(recs)-1 (their Offset is ignored); firstTimestamp is the first
// record's Timestamp. It allocates nothing when dst has room.
func AppendBatch(dst []byte, recs []Record, p Producer) []byte {
	return appendBatch(dst, BatchHeader{LastOffsetDelta: -1, Producer: p}, recs, false)
}

// AppendBatchWith appends one batch with header h holding recs, keeping each
// record's Offset (as its delta from h.BaseOffset; offsets must increase and
// not be below the base). Compaction rewrites batches with it.
func AppendBatchWith(dst []byte, h BatchHeader, recs []Record) []byte {
	return appendBatch(dst, h, recs, true)
}

func appendBatch(dst []byte, h BatchHeader, recs []Record, keepOffsets bool) []byte {
	start := len(dst)
	dst = append(dst, make([]byte, HeaderSize)...)
	var first, maxTS int64
	if len(recs) > 0 {
		first, maxTS = recs[0].Timestamp, recs[0].Timestamp
	}
	lastDelta := int64(-1)
	for i := range recs {
		r := &recs[i]
		delta := int64(i)
		if keepOffsets {
			delta = r.Offset - h.BaseOffset
		}
		lastDelta = delta
		if r.Timestamp > maxTS {
			maxTS = r.Timestamp
		}
		dst = appendRecord(dst, r, r.Timestamp-first, delta)
	}
	if h.LastOffsetDelta >= 0 {
		lastDelta = int64(h.LastOffsetDelta)
	}
	if lastDelta < 0 {
		lastDelta = 0
	}
	b := dst[start:]
	be := binary.BigEndian
	be.PutUint64(b[offBaseOffset:], uint64(h.BaseOffset))
	be.PutUint32(b[offBatchLength:], uint32(len(b)-lengthPrefix))
	be.PutUint32(b[offLeaderEpoch:], uint32(h.LeaderEpoch))
	b[offMagic] = Magic
	be.PutUint16(b[offAttributes:], uint16(h.Attributes))
	be.PutUint32(b[offLastOffsetDelta:], uint32(lastDelta))
	be.PutUint64(b[offFirstTimestamp:], uint64(first))
	be.PutUint64(b[offMaxTimestamp:], uint64(maxTS))
	be.PutUint64(b[offProducerID:], uint64(h.Producer.ID))
	be.PutUint16(b[offProducerEpoch:], uint16(h.Producer.Epoch))
	be.PutUint32(b[offBaseSequence:], uint32(h.Producer.BaseSequence))
	be.PutUint32(b[offRecordCount:], uint32(len(recs)))
	be.PutUint32(b[offCRC:], crc32.Checksum(b[offAttributes:], crcTable))
	return dst
}

func varintLen(v int64) int {
	u := uint64(v<<1) ^ uint64(v>>63)
	n := 1
	for u >= 0x80 {
		u >>= 7
		n++
	}
	return n
}

func bytesLen(b []byte) int {
	if b == nil {
		return varintLen(-1)
	}
	return varintLen(int64(len(b))) + len(b)
}

func appendBytes(dst, b []byte) []byte {
	if b == nil {
		return binary.AppendVarint(dst, -1)
	}
	dst = binary.AppendVarint(dst, int64(len(b)))
	return append(dst, b...)
}

func appendRecord(dst []byte, r *Record, tsDelta, offDelta int64) []byte {
	n := 1 + varintLen(tsDelta) + varintLen(offDelta) + bytesLen(r.Key) + bytesLen(r.Value) +
		varintLen(int64(len(r.Headers)))
	for i := range r.Headers {
		h := &r.Headers[i]
		n += varintLen(int64(len(h.Key))) + len(h.Key) + bytesLen(h.Value)
	}
	dst = binary.AppendVarint(dst, int64(n))
	dst = append(dst, 0) // attributes
	dst = binary.AppendVarint(dst, tsDelta)
	dst = binary.AppendVarint(dst, offDelta)
	dst = appendBytes(dst, r.Key)
	dst = appendBytes(dst, r.Value)
	dst = binary.AppendVarint(dst, int64(len(r.Headers)))
	for i := range r.Headers {
		h := &r.Headers[i]
		dst = binary.AppendVarint(dst, int64(len(h.Key)))
		dst = append(dst, h.Key...)
		dst = appendBytes(dst, h.Value)
	}
	return dst
}

// rawRecord is a record as scanned, before its headers are materialised.
type rawRecord struct {
	tsDelta     int64
	offsetDelta int64
	key, value  []byte
	nHeaders    int
	headers     []byte // the encoded headers
}

// reader walks encoded bytes; the first failure sticks in err.
type reader struct {
	b   []byte
	err error
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = fmt.Errorf("%w: bad varint", ErrCorrupt)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes(nullable bool) []byte {
	n := r.varint()
	if r.err != nil {
		return nil
	}
	if n < 0 {
		if n == -1 && nullable {
			return nil
		}
		r.err = fmt.Errorf("%w: length %d", ErrCorrupt, n)
		return nil
	}
	if n > int64(len(r.b)) {
		r.err = fmt.Errorf("%w: length %d past the end of the record", ErrCorrupt, n)
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

// scan parses every record after the header, calling fn until it returns
// false; headers are checked, their bytes left in rawRecord.headers.
func (b Batch) scan(fn func(rawRecord) bool) error {
	rest := reader{b: b[HeaderSize:]}
	var rr rawRecord
	for len(rest.b) > 0 {
		n := rest.varint()
		if rest.err != nil {
			return rest.err
		}
		if n < 1 || n > int64(len(rest.b)) {
			return fmt.Errorf("%w: record length %d with %d bytes left", ErrCorrupt, n, len(rest.b))
		}
		r := reader{b: rest.b[1:n]} // skip the attributes byte
		rest.b = rest.b[n:]
		rr.tsDelta = r.varint()
		rr.offsetDelta = r.varint()
		rr.key = r.bytes(true)
		rr.value = r.bytes(true)
		nh := r.varint()
		if r.err == nil && (nh < 0 || nh > int64(len(r.b))) {
			return fmt.Errorf("%w: header count %d", ErrCorrupt, nh)
		}
		rr.nHeaders = int(nh)
		rr.headers = r.b
		for range rr.nHeaders {
			r.bytes(false)
			r.bytes(true)
		}
		if r.err != nil {
			return r.err
		}
		if len(r.b) != 0 {
			return fmt.Errorf("%w: %d bytes left over in a record", ErrCorrupt, len(r.b))
		}
		if !fn(rr) {
			return nil
		}
	}
	return nil
}

// Records calls fn for each record of the batch, in order, until fn returns
// false. The Record's Key, Value and header values alias the batch and are
// valid only as long as it is.
// Headers are allocated only for records that have them. It returns an error
// wrapping ErrCorrupt when a record cannot be parsed (records before it were
// passed to fn); it does not check the CRC (see Validate).
func (b Batch) Records(fn func(Record) bool) error {
	if len(b) < HeaderSize {
		return fmt.Errorf("%w: %d bytes, shorter than the %d-byte header", ErrCorrupt, len(b), HeaderSize)
	}
	base, first := b.BaseOffset(), b.FirstTimestamp()
	var rec Record
	return b.scan(func(r rawRecord) bool {
		rec.Offset = base + r.offsetDelta
		rec.Timestamp = first + r.tsDelta
		rec.Key, rec.Value, rec.Headers = r.key, r.value, nil
		if r.nHeaders > 0 {
			rec.Headers = make([]Header, r.nHeaders)
			hr := reader{b: r.headers}
			for i := range rec.Headers {
				rec.Headers[i].Key = string(hr.bytes(false))
				rec.Headers[i].Value = hr.bytes(true)
			}
		}
		return fn(rec)
	})
}

// Decode appends the batch's records to dst and returns it; like Records,
// keys and values alias the batch.
func (b Batch) Decode(dst []Record) ([]Record, error) {
	err := b.Records(func(r Record) bool {
		dst = append(dst, r)
		return true
	})
	return dst, err
}
