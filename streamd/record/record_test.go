package record

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"cairn.dev/cairn/node/nodetest"
)

func testRecords(n, size int) []Record {
	recs := make([]Record, n)
	for i := range recs {
		recs[i] = Record{
			Timestamp: 1_700_000_000_000 + int64(i),
			Key:       fmt.Appendf(nil, "k%d", i%7),
			Value:     bytes.Repeat([]byte{byte(i)}, size),
		}
	}
	return recs
}

func TestRoundTrip(t *testing.T) {
	recs := []Record{
		{Timestamp: 1000, Key: []byte("a"), Value: []byte("one")},
		{Timestamp: 990, Key: nil, Value: []byte{}},
		{Timestamp: 1500, Key: []byte{}, Value: nil, Headers: []Header{{Key: "h", Value: []byte("v")}, {Key: "", Value: nil}}},
	}
	p := Producer{ID: 42, Epoch: 3, BaseSequence: 7}
	b := Batch(AppendBatch([]byte("prefix"), recs, p)[len("prefix"):])
	if err := b.Validate(); err != nil {
		t.Fatal(err)
	}
	b.SetBaseOffset(100)
	b.SetLeaderEpoch(9)
	if err := b.Validate(); err != nil {
		t.Fatalf("after setting offset and epoch: %v", err)
	}
	if b.BaseOffset() != 100 || b.LeaderEpoch() != 9 || b.LastOffset() != 102 || b.NextOffset() != 103 ||
		b.Count() != 3 || b.FirstTimestamp() != 1000 || b.MaxTimestamp() != 1500 ||
		b.Producer() != p || b.LastSequence() != 9 || b.Size() != len(b) || b.IsControl() {
		t.Fatalf("header accessors wrong: base %d epoch %d last %d count %d ts %d..%d producer %+v",
			b.BaseOffset(), b.LeaderEpoch(), b.LastOffset(), b.Count(), b.FirstTimestamp(), b.MaxTimestamp(), b.Producer())
	}
	got, err := b.Decode(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(recs) {
		t.Fatalf("decoded %d records, want %d", len(got), len(recs))
	}
	for i, r := range got {
		w := recs[i]
		if r.Offset != 100+int64(i) || r.Timestamp != w.Timestamp || !bytes.Equal(r.Key, w.Key) ||
			(r.Key == nil) != (w.Key == nil) || !bytes.Equal(r.Value, w.Value) || (r.Value == nil) != (w.Value == nil) ||
			len(r.Headers) != len(w.Headers) {
			t.Fatalf("record %d = %+v, want %+v", i, r, w)
		}
		for j, h := range r.Headers {
			if h.Key != w.Headers[j].Key || !bytes.Equal(h.Value, w.Headers[j].Value) || (h.Value == nil) != (w.Headers[j].Value == nil) {
				t.Fatalf("record %d header %d = %+v, want %+v", i, j, h, w.Headers[j])
			}
		}
	}
}

func TestAppendBatchWithKeepsOffsets(t *testing.T) {
	recs := []Record{{Offset: 12, Timestamp: 5, Value: []byte("x")}, {Offset: 15, Timestamp: 6, Value: []byte("y")}}
	b := Batch(AppendBatchWith(nil, BatchHeader{BaseOffset: 10, LeaderEpoch: 2, LastOffsetDelta: 9, Producer: NoProducer}, recs))
	if err := b.Validate(); err != nil {
		t.Fatal(err)
	}
	if b.BaseOffset() != 10 || b.LastOffset() != 19 || b.Count() != 2 || b.ProducerID() != -1 {
		t.Fatalf("base %d last %d count %d pid %d", b.BaseOffset(), b.LastOffset(), b.Count(), b.ProducerID())
	}
	got, err := b.Decode(nil)
	if err != nil || got[0].Offset != 12 || got[1].Offset != 15 {
		t.Fatalf("decoded %+v, %v", got, err)
	}
	empty := Batch(AppendBatchWith(nil, BatchHeader{BaseOffset: 10, LastOffsetDelta: 4, Producer: NoProducer}, nil))
	if err := empty.Validate(); err != nil || empty.Count() != 0 || empty.LastOffset() != 14 {
		t.Fatalf("empty batch: %v count %d last %d", err, empty.Count(), empty.LastOffset())
	}
}

func TestValidateRejects(t *testing.T) {
	good := AppendBatch(nil, testRecords(5, 10), NoProducer)
	cases := map[string]func(b []byte) []byte{
		"short":        func(b []byte) []byte { return b[:HeaderSize-1] },
		"length":       func(b []byte) []byte { return b[:len(b)-1] },
		"magic":        func(b []byte) []byte { b[offMagic] = 1; return b },
		"crc":          func(b []byte) []byte { b[len(b)-1] ^= 1; return b },
		"flipped body": func(b []byte) []byte { b[HeaderSize+2] ^= 0x40; return b },
	}
	for name, mutate := range cases {
		b := Batch(mutate(bytes.Clone(good)))
		if err := b.Validate(); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: Validate = %v, want ErrCorrupt", name, err)
		}
	}
	// A count that disagrees with the records, with a recomputed CRC.
	b := Batch(bytes.Clone(good))
	b[offRecordCount+3] = 4
	fixCRC(b)
	if err := b.ValidateHeader(); err != nil {
		t.Fatalf("ValidateHeader of a bad count: %v (the CRC is right)", err)
	}
	if err := b.Validate(); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Validate of a bad count = %v", err)
	}
}

