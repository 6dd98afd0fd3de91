package streamd

import (
	"context"
	"errors"
	"io"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	streamdraftv1 "cairn.dev/cairn/proto/cairn/streamd/raft/v1"
	streamdv1 "cairn.dev/cairn/proto/cairn/streamd/v1"
	"cairn.dev/cairn/streamd/record"
)

// ackMode is a produce's acks, with the default resolved.
type ackMode int

const (
	acksNone ackMode = iota
	acksLeader
	acksAll
)

func ackModeOf(a streamdv1.Acks) ackMode {
	switch a {
	case streamdv1.Acks_ACKS_NONE:
		return acksNone
	case streamdv1.Acks_ACKS_LEADER:
		return acksLeader
	}
	return acksAll
}

// Defaults and bounds of the data-plane requests.
const (
	defaultProduceTimeout = 30 * time.Second
	maxProduceTimeout     = 5 * time.Minute
	defaultFetchBytes     = 1 << 20
	maxFetchWait          = 30 * time.Second
	defaultStreamGrant    = 4 << 20
)

// streamService is cairn.streamd.v1.StreamService.
type streamService struct {
	streamdv1.UnimplementedStreamServiceServer
	s *Server
}

func (ss *streamService) Produce(ctx context.Context, req *streamdv1.ProduceRequest) (*streamdv1.ProduceResponse, error) {
	resp, err := ss.produce(ctx, req)
	return resp, toStatus(err)
}

func (ss *streamService) produce(ctx context.Context, req *streamdv1.ProduceRequest) (*streamdv1.ProduceResponse, error) {
	s := ss.s
	t, err := s.topicFor(ctx, req.GetTopic(), namedPartition(req.Partition))
	if err != nil {
		return nil, err
	}
	batch, err := s.produceBatch(req, int(t.GetConfig().GetMaxBatchBytes()))
	if err != nil {
		return nil, err
	}
	part, err := s.choosePartition(t, req.Partition, batch)
	if err != nil {
		return nil, err
	}
	p, err := s.leaderReplica(t, part)
	if err != nil {
		if fwd, ok := s.forwardable(ctx, err); ok {
			req = cloneProduce(req, part)
			return forward(ctx, s, fwd, func(ctx context.Context, c streamdv1.StreamServiceClient) (*streamdv1.ProduceResponse, error) {
				return c.Produce(ctx, req)
			})
		}
		return nil, err
	}
	timeout := defaultProduceTimeout
	if d := req.GetTimeout(); d != nil {
		if timeout = d.AsDuration(); timeout <= 0 || timeout > maxProduceTimeout {
			return nil, invalid("timeout", "must be in (0, %v], got %v", maxProduceTimeout, timeout)
		}
	}
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	base, last, dup, epoch, err := p.produce(pctx, batch, ackModeOf(req.GetAcks()), req.ExpectedOffset)
	if err != nil {
		return nil, err
	}
	return &streamdv1.ProduceResponse{Header: s.header(), Partition: part, BaseOffset: base, LastOffset: last, Duplicate: dup, LeaderEpoch: epoch}, nil
}

// cloneProduce is req naming the partition chosen here, for forwarding.
func cloneProduce(req *streamdv1.ProduceRequest, part int32) *streamdv1.ProduceRequest {
	out := &streamdv1.ProduceRequest{
		Topic: req.GetTopic(), Partition: &part, Acks: req.GetAcks(), Records: req.GetRecords(), Batch: req.GetBatch(),
		ExpectedOffset: req.ExpectedOffset, Timeout: req.GetTimeout(),
		ProducerId: req.GetProducerId(), ProducerEpoch: req.GetProducerEpoch(), BaseSequence: req.GetBaseSequence(),
	}
	return out
}

