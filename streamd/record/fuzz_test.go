package record

import (
	"errors"
	"hash/crc32"
	"io"
	"testing"
)

func crc32Checksum(b []byte) uint32 { return crc32.Checksum(b, crcTable) }

// FuzzDecode feeds arbitrary bytes to Next, Validate and Records: none may
// panic, and a batch that passes Validate decodes to Count records.
func FuzzDecode(f *testing.F) {
	f.Add([]byte{})
	f.Add(AppendBatch(nil, testRecords(3, 5), NoProducer))
	f.Add(AppendBatch(nil, []Record{{Key: []byte("k"), Headers: []Header{{Key: "a", Value: []byte("b")}}}}, Producer{ID: 1, Epoch: 0, BaseSequence: 0}))
	two := AppendBatch(AppendBatch(nil, testRecords(2, 1), NoProducer), nil, NoProducer)
	f.Add(two)
	f.Add(two[:len(two)-3])
	f.Fuzz(func(t *testing.T, data []byte) {
		// Let the fuzzer reach the record parser: fix the CRC when the length fits.
		if len(data) >= HeaderSize {
			b := Batch(data)
			if b.Size() == len(data) {
				fixCRC(b)
			}
		}
		rest := data
		for {
			b, r, err := Next(rest)
			if err != nil {
				if err != io.EOF && err != io.ErrUnexpectedEOF && !errors.Is(err, ErrCorrupt) {
					t.Fatalf("Next: unexpected error %v", err)
				}
				return
			}
			rest = r
			verr := b.Validate()
			n := 0
			derr := b.Records(func(Record) bool { n++; return true })
			if verr == nil && (derr != nil || n != b.Count()) {
				t.Fatalf("valid batch decodes %d of %d records: %v", n, b.Count(), derr)
			}
		}
	})
}
