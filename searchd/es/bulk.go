package es

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"cairn.dev/cairn/node/rpcerr"
	searchdv1 "cairn.dev/cairn/proto/cairn/searchd/v1"
)

// bulkItem is one action of a _bulk body.
type bulkItem struct {
	action string // index, create, delete or update
	index  string
	id     string
	source []byte
	// result is the item's answer: from searchd, or set while parsing when
	// the item fails on its own (an unsupported action, a bad source).
	result *searchdv1.BulkItemResult
}

// bulkMetaKeys are the parameters an action line may carry; those outside
// _index and _id are accepted and have no effect (routing: searchd routes
// by id), except the ones bulkUnsupported lists.
var bulkMetaKeys = map[string]bool{
	"_index": true, "_id": true, "routing": true, "pipeline": true, "require_alias": true,
	"dynamic_templates": true, "retry_on_conflict": true, "if_seq_no": true, "if_primary_term": true,
	"version": true, "version_type": true, "_source": true, "require_data_stream": true,
}

// bulkUnsupported are action-line parameters whose effect searchd does not
// provide: the item fails (400) rather than run without it.
var bulkUnsupported = []string{"if_seq_no", "if_primary_term", "version", "version_type"}

// parseBulk reads a _bulk body: NDJSON action lines, each index, create
// and update followed by its source line, the whole ending with a newline.
// Request-level problems (malformed lines, a missing index or id) fail the
// request as Elasticsearch's do; an item searchd cannot run fails alone.
func parseBulk(body []byte, defIndex string) ([]*bulkItem, *esError) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, errorf(http.StatusBadRequest, "action_request_validation_exception", "Validation Failed: 1: no requests added;")
	}
	if body[len(body)-1] != '\n' {
		return nil, badRequest("The bulk request must be terminated by a newline [\\n]")
	}
	lines := bytes.Split(body[:len(body)-1], []byte("\n"))
	var items []*bulkItem
	var missing []string
	for i := 0; i < len(lines); i++ {
		line := bytes.TrimSpace(lines[i])
		if len(line) == 0 {
			continue
		}
		n := i + 1
		var act map[string]json.RawMessage
		if err := json.Unmarshal(line, &act); err != nil || len(act) != 1 {
			return nil, badRequest("Malformed action/metadata line [%d], expected a JSON object with one key (index, create, delete or update)", n)
		}
		it := &bulkItem{}
		var metaRaw json.RawMessage
		for k, v := range act {
			it.action, metaRaw = k, v
		}
		switch it.action {
		case "index", "create", "delete", "update":
		default:
			return nil, badRequest("Malformed action/metadata line [%d], expected one of [create, delete, index, update] but found [%s]", n, it.action)
		}
		var meta map[string]any
		if err := json.Unmarshal(metaRaw, &meta); err != nil {
			return nil, badRequest("Malformed action/metadata line [%d], expected START_OBJECT but found [%s]", n, bytes.TrimSpace(metaRaw))
		}
		for k, v := range meta {
			if !bulkMetaKeys[k] {
				return nil, badRequest("Action/metadata line [%d] contains an unknown parameter [%s]", n, k)
			}
			switch k {
			case "_index", "_id":
				s, ok := v.(string)
				if !ok {
					return nil, badRequest("Action/metadata line [%d]: [%s] must be a string", n, k)
				}
				if k == "_index" {
					it.index = s
				} else {
					it.id = s
				}
			}
		}
		if it.index == "" {
			it.index = defIndex
		}
		if it.index == "" {
			missing = append(missing, "index is missing")
		}
		if it.action == "delete" && it.id == "" {
			missing = append(missing, "id is missing")
		}
		if it.action != "delete" {
			i++
			if i >= len(lines) || len(bytes.TrimSpace(lines[i])) == 0 {
				return nil, badRequest("Action/metadata line [%d] (%s) has no source line after it", n, it.action)
			}
			it.source = bytes.TrimSpace(lines[i])
		}
		switch {
		case it.action == "update":
			it.fail(badRequest("the update action is not supported by cairn searchd: send an index action with the whole document"))
		case hasAny(meta, bulkUnsupported):
			it.fail(badRequest("optimistic concurrency control (if_seq_no, if_primary_term, version) is not supported by cairn searchd"))
		case it.action != "delete":
			if e := checkSource(it.source, it.index, it.id); e != nil {
				it.fail(e)
			}
		}
		items = append(items, it)
	}
	if len(missing) > 0 {
		msg := "Validation Failed: "
		for i, m := range missing {
			msg += fmt.Sprintf("%d: %s;", i+1, m)
		}
		return nil, errorf(http.StatusBadRequest, "action_request_validation_exception", "%s", msg)
	}
	if len(items) == 0 {
		return nil, errorf(http.StatusBadRequest, "action_request_validation_exception", "Validation Failed: 1: no requests added;")
	}
	return items, nil
}

func hasAny(m map[string]any, keys []string) bool {
	for _, k := range keys {
		if _, ok := m[k]; ok {
			return true
		}
	}
	return false
}

// fail sets the item's answer to e.
func (it *bulkItem) fail(e *esError) {
	it.result = &searchdv1.BulkItemResult{Index: it.index, Id: it.id, Status: int32(e.status), ErrorType: e.typ, ErrorReason: e.reason}
}

