package searchd

import (
	"strconv"

	sdclient "cairn.dev/cairn/streamd/client"
	"cairn.dev/cairn/streamd/record"
)

// mappingVersionHeader is the record header carrying the mapping version a
// write was parsed with (decimal); a copy applies the record only once its
// metadata has that version.
const mappingVersionHeader = "mv"

// putRecord is a write of source (nil: a delete) under id.
func putRecord(id string, source []byte, mappingVersion uint64) sdclient.Record {
	return sdclient.Record{
		Key:     []byte(id),
		Value:   source,
		Headers: []record.Header{{Key: mappingVersionHeader, Value: strconv.AppendUint(nil, mappingVersion, 10)}},
	}
}

// recordMappingVersion returns the mapping version a record was parsed
// with (0 when it carries none).
func recordMappingVersion(r sdclient.Record) uint64 {
	for _, h := range r.Headers {
		if h.Key == mappingVersionHeader {
			v, _ := strconv.ParseUint(string(h.Value), 10, 64)
			return v
		}
	}
	return 0
}