func fixCRC(b Batch) {
	c := crc32Checksum(b[offAttributes:])
	b[offCRC], b[offCRC+1], b[offCRC+2], b[offCRC+3] = byte(c>>24), byte(c>>16), byte(c>>8), byte(c)
}

func TestNext(t *testing.T) {
	var buf []byte
	for i := range 3 {
		buf = AppendBatch(buf, testRecords(i+1, 3), NoProducer)
	}
	rest := buf
	for i := range 3 {
		b, r, err := Next(rest)
		if err != nil || b.Count() != i+1 || b.Validate() != nil {
			t.Fatalf("batch %d: %v count %d", i, err, b.Count())
		}
		rest = r
	}
	if _, _, err := Next(rest); err != io.EOF {
		t.Fatalf("end: %v, want EOF", err)
	}
	for _, cut := range []int{1, 11, 12, 60, len(buf) - 1} {
		last := buf[:cut]
		var err error
		for err == nil {
			_, last, err = Next(last)
		}
		if err != io.ErrUnexpectedEOF {
			t.Fatalf("cut at %d: %v, want ErrUnexpectedEOF", cut, err)
		}
	}
	bad := bytes.Clone(buf)
	bad[offBatchLength+3], bad[offBatchLength+2] = 3, 0
	if _, _, err := Next(bad); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("small length: %v", err)
	}
}

func TestSequenceWraps(t *testing.T) {
	if AddSequence(1<<31-1, 1) != 0 || AddSequence(1<<31-2, 3) != 1 || AddSequence(5, 2) != 7 {
		t.Fatal("AddSequence does not wrap at MaxInt32")
	}
}

func TestRandomRoundTrip(t *testing.T) {
	seed := nodetest.Seed(t)
	rng := rand.New(rand.NewPCG(seed, 0))
	for range 200 {
		recs := make([]Record, rng.IntN(20))
		for i := range recs {
			recs[i].Timestamp = rng.Int64N(1 << 40)
			if rng.IntN(4) > 0 {
				recs[i].Key = make([]byte, rng.IntN(40))
			}
			if rng.IntN(4) > 0 {
				recs[i].Value = make([]byte, rng.IntN(300))
			}
			for range rng.IntN(3) {
				recs[i].Headers = append(recs[i].Headers, Header{Key: "k", Value: []byte("v")})
			}
		}
		b := Batch(AppendBatch(nil, recs, NoProducer))
		if err := b.Validate(); err != nil {
			t.Fatal(err)
		}
		got, err := b.Decode(nil)
		if err != nil || len(got) != len(recs) {
			t.Fatalf("decode: %v, %d records of %d", err, len(got), len(recs))
		}
		for i := range got {
			if got[i].Timestamp != recs[i].Timestamp || len(got[i].Value) != len(recs[i].Value) || len(got[i].Headers) != len(recs[i].Headers) {
				t.Fatalf("record %d differs", i)
			}
		}
	}
}

func TestAppendBatchDoesNotAllocate(t *testing.T) {
	recs := testRecords(100, 100)
	buf := make([]byte, 0, 64<<10)
	if n := testing.AllocsPerRun(20, func() { buf = AppendBatch(buf[:0], recs, NoProducer) }); n != 0 {
		t.Fatalf("AppendBatch allocates %v times", n)
	}
	b := Batch(buf)
	if n := testing.AllocsPerRun(20, func() {
		if b.Validate() != nil {
			t.Fatal("invalid")
		}
		b.Records(func(Record) bool { return true })
	}); n != 0 {
		t.Fatalf("Validate+Records allocate %v times", n)
	}
}
