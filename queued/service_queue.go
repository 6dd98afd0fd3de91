package queued

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	queuedraftv1 "cairn.dev/cairn/proto/cairn/queued/raft/v1"
	queuedv1 "cairn.dev/cairn/proto/cairn/queued/v1"
	"cairn.dev/cairn/queued/store"
)

// queueService handlers validate, call the domain (a proposal, or a local read
// after the read barrier), and translate the error.
type queueService struct {
	queuedv1.UnimplementedQueueServiceServer
	s *Server
}

func (h *queueService) CreateQueue(ctx context.Context, req *queuedv1.CreateQueueRequest) (*queuedv1.CreateQueueResponse, error) {
	s := h.s
	attrs, err := validateCreateQueue(req)
	if err != nil {
		return nil, toStatus(err)
	}
	res, err := s.propose(ctx, &queuedraftv1.Command{Op: &queuedraftv1.Command_CreateQueue{CreateQueue: &queuedraftv1.CreateQueueOp{Name: req.GetName(), Attributes: attrs}}})
	if err != nil {
		return nil, toStatus(err)
	}
	resp := res.GetCreateQueue()
	if resp == nil {
		resp = &queuedv1.CreateQueueResponse{}
	}
	resp.Header = s.fillHeader(resp.GetHeader())
	return resp, nil
}

func (h *queueService) GetQueue(ctx context.Context, req *queuedv1.GetQueueRequest) (*queuedv1.GetQueueResponse, error) {
	s := h.s
	if err := validName("name", req.GetName()); err != nil {
		return nil, toStatus(err)
	}
	if err := s.barrier(ctx); err != nil {
		return nil, toStatus(err)
	}
	applied := s.store.LastApplied()
	q, err := s.store.GetQueue(req.GetName(), s.now())
	if err != nil {
		return nil, toStatus(queueErr(req.GetName(), err))
	}
	return &queuedv1.GetQueueResponse{Header: s.header(applied), Queue: q}, nil
}

// queueErr names the queue in a store read's not-found error.
func queueErr(name string, err error) error {
	if errors.Is(err, ErrQueueNotFound) || errors.Is(err, store.ErrQueueNotFound) {
		return &domainError{base: ErrQueueNotFound, msg: "queue " + quote(name)}
	}
	return err
}

func quote(s string) string { return `"` + s + `"` }

func (h *queueService) SetQueueAttributes(ctx context.Context, req *queuedv1.SetQueueAttributesRequest) (*queuedv1.SetQueueAttributesResponse, error) {
	s := h.s
	if err := validateSetAttributes(req); err != nil {
		return nil, toStatus(err)
	}
	attrs := req.GetAttributes()
	if attrs == nil {
		attrs = &queuedv1.QueueAttributes{}
	}
	res, err := s.propose(ctx, &queuedraftv1.Command{Op: &queuedraftv1.Command_SetQueueAttributes{SetQueueAttributes: &queuedraftv1.SetQueueAttributesOp{
		Name: req.GetName(), Attributes: attrs, Mask: req.GetMask(),
	}}})
	if err != nil {
		return nil, toStatus(err)
	}
	resp := res.GetSetQueueAttributes()
	if resp == nil {
		resp = &queuedv1.SetQueueAttributesResponse{}
	}
	resp.Header = s.fillHeader(resp.GetHeader())
	return resp, nil
}

func (h *queueService) ListQueues(ctx context.Context, req *queuedv1.ListQueuesRequest) (*queuedv1.ListQueuesResponse, error) {
	s := h.s
	size, err := validatePage(req.GetPrefix(), req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, toStatus(err)
	}
	if err := s.barrier(ctx); err != nil {
		return nil, toStatus(err)
	}
	applied := s.store.LastApplied()
	qs, next, err := s.store.ListQueues(req.GetPrefix(), req.GetPageToken(), size, s.now())
	if err != nil {
		return nil, toStatus(err)
	}
	return &queuedv1.ListQueuesResponse{Header: s.header(applied), Queues: qs, NextPageToken: next}, nil
}

