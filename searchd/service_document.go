package searchd

import (
	"context"
	"fmt"
	"time"

	searchdv1 "cairn.dev/cairn/proto/cairn/searchd/v1"
	"cairn.dev/cairn/searchd/engine"
	"cairn.dev/cairn/searchd/meta"
)

// documentService serves cairn.searchd.v1.DocumentService.
type documentService struct {
	searchdv1.UnimplementedDocumentServiceServer
	s *Server
}

func (h *documentService) PutDocument(ctx context.Context, req *searchdv1.PutDocumentRequest) (*searchdv1.PutDocumentResponse, error) {
	action := searchdv1.BulkAction_BULK_ACTION_INDEX
	if req.GetOpType() == searchdv1.OpType_OP_TYPE_CREATE {
		action = searchdv1.BulkAction_BULK_ACTION_CREATE
	}
	it := &writeItem{action: action, index: req.GetIndex(), id: req.GetId(), source: req.GetSourceJson()}
	if err := h.s.write(ctx, []*writeItem{it}, req.GetRefresh()); err != nil {
		return nil, toStatus(err)
	}
	if it.err != nil {
		return nil, toStatus(it.err)
	}
	r := it.result()
	return &searchdv1.PutDocumentResponse{Header: h.s.header(), Id: it.id, Shard: int32(it.shard), SeqNo: r.SeqNo, Result: r.Result, Version: r.Version}, nil
}

func (h *documentService) DeleteDocument(ctx context.Context, req *searchdv1.DeleteDocumentRequest) (*searchdv1.DeleteDocumentResponse, error) {
	it := &writeItem{action: searchdv1.BulkAction_BULK_ACTION_DELETE, index: req.GetIndex(), id: req.GetId()}
	if err := h.s.write(ctx, []*writeItem{it}, req.GetRefresh()); err != nil {
		return nil, toStatus(err)
	}
	if it.err != nil {
		return nil, toStatus(it.err)
	}
	r := it.result()
	return &searchdv1.DeleteDocumentResponse{Header: h.s.header(), SeqNo: r.SeqNo, Result: r.Result}, nil
}

// GetDocument reads a document from a started copy once it has applied
// the partition up to its high watermark at the time of the request.
func (h *documentService) GetDocument(ctx context.Context, req *searchdv1.GetDocumentRequest) (*searchdv1.GetDocumentResponse, error) {
	if req.GetId() == "" {
		return nil, toStatus(invalidField("id", "an id is required"))
	}
	if err := meta.ValidateIndexName("index", req.GetIndex()); err != nil {
		return nil, toStatus(err)
	}
	ix, err := h.s.lookupIndex(ctx, req.GetIndex())
	if err != nil {
		return nil, toStatus(err)
	}
	shard := engine.ShardOf(req.GetId(), ix.Shards)
	end, err := h.s.partitionEnd(ctx, ix, shard)
	if err != nil {
		return nil, toStatus(err)
	}
	resp, err := onCopy(ctx, h.s, ix, shard, func(ctx context.Context, c searchdv1.ShardServiceClient) (*searchdv1.ShardGetResponse, error) {
		return c.ShardGet(ctx, &searchdv1.ShardGetRequest{Shard: ref(ix, shard), Id: req.GetId(), MinOffset: end})
	})
	if err != nil {
		return nil, toStatus(err)
	}
	return &searchdv1.GetDocumentResponse{Header: h.s.header(), Found: resp.GetFound(), SourceJson: resp.GetSourceJson(), SeqNo: resp.GetSeqNo(), Version: resp.GetVersion()}, nil
}

// Bulk applies the items, grouped into one produced batch per shard; each
// item gets its own Elasticsearch-style result.
func (h *documentService) Bulk(ctx context.Context, req *searchdv1.BulkRequest) (*searchdv1.BulkResponse, error) {
	start := time.Now()
	if n := len(req.GetItems()); n > h.s.cfg.MaxBulkItems {
		return nil, toStatus(tooLarge("items", "max_bulk_items", n, h.s.cfg.MaxBulkItems))
	}
	total := 0
	items := make([]*writeItem, len(req.GetItems()))
	for i, bi := range req.GetItems() {
		total += len(bi.GetSourceJson())
		index := bi.GetIndex()
		if index == "" {
			index = req.GetIndex()
		}
		items[i] = &writeItem{action: bi.GetAction(), index: index, id: bi.GetId(), source: bi.GetSourceJson(), field: fmt.Sprintf("items[%d].", i)}
	}
	if total > h.s.cfg.MaxBulkBytes {
		return nil, toStatus(tooLarge("items", "max_bulk_bytes", total, h.s.cfg.MaxBulkBytes))
	}
	if err := h.s.write(ctx, items, req.GetRefresh()); err != nil {
		return nil, toStatus(err)
	}
	resp := &searchdv1.BulkResponse{Header: h.s.header()}
	for _, it := range items {
		r := it.result()
		resp.Items = append(resp.Items, r)
		if r.GetErrorType() != "" {
			resp.Errors = true
		}
	}
	resp.TookMs = time.Since(start).Milliseconds()
	return resp, nil
}
