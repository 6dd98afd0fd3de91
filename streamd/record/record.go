package record

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// Header field offsets and sizes.
const (
	// HeaderSize is the size of a batch header; the records follow it.
	HeaderSize = 61
	// Magic is the only batch format version there is.
	Magic = 2

	offBaseOffset      = 0
	offBatchLength     = 8
	offLeaderEpoch     = 12
	offMagic           = 16
	offCRC             = 17
	offAttributes      = 21
	offLastOffsetDelta = 23
	offFirstTimestamp  = 27
	offMaxTimestamp    = 35
	offProducerID      = 43
	offProducerEpoch   = 51
	offBaseSequence    = 53
	offRecordCount     = 57

	// lengthPrefix is the part of the header not counted in batchLength.
	lengthPrefix = 12
)

// Attribute bits.
const (
	// AttrCompressionMask selects the compression codec bits; only 0 (none)
	// is supported.
	AttrCompressionMask = 0x7
	// AttrControl marks a control batch (transaction markers; unused yet).
	AttrControl = 0x20
)

// ErrCorrupt is returned, wrapped with what is wrong, for bytes that are not
// a valid batch: bad length, magic, CRC, record count or record encoding.
var ErrCorrupt = errors.New("record: corrupt batch")

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Header is one record header. A nil Value and an empty one are told apart.
type Header struct {
	Key   string
	Value []byte
}

// Record is one record of a batch. Offset and Timestamp (unix milliseconds)
// are absolute. Decoding leaves Key and Value aliasing the batch; a nil Key or
// Value is a null one (distinct from empty).
type Record struct {
	Offset    int64
	Timestamp int64
	Key       []byte
	Value     []byte
	Headers   []Header
}

// Producer identifies an idempotent producer's batch: its id, epoch and the
// sequence number of the batch's first record. ID -1 (see [NoProducer]) means
// not idempotent.
type Producer struct {
	ID           int64
	Epoch        int16
	BaseSequence int32
}

// NoProducer is the Producer of a batch that is not idempotent.
var NoProducer = Producer{ID: -1, Epoch: -1, BaseSequence: -1}

// Batch is one whole encoded batch. Its accessors read the header in place
// and expect at least HeaderSize bytes: call [Batch.Validate] (or get the
// batch from [Next]) before trusting them on untrusted input.
type Batch []byte

// BaseOffset is the offset of the batch's first record.
func (b Batch) BaseOffset() int64 { return int64(binary.BigEndian.Uint64(b[offBaseOffset:])) }

// SetBaseOffset sets the base offset in place (outside the CRC).
func (b Batch) SetBaseOffset(o int64) { binary.BigEndian.PutUint64(b[offBaseOffset:], uint64(o)) }

// LeaderEpoch is the leader epoch the batch was appended in.
func (b Batch) LeaderEpoch() int32 { return int32(binary.BigEndian.Uint32(b[offLeaderEpoch:])) }

// SetLeaderEpoch sets the leader epoch in place (outside the CRC).
func (b Batch) SetLeaderEpoch(e int32) { binary.BigEndian.PutUint32(b[offLeaderEpoch:], uint32(e)) }

// BatchLength is the header's batchLength field: the size minus 12.
func (b Batch) BatchLength() int32 { return int32(binary.BigEndian.Uint32(b[offBatchLength:])) }

// Size is the batch's size in bytes according to its header (12 + batchLength).
func (b Batch) Size() int { return lengthPrefix + int(b.BatchLength()) }

// Magic is the format version byte.
func (b Batch) Magic() int8 { return int8(b[offMagic]) }

// CRC is the stored checksum.
func (b Batch) CRC() uint32 { return binary.BigEndian.Uint32(b[offCRC:]) }

// Attributes is the attributes field.
func (b Batch) Attributes() int16 { return int16(binary.BigEndian.Uint16(b[offAttributes:])) }

// IsControl reports whether the batch is a control batch.
func (b Batch) IsControl() bool { return b.Attributes()&AttrControl != 0 }

// LastOffsetDelta is the last record's offset minus the base offset (kept
// when compaction removes records, so LastOffset stays).
func (b Batch) LastOffsetDelta() int32 {
	return int32(binary.BigEndian.Uint32(b[offLastOffsetDelta:]))
}

// LastOffset is the offset of the batch's last record: BaseOffset +
// LastOffsetDelta.
func (b Batch) LastOffset() int64 { return b.BaseOffset() + int64(b.LastOffsetDelta()) }

// NextOffset is LastOffset + 1, the base offset of the batch that follows.
func (b Batch) NextOffset() int64 { return b.LastOffset() + 1 }

// FirstTimestamp is the first record's timestamp, unix milliseconds; record
// timestamps are stored as deltas from it.
func (b Batch) FirstTimestamp() int64 {
	return int64(binary.BigEndian.Uint64(b[offFirstTimestamp:]))
}

// MaxTimestamp is the largest record timestamp in the batch, unix milliseconds.
func (b Batch) MaxTimestamp() int64 { return int64(binary.BigEndian.Uint64(b[offMaxTimestamp:])) }

// ProducerID is the idempotent producer's id, -1 when none.
func (b Batch) ProducerID() int64 { return int64(binary.BigEndian.Uint64(b[offProducerID:])) }