func (h *queueService) PurgeQueue(ctx context.Context, req *queuedv1.PurgeQueueRequest) (*queuedv1.PurgeQueueResponse, error) {
	s := h.s
	if err := validName("name", req.GetName()); err != nil {
		return nil, toStatus(err)
	}
	res, err := s.propose(ctx, &queuedraftv1.Command{Op: &queuedraftv1.Command_PurgeQueue{PurgeQueue: &queuedraftv1.PurgeQueueOp{Name: req.GetName()}}})
	if err != nil {
		return nil, toStatus(err)
	}
	resp := res.GetPurgeQueue()
	if resp == nil {
		resp = &queuedv1.PurgeQueueResponse{}
	}
	resp.Header = s.fillHeader(resp.GetHeader())
	return resp, nil
}

func (h *queueService) DeleteQueue(ctx context.Context, req *queuedv1.DeleteQueueRequest) (*queuedv1.DeleteQueueResponse, error) {
	s := h.s
	if err := validName("name", req.GetName()); err != nil {
		return nil, toStatus(err)
	}
	res, err := s.propose(ctx, &queuedraftv1.Command{Op: &queuedraftv1.Command_DeleteQueue{DeleteQueue: &queuedraftv1.DeleteQueueOp{Name: req.GetName()}}})
	if err != nil {
		return nil, toStatus(err)
	}
	resp := res.GetDeleteQueue()
	if resp == nil {
		resp = &queuedv1.DeleteQueueResponse{}
	}
	resp.Header = s.fillHeader(resp.GetHeader())
	return resp, nil
}

// Send proposes the entries that passed validation in one entry; entries that
// failed it are reported beside the state machine's own per-entry errors.
func (h *queueService) Send(ctx context.Context, req *queuedv1.SendRequest) (*queuedv1.SendResponse, error) {
	s := h.s
	ok, bad, err := s.limits.validateSend(req)
	if err != nil {
		return nil, toStatus(err)
	}
	if len(ok) == 0 {
		return &queuedv1.SendResponse{Header: s.header(0), Errors: bad}, nil
	}
	res, err := s.propose(ctx, &queuedraftv1.Command{Op: &queuedraftv1.Command_Send{Send: &queuedraftv1.SendOp{Queue: req.GetQueue(), Entries: ok}}})
	if err != nil {
		return nil, toStatus(err)
	}
	resp := res.GetSend()
	if resp == nil {
		resp = &queuedv1.SendResponse{}
	}
	resp.Header = s.fillHeader(resp.GetHeader())
	// The state machine names fields of the entries it was given; name
	// them as the request's.
	pos := make(map[*queuedv1.SendEntry]int, len(req.GetEntries()))
	for i, e := range req.GetEntries() {
		pos[e] = i
	}
	at := make(map[string]int, len(ok))
	for j, e := range ok {
		id := e.GetId()
		if id == "" {
			id = strconv.Itoa(j)
		}
		at[id] = pos[e]
	}
	for _, e := range resp.GetErrors() {
		if i, found := at[e.GetId()]; found && e.GetField() != "" {
			e.Field = fmt.Sprintf("entries[%d].%s", i, e.GetField())
		}
	}
	resp.Errors = append(bad, resp.GetErrors()...)
	return resp, nil
}

func (h *queueService) Receive(ctx context.Context, req *queuedv1.ReceiveRequest) (*queuedv1.ReceiveResponse, error) {
	p, err := validateReceive(req)
	if err != nil {
		return nil, toStatus(err)
	}
	resp, err := h.s.receive(ctx, req.GetQueue(), p)
	if err != nil {
		return nil, toStatus(err)
	}
	return resp, nil
}

func (h *queueService) Consume(stream queuedv1.QueueService_ConsumeServer) error {
	return toStatus(h.s.consume(stream))
}

// settle proposes an ack, nack or extend of validated entries.
func (s *Server) settle(ctx context.Context, kind string, queue string, entries []*queuedv1.VisibilityEntry) (*queuedraftv1.SettleResult, *queuedv1.ResponseHeader, error) {
	op := &queuedraftv1.SettleOp{Queue: queue, Entries: entries}
	cmd := &queuedraftv1.Command{}
	switch kind {
	case "ack":
		cmd.Op = &queuedraftv1.Command_Ack{Ack: op}
	case "nack":
		cmd.Op = &queuedraftv1.Command_Nack{Nack: op}
	default:
		cmd.Op = &queuedraftv1.Command_Extend{Extend: op}
	}
	res, err := s.propose(ctx, cmd)
	if err != nil {
		return nil, nil, err
	}
	r := res.GetSettle()
	if r == nil {
		r = &queuedraftv1.SettleResult{}
	}
	return r, s.header(0), nil
}

