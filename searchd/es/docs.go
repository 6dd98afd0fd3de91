package es

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"

	"cairn.dev/cairn/node/rpcerr"
	searchdv1 "cairn.dev/cairn/proto/cairn/searchd/v1"
)

// doc serves /<index>/_doc/<id>: PUT and POST index, GET and HEAD read,
// DELETE deletes.
func (h *Handler) doc(c *call) error {
	switch c.r.Method {
	case http.MethodPut, http.MethodPost:
		return h.putDoc(c)
	case http.MethodDelete:
		return h.deleteDoc(c)
	}
	return h.getDoc(c)
}

// putDoc serves PUT|POST /<index>/_doc/<id>, POST /<index>/_doc (a
// generated id) and PUT|POST /<index>/_create/<id>.
func (h *Handler) putDoc(c *call) error {
	index := c.segs[0]
	req := &searchdv1.PutDocumentRequest{Index: index}
	if len(c.segs) == 3 {
		req.Id = c.segs[2]
		if c.segs[1] == "_create" {
			req.OpType = searchdv1.OpType_OP_TYPE_CREATE
		}
	}
	switch ot := c.q.Get("op_type"); ot {
	case "", "index":
	case "create":
		req.OpType = searchdv1.OpType_OP_TYPE_CREATE
	default:
		return badRequest("opType must be 'create' or 'index', found: [%s]", ot)
	}
	var err error
	if req.Refresh, err = refreshParam(c); err != nil {
		return err
	}
	body, err := h.body(c)
	if err != nil {
		return err
	}
	if e := checkSource(body, index, req.Id); e != nil {
		return e
	}
	req.SourceJson = body
	var resp *searchdv1.PutDocumentResponse
	err = h.autoCreate(c.ctx, index, func() error {
		var err error
		resp, err = h.docs.PutDocument(c.ctx, req)
		return err
	})
	if err != nil {
		return fromRPC(err, opDocWrite, index, req.Id)
	}
	status := http.StatusOK
	if resp.GetResult() == "created" {
		status = http.StatusCreated
	}
	o := writeResult(index, resp.GetId(), resp.GetVersion(), resp.GetResult(), resp.GetSeqNo())
	if req.Refresh == searchdv1.Refresh_REFRESH_TRUE {
		o = o.add("forced_refresh", true)
	}
	if status == http.StatusCreated {
		c.w.Header().Set("Location", "/"+index+"/_doc/"+resp.GetId())
	}
	writeJSON(c.w, c.r, status, o)
	return nil
}

// checkSource refuses a body that is not a JSON object, as Elasticsearch
// does before indexing it.
func checkSource(body []byte, index, id string) *esError {
	t := bytes.TrimSpace(body)
	if len(t) == 0 {
		return errorf(http.StatusBadRequest, "parse_exception", "request body is required")
	}
	if t[0] != '{' || !json.Valid(t) {
		e := errorf(http.StatusBadRequest, "mapper_parsing_exception", "failed to parse").with("index", index)
		e.causedBy = errorf(0, "json_parse_exception", "the document%s is not a JSON object", idPart(id))
		return e
	}
	return nil
}

func idPart(id string) string {
	if id == "" {
		return ""
	}
	return " with id '" + id + "'"
}

// writeResult is the body of a write's answer, as Elasticsearch's (without
// _version when searchd gives none: a delete). Every write is acknowledged
// once durable in its shard's log, so _shards says one successful copy.
func writeResult(index, id string, version int64, result string, seqNo int64) obj {
	o := obj{}.add("_index", index).add("_id", id)
	if version > 0 {
		o = o.add("_version", version)
	}
	return o.
		add("result", result).
		add("_shards", obj{}.add("total", 1).add("successful", 1).add("failed", 0)).
		add("_seq_no", seqNo).
		add("_primary_term", 1)
}

// autoCreate runs write, and when it fails because index does not exist
// creates the index with the default settings and a dynamic mapping (unless
// Options.NoAutoCreateIndex) and runs it once more.
func (h *Handler) autoCreate(ctx context.Context, index string, write func() error) error {
	err := write()
	if err == nil || h.opts.NoAutoCreateIndex || rpcerr.ReasonOf(err) != reasonIndexNotFound {
		return err
	}
	if e := h.createMissing(ctx, index); e != nil {
		return e
	}
	return write()
}

// createMissing creates index with the defaults; one that exists by now
// (another writer made it) is fine.
func (h *Handler) createMissing(ctx context.Context, index string) error {
	if e := validIndexName(index); e != nil {
		return e
	}
	_, err := h.indexes.CreateIndex(ctx, &searchdv1.CreateIndexRequest{Name: index, Settings: &searchdv1.IndexSettings{}})
	if err != nil && rpcerr.ReasonOf(err) != reasonIndexExists {
		return fromRPC(err, opIndexAdmin, index, "")
	}
	return nil
}

// getDoc serves GET and HEAD /<index>/_doc/<id>.
func (h *Handler) getDoc(c *call) error {
	index, id := c.segs[0], c.segs[2]
	resp, err := h.docs.GetDocument(c.ctx, &searchdv1.GetDocumentRequest{Index: index, Id: id})
	if err != nil {
		return fromRPC(err, opDocRead, index, id)
	}
	if !resp.GetFound() {
		writeJSON(c.w, c.r, http.StatusNotFound, obj{}.add("_index", index).add("_id", id).add("found", false))
		return nil
	}
	o := obj{}.
		add("_index", index).
		add("_id", id).
		add("_version", resp.GetVersion()).
		add("_seq_no", resp.GetSeqNo()).
		add("_primary_term", 1).
		add("found", true)
	if c.q.Get("_source") != "false" {
		o = o.add("_source", rawOr(resp.GetSourceJson(), "{}"))
	}
	writeJSON(c.w, c.r, http.StatusOK, o)
	return nil
}

// source serves GET and HEAD /<index>/_source/<id>: the document itself.
func (h *Handler) source(c *call) error {
	index, id := c.segs[0], c.segs[2]
	resp, err := h.docs.GetDocument(c.ctx, &searchdv1.GetDocumentRequest{Index: index, Id: id})
	if err != nil {
		return fromRPC(err, opDocRead, index, id)
	}
	if !resp.GetFound() {
		return errorf(http.StatusNotFound, "resource_not_found_exception", "Document not found [%s]/[%s]", index, id)
	}
	writeJSON(c.w, c.r, http.StatusOK, rawOr(resp.GetSourceJson(), "{}"))
	return nil
}

// deleteDoc serves DELETE /<index>/_doc/<id>: 200 "deleted", or 404
// "not_found" in the same shape.
func (h *Handler) deleteDoc(c *call) error {
	index, id := c.segs[0], c.segs[2]
	refresh, err := refreshParam(c)
	if err != nil {
		return err
	}
	resp, err := h.docs.DeleteDocument(c.ctx, &searchdv1.DeleteDocumentRequest{Index: index, Id: id, Refresh: refresh})
	if err != nil {
		return fromRPC(err, opDocWrite, index, id)
	}
	status := http.StatusOK
	if resp.GetResult() == "not_found" {
		status = http.StatusNotFound
	}
	o := writeResult(index, id, 0, resp.GetResult(), resp.GetSeqNo())
	if refresh == searchdv1.Refresh_REFRESH_TRUE {
		o = o.add("forced_refresh", true)
	}
	writeJSON(c.w, c.r, status, o)
	return nil
}
