package client

import (
	"context"
	"errors"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"cairn.dev/cairn/node/rpcerr"
	streamdv1 "cairn.dev/cairn/proto/cairn/streamd/v1"
	"cairn.dev/cairn/streamd/record"
)

// Record is one record to produce, or one record read.
type Record struct {
	Topic     string
	Partition int32
	// Offset is set on records read.
	Offset  int64
	Key     []byte
	Value   []byte
	Headers []record.Header
	// Timestamp is the record's time; zero on produce means now.
	Timestamp time.Time
}

// Acks says when a produce is acknowledged (see cairn.streamd.v1.Acks).
type Acks = streamdv1.Acks

// The acks modes.
const (
	AcksAll    = streamdv1.Acks_ACKS_ALL
	AcksLeader = streamdv1.Acks_ACKS_LEADER
	AcksNone   = streamdv1.Acks_ACKS_NONE
)

// ProduceOptions shape a Produce call. The zero value means acks=all, each
// record to its key's partition (keyless records to one partition chosen
// per call), idempotent.
type ProduceOptions struct {
	Acks Acks
	// Partition, when set, sends every record to it.
	Partition *int32
	// ExpectedOffset makes the append conditional (event sourcing): it
	// succeeds only if the partition's end offset equals it, else
	// ErrOffsetMismatch. It needs Partition.
	ExpectedOffset *int64
	// NotIdempotent turns off the producer id and sequence numbers that let
	// retries never duplicate: a retry after an unknown outcome is then not
	// made.
	NotIdempotent bool
	// Timeout is the server's wait for acks (default 30 s).
	Timeout time.Duration
}

// Result is where one produced batch went.
type Result struct {
	Partition  int32
	BaseOffset int64
	LastOffset int64
	// Duplicate: the batch had been appended by an earlier attempt.
	Duplicate bool
}

// producerState is the client's idempotent producer: its id and the next
// sequence number per partition. One batch per partition is in flight at a
// time, so sequences reach each leader in order.
type producerState struct {
	id    int64
	epoch int32
	parts map[partKey]*partSeq
}

type partKey struct {
	topic string
	part  int32
}

type partSeq struct {
	mu   sync.Mutex // held while a batch of this partition is in flight
	next int32
}

// Produce appends records, grouped into one batch per partition, each sent
// to its partition's leader (in parallel), and returns one Result per
// batch. A batch the leader refused as not leading, or whose outcome is
// unknown, is sent again; with the idempotent producer (the default) a
// retry is never appended twice. On error, the results of the batches that
// succeeded are returned with it.
func (c *Client) Produce(ctx context.Context, topic string, recs []Record, opts ProduceOptions) ([]Result, error) {
	if len(recs) == 0 {
		return nil, errs.Local("produce", errors.New("no records"))
	}
	m, err := c.topicMeta(ctx, topic)
	if err != nil {
		return nil, err
	}
	if opts.ExpectedOffset != nil && opts.Partition == nil {
		return nil, errs.Local("produce", errors.New("ExpectedOffset needs Partition"))
	}
	groups := map[int32][]record.Record{}
	var order []int32
	keyless := int32(time.Now().UnixNano() % int64(m.partitions))
	now := time.Now().UnixMilli()
	for _, r := range recs {
		p := keyless
		switch {
		case opts.Partition != nil:
			p = *opts.Partition
		case r.Key != nil:
			p = record.KeyPartition(r.Key, m.partitions)
		}
		if _, ok := groups[p]; !ok {
			order = append(order, p)
		}
		ts := now
		if !r.Timestamp.IsZero() {
			ts = r.Timestamp.UnixMilli()
		}
		groups[p] = append(groups[p], record.Record{Key: r.Key, Value: r.Value, Headers: r.Headers, Timestamp: ts})
	}
	results := make([]Result, len(order))
	errsOut := make([]error, len(order))
	var wg sync.WaitGroup
	for i, p := range order {
		wg.Go(func() {
			results[i], errsOut[i] = c.produceBatch(ctx, topic, p, groups[p], opts)
		})
	}
	wg.Wait()
	var ok []Result
	for i, err := range errsOut {
		if err != nil {
			return ok, err
		}
		ok = append(ok, results[i])
	}
	return ok, nil
}

