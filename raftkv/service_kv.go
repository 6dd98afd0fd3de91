package raftkv

import (
	"context"
	"fmt"

	"google.golang.org/protobuf/proto"

	raftkvraftv1 "cairn.dev/cairn/proto/cairn/raftkv/raft/v1"
	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
)

// kvService handlers validate, call the domain, and translate the error.
type kvService struct {
	raftkvv1.UnimplementedKVServiceServer
	s *Server
}

func (k *kvService) Range(ctx context.Context, req *raftkvv1.RangeRequest) (*raftkvv1.RangeResponse, error) {
	s := k.s
	if err := s.limits.validateRange("range", req, false); err != nil {
		return nil, toStatus(err)
	}
	if err := s.barrier(ctx, req.GetConsistency()); err != nil {
		return nil, toStatus(err)
	}
	resp, err := s.rangeLocal(req)
	if err != nil {
		return nil, toStatus(err)
	}
	return resp, nil
}

// rangeLocal reads the local store, capping unlimited ranges at max_range_keys.
func (s *Server) rangeLocal(req *raftkvv1.RangeRequest) (*raftkvv1.RangeResponse, error) {
	if req.GetLimit() == 0 || req.GetLimit() > s.cfg.MaxRangeKeys {
		req = proto.Clone(req).(*raftkvv1.RangeRequest)
		req.Limit = s.cfg.MaxRangeKeys
	}
	resp, err := s.store.Range(req)
	if err != nil {
		return nil, err
	}
	resp.Header = s.fillHeader(resp.GetHeader())
	return resp, nil
}

func (k *kvService) Put(ctx context.Context, req *raftkvv1.PutRequest) (*raftkvv1.PutResponse, error) {
	s := k.s
	if err := s.limits.validatePut("put", req); err != nil {
		return nil, toStatus(err)
	}
	if err := s.limits.size("put", req); err != nil {
		return nil, toStatus(err)
	}
	res, err := s.propose(ctx, &raftkvraftv1.Command{Op: &raftkvraftv1.Command_Put{Put: req}})
	if err != nil {
		return nil, toStatus(err)
	}
	resp := res.GetPut()
	resp.Header = s.fillHeader(resp.GetHeader())
	return resp, nil
}

func (k *kvService) DeleteRange(ctx context.Context, req *raftkvv1.DeleteRangeRequest) (*raftkvv1.DeleteRangeResponse, error) {
	s := k.s
	if err := s.limits.validateDelete("delete_range", req); err != nil {
		return nil, toStatus(err)
	}
	res, err := s.propose(ctx, &raftkvraftv1.Command{Op: &raftkvraftv1.Command_DeleteRange{DeleteRange: req}})
	if err != nil {
		return nil, toStatus(err)
	}
	resp := res.GetDeleteRange()
	resp.Header = s.fillHeader(resp.GetHeader())
	return resp, nil
}

func (k *kvService) Txn(ctx context.Context, req *raftkvv1.TxnRequest) (*raftkvv1.TxnResponse, error) {
	s := k.s
	if err := s.limits.validateTxn(req); err != nil {
		return nil, toStatus(err)
	}
	res, err := s.propose(ctx, &raftkvraftv1.Command{Op: &raftkvraftv1.Command_Txn{Txn: req}})
	if err != nil {
		return nil, toStatus(err)
	}
	resp := res.GetTxn()
	resp.Header = s.fillHeader(resp.GetHeader())
	for _, r := range resp.GetResponses() {
		switch op := r.GetResponse().(type) {
		case *raftkvv1.ResponseOp_ResponseRange:
			op.ResponseRange.Header = s.fillHeader(op.ResponseRange.GetHeader())
		case *raftkvv1.ResponseOp_ResponsePut:
			op.ResponsePut.Header = s.fillHeader(op.ResponsePut.GetHeader())
		case *raftkvv1.ResponseOp_ResponseDeleteRange:
			op.ResponseDeleteRange.Header = s.fillHeader(op.ResponseDeleteRange.GetHeader())
		}
	}
	return resp, nil
}

func (k *kvService) Compact(ctx context.Context, req *raftkvv1.CompactRequest) (*raftkvv1.CompactResponse, error) {
	s := k.s
	if req.GetRevision() <= 0 {
		return nil, toStatus(fmt.Errorf("%w: compact.revision %d must be > 0", ErrInvalidArgument, req.GetRevision()))
	}
	res, err := s.propose(ctx, &raftkvraftv1.Command{Op: &raftkvraftv1.Command_Compact{Compact: req}})
	if err != nil {
		return nil, toStatus(err)
	}
	resp := res.GetCompact()
	if resp == nil {
		resp = &raftkvv1.CompactResponse{}
	}
	resp.Header = s.fillHeader(resp.GetHeader())
	return resp, nil
}
