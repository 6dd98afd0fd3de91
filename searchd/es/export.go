package es

import (
	"encoding/json"
	"errors"

	searchdv1 "cairn.dev/cairn/proto/cairn/searchd/v1"
)

// SearchResponseJSON renders a SearchResponse as Elasticsearch's _search
// answer (hits.total as an object), as the HTTP API sends it: for other
// front ends, such as the CLI's --output json.
func SearchResponseJSON(resp *searchdv1.SearchResponse) (json.RawMessage, error) {
	return marshal(searchObject(resp, false))
}

// ParseBulk reads an Elasticsearch _bulk body (NDJSON index, create and
// delete actions with their sources; a missing final newline is added)
// into Bulk items, with index as the default index. An item the HTTP API
// would fail on its own (an update, optimistic concurrency, a source that
// is not a JSON object) is an error here, naming its action line.
func ParseBulk(body []byte, index string) ([]*searchdv1.BulkItem, error) {
	if len(body) > 0 && body[len(body)-1] != '\n' {
		body = append(body, '\n')
	}
	items, e := parseBulk(body, index)
	if e != nil {
		return nil, errors.New(e.reason)
	}
	out := make([]*searchdv1.BulkItem, 0, len(items))
	for i, it := range items {
		if r := it.result; r != nil {
			return nil, errors.New("item " + itoa(int64(i+1)) + " (" + it.action + " " + it.id + "): " + r.GetErrorReason())
		}
		out = append(out, it.proto())
	}
	return out, nil
}