// produceBatch is the request's records as one validated batch.
func (s *Server) produceBatch(req *streamdv1.ProduceRequest, maxBytes int) (record.Batch, error) {
	switch {
	case len(req.GetBatch()) > 0 && len(req.GetRecords()) > 0:
		return nil, invalid("batch", "set records or batch, not both")
	case len(req.GetBatch()) > 0:
		b := record.Batch(req.GetBatch())
		if len(b) > maxBytes {
			return nil, tooLarge("batch", len(b), maxBytes, "max_batch_bytes")
		}
		// The header and CRC here (the partition may come from the first
		// record's key); the leader's log parses every record before it
		// appends.
		if err := b.ValidateHeader(); err != nil {
			return nil, err
		}
		return b, nil
	case len(req.GetRecords()) == 0:
		return nil, invalid("records", "a produce needs at least one record")
	}
	now := s.now().UnixMilli()
	recs := make([]record.Record, len(req.GetRecords()))
	for i, r := range req.GetRecords() {
		ts := now
		if r.GetTimestamp() != nil {
			ts = r.GetTimestamp().AsTime().UnixMilli()
		}
		recs[i] = record.Record{Timestamp: ts, Key: r.GetKey(), Value: r.GetValue()}
		for _, h := range r.GetHeaders() {
			recs[i].Headers = append(recs[i].Headers, record.Header{Key: h.GetKey(), Value: h.GetValue()})
		}
	}
	prod := record.Producer{ID: -1, Epoch: -1, BaseSequence: -1}
	if req.GetProducerId() > 0 {
		prod = record.Producer{ID: req.GetProducerId(), Epoch: int16(req.GetProducerEpoch()), BaseSequence: req.GetBaseSequence()}
	}
	b := record.Batch(record.AppendBatch(nil, recs, prod))
	if len(b) > maxBytes {
		return nil, tooLarge("records", len(b), maxBytes, "max_batch_bytes")
	}
	return b, nil
}

// choosePartition is the named partition (checked), else the first
// record's key hash, else the next in round robin.
func (s *Server) choosePartition(t *streamdraftv1.TopicRecord, named *int32, b record.Batch) (int32, error) {
	n := t.GetPartitions()
	if named != nil {
		if *named < 0 || *named >= n {
			return 0, partitionNotFound(t.GetName(), *named, n)
		}
		return *named, nil
	}
	var key []byte
	_ = b.Records(func(r record.Record) bool {
		key = r.Key
		return false
	})
	if key != nil {
		return record.KeyPartition(key, n), nil
	}
	return int32(s.roundRobin.Add(1) % uint32(n)), nil
}

// leaderReplica returns this node's replica of the partition when it leads
// it, else an error naming the leader.
func (s *Server) leaderReplica(t *streamdraftv1.TopicRecord, part int32) (*partition, error) {
	if part < 0 || part >= t.GetPartitions() {
		return nil, partitionNotFound(t.GetName(), part, t.GetPartitions())
	}
	key := pkey{topicID: t.GetId(), partition: part}
	if p := s.parts.get(key); p != nil {
		p.mu.Lock()
		leading, closed := p.leading, p.closed
		p.mu.Unlock()
		if leading && !closed {
			return p, nil
		}
	}
	pr, err := s.meta.Partition(t.GetId(), part)
	if err != nil {
		return nil, err
	}
	if pr.GetLeader() == "" {
		return nil, offline(t.GetName(), part)
	}
	return nil, s.notLeader(t.GetName(), part, pr.GetLeader())
}

func (ss *streamService) Fetch(ctx context.Context, req *streamdv1.FetchRequest) (*streamdv1.FetchResponse, error) {
	resp, err := ss.fetch(ctx, req)
	return resp, toStatus(err)
}

func (ss *streamService) fetch(ctx context.Context, req *streamdv1.FetchRequest) (*streamdv1.FetchResponse, error) {
	s := ss.s
	t, err := s.topicFor(ctx, req.GetTopic(), req.GetPartition())
	if err != nil {
		return nil, err
	}
	maxBytes, wait, err := s.fetchBounds(req)
	if err != nil {
		return nil, err
	}
	p, err := s.leaderReplica(t, req.GetPartition())
	if err != nil {
		if fwd, ok := s.forwardable(ctx, err); ok {
			return forward(ctx, s, fwd, func(ctx context.Context, c streamdv1.StreamServiceClient) (*streamdv1.FetchResponse, error) {
				return c.Fetch(ctx, req)
			})
		}
		return nil, err
	}
	if wait > 0 {
		leave, err := s.enterWait()
		if err != nil {
			return nil, err
		}
		defer leave()
	}
	b, hw, start, err := p.readCommitted(ctx, req.GetOffset(), maxBytes, wait)
	if err != nil {
		return nil, err
	}
	resp := &streamdv1.FetchResponse{Header: s.header(), HighWatermark: hw, LogStartOffset: start, NextOffset: req.GetOffset()}
	if req.GetRawBatches() {
		resp.Batches = b
		if end, ok := batchesEnd(b); ok {
			resp.NextOffset = end
		}
		return resp, nil
	}
	limit := int(req.GetMaxRecords())
	err = decodeBatches(b, func(r record.Record) bool {
		if r.Offset < req.GetOffset() {
			return true
		}
		resp.Records = append(resp.Records, toProtoRecord(r))
		resp.NextOffset = r.Offset + 1
		return limit <= 0 || len(resp.Records) < limit
	})
	if err != nil {
		return nil, err
	}
	if limit <= 0 || len(resp.Records) < limit {
		// Offsets compaction removed still count as read.
		if end, ok := batchesEnd(b); ok {
			resp.NextOffset = max(resp.NextOffset, end)
		}
	}
	return resp, nil
}