func (h *queueService) Ack(ctx context.Context, req *queuedv1.AckRequest) (*queuedv1.AckResponse, error) {
	s := h.s
	in := make([]*queuedv1.VisibilityEntry, len(req.GetEntries()))
	for i, e := range req.GetEntries() {
		in[i] = &queuedv1.VisibilityEntry{Id: e.GetId(), ReceiptHandle: e.GetReceiptHandle()}
	}
	entries, err := validateSettle(req.GetQueue(), in, "")
	if err != nil {
		return nil, toStatus(err)
	}
	r, hdr, err := s.settle(ctx, "ack", req.GetQueue(), entries)
	if err != nil {
		return nil, toStatus(err)
	}
	return &queuedv1.AckResponse{Header: hdr, Acked: r.GetSucceeded(), Errors: r.GetErrors()}, nil
}

func (h *queueService) Nack(ctx context.Context, req *queuedv1.NackRequest) (*queuedv1.NackResponse, error) {
	s := h.s
	entries, err := validateSettle(req.GetQueue(), req.GetEntries(), "timeout")
	if err != nil {
		return nil, toStatus(err)
	}
	r, hdr, err := s.settle(ctx, "nack", req.GetQueue(), entries)
	if err != nil {
		return nil, toStatus(err)
	}
	return &queuedv1.NackResponse{Header: hdr, Succeeded: r.GetSucceeded(), Errors: r.GetErrors()}, nil
}

func (h *queueService) ExtendVisibility(ctx context.Context, req *queuedv1.ExtendVisibilityRequest) (*queuedv1.ExtendVisibilityResponse, error) {
	s := h.s
	entries, err := validateSettle(req.GetQueue(), req.GetEntries(), "timeout")
	if err != nil {
		return nil, toStatus(err)
	}
	r, hdr, err := s.settle(ctx, "extend", req.GetQueue(), entries)
	if err != nil {
		return nil, toStatus(err)
	}
	return &queuedv1.ExtendVisibilityResponse{Header: hdr, Succeeded: r.GetSucceeded(), Errors: r.GetErrors()}, nil
}

// Redrive moves messages in entries of at most MaxRedrivePerEntry, each
// entry resuming after the last message the one before looked at, until
// max_messages are moved or an entry has looked at the end of the dead letter
// queue. Messages that cannot move (in flight, or without a source to return
// to) are passed over, wherever they are in the queue.
func (h *queueService) Redrive(ctx context.Context, req *queuedv1.RedriveRequest) (*queuedv1.RedriveResponse, error) {
	s := h.s
	if err := validateRedrive(req); err != nil {
		return nil, toStatus(err)
	}
	var moved int64
	var after uint64
	for {
		n := uint64(MaxRedrivePerEntry)
		if req.GetMaxMessages() > 0 {
			n = min(n, req.GetMaxMessages()-uint64(moved))
		}
		res, err := s.propose(ctx, &queuedraftv1.Command{Op: &queuedraftv1.Command_Redrive{Redrive: &queuedraftv1.RedriveOp{
			DeadLetterQueue: req.GetDeadLetterQueue(), Destination: req.GetDestination(), MaxMessages: uint32(n), AfterSequence: after,
		}}})
		if err != nil {
			if moved > 0 {
				// Earlier entries moved messages: say so rather than hide it.
				s.logger.Warn("redrive stopped part way", "dead_letter_queue", req.GetDeadLetterQueue(), "moved", moved, "err", err)
			}
			return nil, toStatus(err)
		}
		r := res.GetRedrive()
		moved += r.GetMoved()
		after = r.GetNextAfter()
		if r.GetDone() || (req.GetMaxMessages() > 0 && uint64(moved) >= req.GetMaxMessages()) {
			break
		}
	}
	return &queuedv1.RedriveResponse{Header: s.header(0), Moved: moved}, nil
}
