package partlog

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"slices"

	"cairn.dev/cairn/streamd/record"
)

// dedupWindow is how many of a producer's latest batches are remembered to
// answer a retried batch with its original offsets (Kafka's 5 in flight).
const dedupWindow = 5

// batchMeta is what the producer state keeps of one idempotent batch.
type batchMeta struct {
	FirstSeq, LastSeq int32
	Base, Last        int64
}

// producerEntry is one idempotent producer's state: its epoch and latest
// batches, oldest first.
type producerEntry struct {
	Epoch   int16
	Batches []batchMeta
}

// producers is the idempotent-producer state of a log, keyed by producer id.
// Only the writer touches it (under Log.wmu).
type producers map[int64]*producerEntry

// check decides whether a leader may append idempotent batch b: nil, a
// duplicate (with the original offsets), ErrProducerFenced or
// ErrOutOfOrderSequence. A producer the log does not know may start at any
// sequence (its state may have been removed with the segments that held it).
func (p producers) check(b record.Batch) (dup *batchMeta, err error) {
	e := p[b.ProducerID()]
	if e == nil {
		return nil, nil
	}
	epoch, first := b.ProducerEpoch(), b.BaseSequence()
	switch {
	case epoch < e.Epoch:
		return nil, ErrProducerFenced
	case epoch > e.Epoch:
		if first != 0 {
			return nil, ErrOutOfOrderSequence
		}
		return nil, nil
	}
	last := b.LastSequence()
	for i := range e.Batches {
		if m := &e.Batches[i]; m.FirstSeq == first && m.LastSeq == last {
			return m, nil
		}
	}
	if n := len(e.Batches); n > 0 && first != record.AddSequence(e.Batches[n-1].LastSeq, 1) {
		return nil, ErrOutOfOrderSequence
	}
	return nil, nil
}

// update records appended batch b (its offsets set); batches without a
// producer id are ignored.
func (p producers) update(b record.Batch) {
	id := b.ProducerID()
	if id < 0 {
		return
	}
	e := p[id]
	if e == nil {
		e = &producerEntry{Epoch: b.ProducerEpoch(), Batches: make([]batchMeta, 0, dedupWindow)}
		p[id] = e
	}
	if b.ProducerEpoch() != e.Epoch {
		e.Epoch = b.ProducerEpoch()
		e.Batches = e.Batches[:0]
	}
	if len(e.Batches) == dedupWindow {
		copy(e.Batches, e.Batches[1:])
		e.Batches = e.Batches[:dedupWindow-1]
	}
	e.Batches = append(e.Batches, batchMeta{
		FirstSeq: b.BaseSequence(), LastSeq: b.LastSequence(), Base: b.BaseOffset(), Last: b.LastOffset(),
	})
}

var snapshotMagic = [4]byte{'P', 'S', 'N', '1'}

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// encodeSnapshot renders the state: magic, producer count, then per producer
// id, epoch, batch count and batches, sorted by id; a CRC32C of all that last.
func (p producers) encodeSnapshot() []byte {
	ids := make([]int64, 0, len(p))
	for id := range p {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	b := append([]byte(nil), snapshotMagic[:]...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(ids)))
	for _, id := range ids {
		e := p[id]
		b = binary.BigEndian.AppendUint64(b, uint64(id))
		b = binary.BigEndian.AppendUint16(b, uint16(e.Epoch))
		b = append(b, byte(len(e.Batches)))
		for _, m := range e.Batches {
			b = binary.BigEndian.AppendUint32(b, uint32(m.FirstSeq))
			b = binary.BigEndian.AppendUint32(b, uint32(m.LastSeq))
			b = binary.BigEndian.AppendUint64(b, uint64(m.Base))
			b = binary.BigEndian.AppendUint64(b, uint64(m.Last))
		}
	}
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, crcTable))
}

var errBadSnapshot = errors.New("partlog: bad producer snapshot")

func decodeSnapshot(b []byte) (producers, error) {
	if len(b) < 12 || [4]byte(b[:4]) != snapshotMagic {
		return nil, errBadSnapshot
	}
	body := b[:len(b)-4]
	if crc32.Checksum(body, crcTable) != binary.BigEndian.Uint32(b[len(b)-4:]) {
		return nil, errBadSnapshot
	}
	n := binary.BigEndian.Uint32(body[4:])
	body = body[8:]
	p := make(producers, n)
	for range n {
		if len(body) < 11 {
			return nil, errBadSnapshot
		}
		id := int64(binary.BigEndian.Uint64(body))
		e := &producerEntry{Epoch: int16(binary.BigEndian.Uint16(body[8:]))}
		k := int(body[10])
		body = body[11:]
		if k > dedupWindow || len(body) < k*24 {
			return nil, errBadSnapshot
		}
		e.Batches = make([]batchMeta, k, dedupWindow)
		for i := range k {
			e.Batches[i] = batchMeta{
				FirstSeq: int32(binary.BigEndian.Uint32(body)),
				LastSeq:  int32(binary.BigEndian.Uint32(body[4:])),
				Base:     int64(binary.BigEndian.Uint64(body[8:])),
				Last:     int64(binary.BigEndian.Uint64(body[16:])),
			}
			body = body[24:]
		}
		p[id] = e
	}
	if len(body) != 0 {
		return nil, errBadSnapshot
	}
	return p, nil
}

func loadSnapshot(path string) (producers, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return decodeSnapshot(b)
}