// fetchBounds resolves a fetch's byte budget and wait.
func (s *Server) fetchBounds(req *streamdv1.FetchRequest) (int, time.Duration, error) {
	maxBytes := int(req.GetMaxBytes())
	switch {
	case maxBytes == 0:
		maxBytes = defaultFetchBytes
	case maxBytes < 0:
		return 0, 0, invalid("max_bytes", "must not be negative, got %d", maxBytes)
	case maxBytes > s.cfg.MaxFetchBytes:
		return 0, 0, tooLarge("max_bytes", maxBytes, s.cfg.MaxFetchBytes, "max_fetch_bytes")
	}
	wait := req.GetMaxWait().AsDuration()
	if wait < 0 || wait > maxFetchWait {
		return 0, 0, invalid("max_wait", "must be in [0, %v], got %v", maxFetchWait, wait)
	}
	if req.GetMaxRecords() < 0 {
		return 0, 0, invalid("max_records", "must not be negative, got %d", req.GetMaxRecords())
	}
	return maxBytes, wait, nil
}

// batchesEnd is the offset after the last batch in b.
func batchesEnd(b []byte) (int64, bool) {
	var end int64
	ok := false
	for len(b) > 0 {
		batch, rest, err := record.Next(b)
		if err != nil {
			break
		}
		end, ok = batch.LastOffset()+1, true
		b = rest
	}
	return end, ok
}

// decodeBatches calls fn for each record of the batches in b until it
// returns false.
func decodeBatches(b []byte, fn func(record.Record) bool) error {
	for len(b) > 0 {
		batch, rest, err := record.Next(b)
		if err != nil {
			return err
		}
		stop := false
		if err := batch.Records(func(r record.Record) bool {
			if !fn(r) {
				stop = true
				return false
			}
			return true
		}); err != nil {
			return err
		}
		if stop {
			return nil
		}
		b = rest
	}
	return nil
}

func toProtoRecord(r record.Record) *streamdv1.Record {
	out := &streamdv1.Record{Offset: r.Offset, Key: r.Key, Value: r.Value, Timestamp: timestamppb.New(time.UnixMilli(r.Timestamp))}
	for _, h := range r.Headers {
		out.Headers = append(out.Headers, &streamdv1.Header{Key: h.Key, Value: h.Value})
	}
	return out
}

// FetchStream pushes committed batches within the granted byte budget.
func (ss *streamService) FetchStream(stream streamdv1.StreamService_FetchStreamServer) error {
	return toStatus(ss.fetchStream(stream))
}

func (ss *streamService) fetchStream(stream streamdv1.StreamService_FetchStreamServer) error {
	s := ss.s
	ctx := stream.Context()
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	req := first.GetStart()
	if req == nil {
		return invalid("start", "the first message of a fetch stream must carry start")
	}
	t, err := s.topicFor(ctx, req.GetTopic(), req.GetPartition())
	if err != nil {
		return err
	}
	maxBytes, _, err := s.fetchBounds(req)
	if err != nil {
		return err
	}
	p, err := s.leaderReplica(t, req.GetPartition())
	if err != nil {
		return err
	}
	leave, err := s.enterWait()
	if err != nil {
		return err
	}
	defer leave()
	granted := first.GetGrantBytes()
	if granted <= 0 {
		granted = defaultStreamGrant
	}
	grants := make(chan int64, 16)
	recvErr := make(chan error, 1)
	go func() {
		for {
			m, err := stream.Recv()
			if err != nil {
				recvErr <- err
				return
			}
			if m.GetGrantBytes() < 0 {
				recvErr <- invalid("grant_bytes", "must not be negative, got %d", m.GetGrantBytes())
				return
			}
			select {
			case grants <- m.GetGrantBytes():
			case <-ctx.Done():
				return
			}
		}
	}()
	offset := req.GetOffset()
	var sent int64
	for {
		// Take every grant that arrived.
		for drained := false; !drained; {
			select {
			case g := <-grants:
				granted += g
			case err := <-recvErr:
				if errors.Is(err, io.EOF) {
					return nil
				}
				return err
			default:
				drained = true
			}
		}
		avail := granted - sent
		if avail <= 0 {
			select {
			case g := <-grants:
				granted += g
				continue
			case err := <-recvErr:
				if errors.Is(err, io.EOF) {
					return nil
				}
				return err
			case <-ctx.Done():
				return ctx.Err()
			case <-s.stopping():
				return ErrShuttingDown
			}
		}
		b, hw, _, err := p.readCommitted(ctx, offset, int(min(avail, int64(maxBytes))), time.Second)
		if err != nil {
			return err
		}
		if len(b) == 0 {
			select {
			case <-s.stopping():
				return ErrShuttingDown
			default:
			}
			continue
		}
		end, _ := batchesEnd(b)
		if err := stream.Send(&streamdv1.FetchStreamResponse{Batches: b, HighWatermark: hw, NextOffset: end}); err != nil {
			return err
		}
		sent += int64(len(b))
		offset = end
	}
}

