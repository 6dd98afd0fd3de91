package record

import "testing"

// 1000 records of 100 bytes per batch, the streamd target workload.
func BenchmarkAppendBatch(b *testing.B) {
	recs := testRecords(1000, 100)
	buf := AppendBatch(nil, recs, NoProducer)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendBatch(buf[:0], recs, NoProducer)
	}
}

func BenchmarkValidate(b *testing.B) {
	batch := Batch(AppendBatch(nil, testRecords(1000, 100), NoProducer))
	b.SetBytes(int64(len(batch)))
	b.ReportAllocs()
	for b.Loop() {
		if err := batch.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidateHeader(b *testing.B) {
	batch := Batch(AppendBatch(nil, testRecords(1000, 100), NoProducer))
	b.SetBytes(int64(len(batch)))
	b.ReportAllocs()
	for b.Loop() {
		if err := batch.ValidateHeader(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRecords(b *testing.B) {
	batch := Batch(AppendBatch(nil, testRecords(1000, 100), NoProducer))
	b.SetBytes(int64(len(batch)))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		if err := batch.Records(func(Record) bool { n++; return true }); err != nil || n != 1000 {
			b.Fatal(err)
		}
	}
}
