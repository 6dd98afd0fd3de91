// Package record is streamd's record batch format: the unit a producer sends,
// the leader appends, the log stores and a consumer fetches, byte for byte.
//
// A batch is a 61-byte big-endian header followed by its records (the layout
// is Kafka's v2 batch without compression):
//
//	0  baseOffset      int64   set by the leader on append
//	8  batchLength     int32   bytes after this field (total = 12 + batchLength)
//	12 leaderEpoch     int32   set by the leader on append
//	16 magic           int8    = 2
//	17 crc             uint32  CRC32C (Castagnoli) of bytes [21, end)
//	21 attributes      int16   bits 0..2 compression (0 = none), bit 5 control
//	23 lastOffsetDelta int32   last record's offset - baseOffset
//	27 firstTimestamp  int64   unix milliseconds
//	35 maxTimestamp    int64
//	43 producerId      int64   -1 when not idempotent
//	51 producerEpoch   int16   -1
//	53 baseSequence    int32   -1
//	57 recordCount     int32
//	61 records...
//
// Each record is a zigzag varint length (of the rest of the record), an
// attributes byte, varint timestampDelta (from firstTimestamp), varint
// offsetDelta (from baseOffset), varint key length (-1 = nil) and key, varint
// value length (-1 = nil) and value, varint header count and the headers, each
// a varint key length and key and a varint value length and value.
//
// baseOffset and leaderEpoch lie outside the CRC, so the leader sets them in
// place ([Batch.SetBaseOffset], [Batch.SetLeaderEpoch]) without touching the
// rest of the batch. Everything here works on the caller's bytes: a [Batch] is
// a []byte, its accessors read the header in place, [AppendBatch] appends to a
// caller's buffer and [Batch.Records] hands out records whose Key and Value
// alias the batch, so neither encoding nor decoding allocates per record
// (except a record's Headers, when it has any).
package record