// ProducerEpoch is the idempotent producer's epoch, -1 when none.
func (b Batch) ProducerEpoch() int16 { return int16(binary.BigEndian.Uint16(b[offProducerEpoch:])) }

// BaseSequence is the first record's sequence number, -1 when none.
func (b Batch) BaseSequence() int32 { return int32(binary.BigEndian.Uint32(b[offBaseSequence:])) }

// LastSequence is the last record's sequence number: BaseSequence +
// LastOffsetDelta, wrapping past math.MaxInt32 to 0 as Kafka's does.
func (b Batch) LastSequence() int32 { return AddSequence(b.BaseSequence(), b.LastOffsetDelta()) }

// Producer is the batch's producer id, epoch and base sequence.
func (b Batch) Producer() Producer {
	return Producer{ID: b.ProducerID(), Epoch: b.ProducerEpoch(), BaseSequence: b.BaseSequence()}
}

// Count is the number of records in the batch.
func (b Batch) Count() int { return int(int32(binary.BigEndian.Uint32(b[offRecordCount:]))) }

// AddSequence adds n to sequence number s, wrapping past math.MaxInt32 to 0.
func AddSequence(s, n int32) int32 {
	v := int64(s) + int64(n)
	if v > 1<<31-1 {
		v -= 1 << 31
	}
	return int32(v)
}

// ValidateHeader checks the batch's framing and checksum: its length matches
// the header's batchLength, the magic is 2, the compression is none, the CRC
// matches, the record count and last offset delta are sane. It does not parse
// the records; the CRC covers them, so a batch that passed [Batch.Validate]
// once and was stored needs only this to be re-checked. Errors wrap
// ErrCorrupt.
func (b Batch) ValidateHeader() error {
	if len(b) < HeaderSize {
		return fmt.Errorf("%w: %d bytes, shorter than the %d-byte header", ErrCorrupt, len(b), HeaderSize)
	}
	if n := b.Size(); n != len(b) {
		return fmt.Errorf("%w: batchLength says %d bytes, have %d", ErrCorrupt, n, len(b))
	}
	if m := b.Magic(); m != Magic {
		return fmt.Errorf("%w: magic %d, want %d", ErrCorrupt, m, Magic)
	}
	if got, want := crc32.Checksum(b[offAttributes:], crcTable), b.CRC(); got != want {
		return fmt.Errorf("%w: crc %08x, header says %08x", ErrCorrupt, got, want)
	}
	if c := b.Attributes() & AttrCompressionMask; c != 0 {
		return fmt.Errorf("%w: compression codec %d not supported", ErrCorrupt, c)
	}
	n, d := b.Count(), b.LastOffsetDelta()
	if n < 0 || d < 0 || int64(n) > int64(d)+1 {
		return fmt.Errorf("%w: %d records with lastOffsetDelta %d", ErrCorrupt, n, d)
	}
	if int64(n) > int64(len(b)-HeaderSize) {
		return fmt.Errorf("%w: %d records in %d bytes", ErrCorrupt, n, len(b)-HeaderSize)
	}
	return nil
}

// Validate checks everything ValidateHeader does and parses every record:
// each record's length, varints and fields fit, the offset deltas strictly
// increase and stay within lastOffsetDelta, the count matches and no bytes
// are left over. A leader validates every produced batch with it. Errors wrap
// ErrCorrupt.
func (b Batch) Validate() error {
	if err := b.ValidateHeader(); err != nil {
		return err
	}
	n := 0
	prev := int64(-1)
	last := int64(b.LastOffsetDelta())
	err := b.scan(func(r rawRecord) bool {
		n++
		if r.offsetDelta <= prev || r.offsetDelta > last {
			return false
		}
		prev = r.offsetDelta
		return true
	})
	if err != nil {
		return err
	}
	if n != b.Count() {
		return fmt.Errorf("%w: header counts %d records, stopped after %d (offset deltas must increase up to lastOffsetDelta)", ErrCorrupt, b.Count(), n)
	}
	if n > 0 && b.Count() == int(last)+1 && prev != last {
		return fmt.Errorf("%w: last record's offset delta %d, lastOffsetDelta %d", ErrCorrupt, prev, last)
	}
	return nil
}

// Next splits the first batch off buf, a run of consecutive batches (as a log
// segment or a fetch response holds). It checks only that the header's length
// is sane and the batch is whole: io.EOF for an empty buf,
// io.ErrUnexpectedEOF for a short tail (a partial header or batch), an error
// wrapping ErrCorrupt for a length smaller than a header. Call Validate or
// ValidateHeader on the batch to check the rest.
func Next(buf []byte) (b Batch, rest []byte, err error) {
	if len(buf) == 0 {
		return nil, buf, io.EOF
	}
	if len(buf) < lengthPrefix {
		return nil, buf, io.ErrUnexpectedEOF
	}
	n := int64(int32(binary.BigEndian.Uint32(buf[offBatchLength:])))
	if n < HeaderSize-lengthPrefix {
		return nil, buf, fmt.Errorf("%w: batchLength %d", ErrCorrupt, n)
	}
	size := lengthPrefix + n
	if int64(len(buf)) < size {
		return nil, buf, io.ErrUnexpectedEOF
	}
	return Batch(buf[:size:size]), buf[size:], nil
}