// produceBatch sends one partition's records as one batch.
func (c *Client) produceBatch(ctx context.Context, topic string, part int32, recs []record.Record, opts ProduceOptions) (Result, error) {
	prod := record.Producer{ID: -1, Epoch: -1, BaseSequence: -1}
	var seq *partSeq
	if !opts.NotIdempotent {
		var err error
		seq, prod, err = c.sequence(ctx, topic, part, len(recs))
		if err != nil {
			return Result{}, err
		}
		defer seq.mu.Unlock()
	}
	batch := record.AppendBatch(nil, recs, prod)
	req := &streamdv1.ProduceRequest{Topic: topic, Partition: &part, Acks: opts.Acks, Batch: batch, ExpectedOffset: opts.ExpectedOffset}
	if opts.Timeout > 0 {
		req.Timeout = durationpb.New(opts.Timeout)
	}
	resp, err := partitionCall(ctx, c, "produce", topic, part, true, seq != nil, func(ctx context.Context, sc streamdv1.StreamServiceClient) (*streamdv1.ProduceResponse, error) {
		return sc.Produce(ctx, req)
	})
	if err != nil {
		switch r := rpcerr.ReasonOf(err); {
		case seq == nil:
		case r == rpcerr.OutOfOrderSequence || r == rpcerr.ProducerFenced || applied(err):
			// The sequence may be taken or the leader lost track of us:
			// later batches start a new producer id.
			c.resetProducer()
		default:
			seq.next -= int32(len(recs)) // nothing was appended: reuse the numbers
		}
		return Result{}, err
	}
	return Result{Partition: resp.GetPartition(), BaseOffset: resp.GetBaseOffset(), LastOffset: resp.GetLastOffset(), Duplicate: resp.GetDuplicate()}, nil
}

// applied reports whether a failed produce may have appended its batch:
// the outcome is unknown, or the failure does not say the leader refused
// it before appending (NOT_ENOUGH_REPLICAS and PARTITION_OFFLINE, like a
// redirect, do).
func applied(err error) bool {
	if errors.Is(err, ErrUnknownOutcome) {
		return true
	}
	st, ok := status.FromError(err)
	if !ok {
		return true
	}
	switch rpcerr.ReasonOf(err) {
	case rpcerr.NotEnoughReplicas, rpcerr.PartitionOffline:
		return false
	}
	return st.Code() == codes.Unavailable && !rpcerr.TryOther(err)
}

// sequence locks the partition's sequence and takes n numbers from it.
func (c *Client) sequence(ctx context.Context, topic string, part int32, n int) (*partSeq, record.Producer, error) {
	c.mu.Lock()
	ps := c.producer
	c.mu.Unlock()
	if ps == nil {
		resp, err := call(ctx, c, "init-producer", true, func(ctx context.Context, co ...grpc.CallOption) (*streamdv1.InitProducerResponse, error) {
			return c.stream.InitProducer(ctx, &streamdv1.InitProducerRequest{}, co...)
		})
		if err != nil {
			return nil, record.Producer{}, err
		}
		c.mu.Lock()
		if c.producer == nil {
			c.producer = &producerState{id: resp.GetProducerId(), epoch: resp.GetProducerEpoch(), parts: map[partKey]*partSeq{}}
		}
		ps = c.producer
		c.mu.Unlock()
	}
	c.mu.Lock()
	seq := ps.parts[partKey{topic, part}]
	if seq == nil {
		seq = &partSeq{}
		ps.parts[partKey{topic, part}] = seq
	}
	c.mu.Unlock()
	seq.mu.Lock()
	base := seq.next
	seq.next = record.AddSequence(seq.next, int32(n))
	return seq, record.Producer{ID: ps.id, Epoch: int16(ps.epoch), BaseSequence: base}, nil
}

// resetProducer drops the producer id; the next produce takes a new one.
func (c *Client) resetProducer() {
	c.mu.Lock()
	c.producer = nil
	c.mu.Unlock()
}