func (it *bulkItem) proto() *searchdv1.BulkItem {
	a := map[string]searchdv1.BulkAction{
		"index": searchdv1.BulkAction_BULK_ACTION_INDEX, "create": searchdv1.BulkAction_BULK_ACTION_CREATE, "delete": searchdv1.BulkAction_BULK_ACTION_DELETE,
	}[it.action]
	return &searchdv1.BulkItem{Action: a, Index: it.index, Id: it.id, SourceJson: it.source}
}

// bulk serves POST|PUT /_bulk and /<index>/_bulk. Items go to searchd in
// chunks (Options.BulkChunkBytes and BulkChunkItems), in order; an item
// whose index is missing is retried once after creating the index (unless
// Options.NoAutoCreateIndex). When a chunk fails as a whole, that chunk's
// items and every later one fail with its error: the earlier ones were
// applied and keep their answers.
func (h *Handler) bulk(c *call) error {
	start := time.Now()
	def := ""
	if len(c.segs) == 2 {
		def = c.segs[0]
	}
	refresh, err := refreshParam(c)
	if err != nil {
		return err
	}
	body, err := h.body(c)
	if err != nil {
		return err
	}
	items, perr := parseBulk(body, def)
	if perr != nil {
		return perr
	}
	var todo []*bulkItem
	for _, it := range items {
		if it.result == nil {
			todo = append(todo, it)
		}
	}
	sent := false
	for len(todo) > 0 {
		n, size := 0, 0
		for n < len(todo) && n < h.opts.BulkChunkItems && (n == 0 || size+len(todo[n].source) <= h.opts.BulkChunkBytes) {
			size += len(todo[n].source)
			n++
		}
		chunk := todo[:n]
		todo = todo[n:]
		if err := h.bulkChunk(c, def, chunk, refresh); err != nil {
			e := fromRPC(err, opDocWrite, def, "")
			if !sent {
				return e
			}
			for _, it := range append(chunk, todo...) {
				it.fail(e)
			}
			break
		}
		sent = true
	}
	anyErr := false
	out := make([]obj, 0, len(items))
	for _, it := range items {
		anyErr = anyErr || it.result.GetErrorType() != ""
		out = append(out, obj{}.add(it.action, bulkItemObject(it)))
	}
	writeJSON(c.w, c.r, http.StatusOK, obj{}.add("took", millisSince(start)).add("errors", anyErr).add("items", out))
	return nil
}

// bulkChunk sends one chunk and sets its items' results, creating missing
// indexes and resending their items once.
func (h *Handler) bulkChunk(c *call, def string, chunk []*bulkItem, refresh searchdv1.Refresh) error {
	send := func(items []*bulkItem) error {
		req := &searchdv1.BulkRequest{Index: def, Refresh: refresh}
		for _, it := range items {
			req.Items = append(req.Items, it.proto())
		}
		resp, err := h.docs.Bulk(c.ctx, req)
		if err != nil {
			return err
		}
		if len(resp.GetItems()) != len(items) {
			return fmt.Errorf("searchd answered %d bulk items for %d", len(resp.GetItems()), len(items))
		}
		for i, r := range resp.GetItems() {
			items[i].result = r
		}
		return nil
	}
	err := send(chunk)
	if h.opts.NoAutoCreateIndex {
		return err
	}
	var retry []*bulkItem
	missing := map[string]bool{}
	for _, it := range chunk {
		notFound := err != nil && rpcerr.ReasonOf(err) == reasonIndexNotFound ||
			err == nil && it.result.GetErrorType() == "index_not_found_exception"
		if notFound && it.action != "delete" {
			retry = append(retry, it)
			missing[it.index] = true
		}
	}
	if err != nil && len(retry) == 0 {
		return err
	}
	if len(retry) == 0 {
		return nil
	}
	for name := range missing {
		if cerr := h.createMissing(c.ctx, name); cerr != nil {
			if err != nil {
				return cerr
			}
			e := fromRPC(cerr, opIndexAdmin, name, "")
			for _, it := range retry {
				if it.index == name {
					it.fail(e)
				}
			}
		}
	}
	if err != nil {
		return send(chunk)
	}
	var again []*bulkItem
	for _, it := range retry {
		if it.result.GetErrorType() == "index_not_found_exception" {
			again = append(again, it)
		}
	}
	if len(again) == 0 {
		return nil
	}
	return send(again)
}

// bulkItemObject renders one item's answer as Elasticsearch's.
func bulkItemObject(it *bulkItem) obj {
	r := it.result
	index, id := r.GetIndex(), r.GetId()
	if index == "" {
		index = it.index
	}
	if id == "" {
		id = it.id
	}
	if r.GetErrorType() != "" {
		e := obj{}.add("type", r.GetErrorType()).add("reason", r.GetErrorReason()).add("index", index)
		return obj{}.add("_index", index).add("_id", id).add("status", r.GetStatus()).add("error", e)
	}
	return writeResult(index, id, r.GetVersion(), r.GetResult(), r.GetSeqNo()).add("status", r.GetStatus())
}