func (ss *streamService) ListOffsets(ctx context.Context, req *streamdv1.ListOffsetsRequest) (*streamdv1.ListOffsetsResponse, error) {
	resp, err := ss.listOffsets(ctx, req)
	return resp, toStatus(err)
}

func (ss *streamService) listOffsets(ctx context.Context, req *streamdv1.ListOffsetsRequest) (*streamdv1.ListOffsetsResponse, error) {
	s := ss.s
	t, err := s.topicFor(ctx, req.GetTopic(), req.GetPartition())
	if err != nil {
		return nil, err
	}
	p, err := s.leaderReplica(t, req.GetPartition())
	if err != nil {
		if fwd, ok := s.forwardable(ctx, err); ok {
			return forward(ctx, s, fwd, func(ctx context.Context, c streamdv1.StreamServiceClient) (*streamdv1.ListOffsetsResponse, error) {
				return c.ListOffsets(ctx, req)
			})
		}
		return nil, err
	}
	p.mu.Lock()
	hw, start, end, epoch := p.hw, p.log.StartOffset(), p.log.EndOffset(), p.state.leaderEpoch
	p.mu.Unlock()
	resp := &streamdv1.ListOffsetsResponse{Header: s.header(), LogStartOffset: start, HighWatermark: hw, LogEndOffset: end, LeaderEpoch: epoch}
	switch req.GetSpec() {
	case streamdv1.OffsetSpec_OFFSET_SPEC_EARLIEST:
		resp.Offset = start
	case streamdv1.OffsetSpec_OFFSET_SPEC_LATEST, streamdv1.OffsetSpec_OFFSET_SPEC_UNSPECIFIED:
		resp.Offset = hw
	case streamdv1.OffsetSpec_OFFSET_SPEC_TIMESTAMP:
		if req.GetTimestamp() == nil {
			return nil, invalid("timestamp", "OFFSET_SPEC_TIMESTAMP needs a timestamp")
		}
		off, err := p.log.OffsetForTime(req.GetTimestamp().AsTime().UnixMilli())
		if err != nil {
			return nil, err
		}
		resp.Offset = min(max(off, start), hw)
	default:
		return nil, invalid("spec", "unknown offset spec %v", req.GetSpec())
	}
	return resp, nil
}

func (ss *streamService) InitProducer(ctx context.Context, _ *streamdv1.InitProducerRequest) (*streamdv1.InitProducerResponse, error) {
	s := ss.s
	res, err := s.propose(ctx, &streamdraftv1.Command{Op: &streamdraftv1.Command_AllocateProducerId{AllocateProducerId: &streamdraftv1.AllocateProducerIdOp{}}})
	if err != nil {
		return nil, toStatus(err)
	}
	return &streamdv1.InitProducerResponse{Header: s.header(), ProducerId: res.GetAllocateProducerId().GetProducerId()}, nil
}

func (ss *streamService) Metadata(ctx context.Context, req *streamdv1.MetadataRequest) (*streamdv1.MetadataResponse, error) {
	s := ss.s
	resp := &streamdv1.MetadataResponse{Header: s.header()}
	resp.Controller, resp.ControllerAddr = s.node.Leader()
	nodes, err := s.meta.Nodes()
	if err != nil {
		return nil, toStatus(err)
	}
	for _, n := range nodes {
		resp.Nodes = append(resp.Nodes, &streamdv1.NodeInfo{Id: n.GetId(), Addr: n.GetAddr(), Fenced: n.GetFenced()})
	}
	var topics []*streamdraftv1.TopicRecord
	if len(req.GetTopics()) == 0 {
		if topics, err = s.meta.Topics(); err != nil {
			return nil, toStatus(err)
		}
	} else {
		for _, name := range req.GetTopics() {
			t, err := s.topic(ctx, name)
			if err != nil {
				return nil, toStatus(err)
			}
			topics = append(topics, t)
		}
	}
	for _, t := range topics {
		pt, err := s.topicView(t)
		if err != nil {
			return nil, toStatus(err)
		}
		resp.Topics = append(resp.Topics, pt)
	}
	return resp, nil
}

// namedPartition is the partition a produce names, -1 when it names none.
func namedPartition(p *int32) int32 {
	if p == nil {
		return -1
	}
	return *p
}
