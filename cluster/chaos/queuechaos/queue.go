package queuechaos

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	"cairn.dev/cairn/node/rpcerr"
	queuedv1 "cairn.dev/cairn/proto/cairn/queued/v1"
	"cairn.dev/cairn/queued/client"

	"cairn.dev/cairn/cluster/chaos"
)

// The operation kinds recorded by the queued workload. Key is a message body
// (unique per send: "<group>/<n>"), Value the queue an operation is on, Via
// the node the request went to.
const (
	// KindSend is a Send of one message with body Key to queue Value.
	KindSend chaos.OpKind = "q-send"
	// KindReceive is a Receive on queue Value; Rev is the number of messages it
	// returned. Its deliveries follow it as KindDeliver events.
	KindReceive chaos.OpKind = "q-receive"
	// KindDeliver is one message returned by a Receive: body Key from queue
	// Value, with receive_count Rev; Index is the id of the KindReceive
	// operation that returned it (whose call and return times bound when the
	// delivery took place).
	KindDeliver chaos.OpKind = "q-deliver"
	// KindAck is the Ack of the delivery of Key (queue Value) with receive_count
	// Rev.
	KindAck chaos.OpKind = "q-ack"
	// KindDrop records that a consumer "crashed" with the delivery of Key
	// (receive_count Rev) in hand: it never acks it, so the message must come
	// back once its visibility timeout passes.
	KindDrop chaos.OpKind = "q-drop"
	// KindDrainEnd is the end of the drain of queue Value: Found says the queue
	// stayed empty for the drain's quiet period before its deadline, Rev is the
	// number of messages GetQueue then reported (visible, in flight and
	// delayed), -1 if it could not tell.
	KindDrainEnd chaos.OpKind = "q-drain-end"
)

// kinds classifies the queued kinds for the framework. Sends and acks are the
// writes (the recovery check waits for one); a Receive is counted as a read,
// since a follower may answer an empty long poll without the leader.
var kinds = chaos.Kinds{
	KindSend: chaos.ClassWrite, KindAck: chaos.ClassWrite,
	KindReceive: chaos.ClassRead,
	KindDeliver: chaos.ClassEvent, KindDrop: chaos.ClassEvent, KindDrainEnd: chaos.ClassEvent,
}

// poisonGroup is the group of poison messages ("poison/<n>"): no consumer acks
// them, so they must end in the dead letter queue.
const poisonGroup = "poison"

// groupOf returns the group of a body "<group>/<n>" ("" if it has no group).
func groupOf(body string) string {
	g, _, ok := strings.Cut(body, "/")
	if !ok {
		return ""
	}
	return g
}

// isPoison reports whether body is a poison message.
func isPoison(body string) bool { return groupOf(body) == poisonGroup }

// Queue is the queued workload. Producers send unique messages to the queue
// QueueName, each body "p<client>/<n>" (on a FIFO queue, "p<client>" is also the
// message group, so each group has one producer sending in order); Consumers
// receive with a long poll and a visibility timeout of Visibility, then ack
// each delivery or, with probability Crash, drop it without acking, as a
// consumer that crashed would. With DeadLetter set, the queue sends messages
// to the dead letter queue DeadLetter after MaxReceives deliveries, and a
// poisoner sends a message "poison/<n>" every PoisonEvery that consumers never
// ack. Drain empties the queues after the run.
//
// A Queue is used by one scenario run: it keeps the drain's state.
type Queue struct {
	// QueueName is the queue; default "chaos-q" (or "chaos-fifo" for FIFO).
	QueueName string
	// FIFO makes the queue a FIFO queue.
	FIFO bool
	// Producers and Consumers are the numbers of clients of each kind;
	// defaults 4 and 4.
	Producers, Consumers int
	// Visibility is the visibility timeout of every receive; default 2s.
	Visibility time.Duration
	// Wait is the long-poll wait of every receive; default 1s.
	Wait time.Duration
	// Batch is the most messages per receive (each receive asks for 1..Batch,
	// drawn); default 4.
	Batch int
	// Crash is the probability that a consumer drops a delivery without
	// acking; default 0.1, negative disables.
	Crash float64
	// SendEvery is the pause of a producer between sends; default 5ms (20ms on
	// a FIFO queue, whose groups drain one message at a time).
	SendEvery time.Duration
	// DeadLetter, when set, is the dead letter queue of Name, created with
	// it; MaxReceives (default 3) is the queue's max_receives then.
	DeadLetter  string
	MaxReceives int
	// PoisonEvery is the pause between two poison messages when DeadLetter is
	// set; default 2s.
	PoisonEvery time.Duration
	// Timeout bounds each request besides the receive's wait; default 3s.
	Timeout time.Duration
	// DrainQuiet is how long every queue must stay empty for the drain to end;
	// default Visibility + 2s, so that a dropped delivery comes back within it.
	DrainQuiet time.Duration
	// DrainTimeout bounds the drain; default 60s plus the fault phase (a
	// backlog grows with the run).
	DrainTimeout time.Duration
	// ClientBase is the first client number in the history; default 1000.
	// Producers take ClientBase+i, consumers ClientBase+100+i, the poisoner
	// ClientBase+200, the drain ClientBase+300+i.
	ClientBase int

	drainOnce sync.Once
}

// Name implements chaos.Workload.
func (w *Queue) Name() string { return "queue" }

// Kinds implements chaos.Workload.
func (w *Queue) Kinds() chaos.Kinds { return kinds }

// config is a Queue with its defaults filled in.
type config struct {
	name                 string
	fifo                 bool
	producers, consumers int
	visibility, wait     time.Duration
	batch                int
	crash                float64
	sendEvery            time.Duration
	deadLetter           string
	maxReceives          int
	poisonEvery          time.Duration
	timeout              time.Duration
	drainQuiet           time.Duration
	drainTimeout         time.Duration
	clientBase           int
}

func (w *Queue) config() config {
	c := config{
		name: w.QueueName, fifo: w.FIFO, producers: w.Producers, consumers: w.Consumers,
		visibility: w.Visibility, wait: w.Wait, batch: w.Batch, crash: w.Crash,
		sendEvery: w.SendEvery, deadLetter: w.DeadLetter, maxReceives: w.MaxReceives,
		poisonEvery: w.PoisonEvery, timeout: w.Timeout, drainQuiet: w.DrainQuiet,
		drainTimeout: w.DrainTimeout, clientBase: w.ClientBase,
	}
	if c.name == "" {
		c.name = "chaos-q"
		if c.fifo {
			c.name = "chaos-fifo"
		}
	}
	if c.producers <= 0 {
		c.producers = 4
	}
	if c.consumers <= 0 {
		c.consumers = 4
	}
	if c.visibility <= 0 {
		c.visibility = 2 * time.Second
	}
	if c.wait <= 0 {
		c.wait = time.Second
	}
	if c.batch <= 0 {
		c.batch = 4
	}
	if c.crash == 0 {
		c.crash = 0.1
	}
	if c.sendEvery <= 0 {
		c.sendEvery = 5 * time.Millisecond
		if c.fifo {
			c.sendEvery = 20 * time.Millisecond
		}
	}
	if c.deadLetter != "" && c.maxReceives <= 0 {
		c.maxReceives = 3
	}
	if c.poisonEvery <= 0 {
		c.poisonEvery = 2 * time.Second
	}
	if c.timeout <= 0 {
		c.timeout = 3 * time.Second
	}
	if c.drainQuiet <= 0 {
		c.drainQuiet = c.visibility + 2*time.Second
	}
	if c.clientBase == 0 {
		c.clientBase = 1000
	}
	return c
}

// queues returns the queues the workload uses: its queue, then its dead
// letter queue if it has one.
func (c config) queues() []string {
	if c.deadLetter == "" {
		return []string{c.name}
	}
	return []string{c.name, c.deadLetter}
}

// Run implements chaos.Workload: it creates the queues, then runs the
// producers, consumers and poisoner until ctx ends.
func (w *Queue) Run(ctx context.Context, env *chaos.Env) error {
	cfg := w.config()
	if err := w.create(ctx, env, cfg); err != nil {
		return err
	}
	// One client per worker, as separate processes would have.
	type worker struct {
		id  int
		run func(*client.Client)
	}
	var workers []worker
	for i := range cfg.producers {
		id := cfg.clientBase + i
		workers = append(workers, worker{id, func(c *client.Client) { w.produce(ctx, env, c, cfg, id, fmt.Sprintf("p%d", id), cfg.sendEvery) }})
	}
	if cfg.deadLetter != "" {
		id := cfg.clientBase + 200
		workers = append(workers, worker{id, func(c *client.Client) { w.produce(ctx, env, c, cfg, id, poisonGroup, cfg.poisonEvery) }})
	}
	for i := range cfg.consumers {
		id := cfg.clientBase + 100 + i
		workers = append(workers, worker{id, func(c *client.Client) { w.consume(ctx, env, c, cfg, id) }})
	}
	var wg sync.WaitGroup
	for _, wk := range workers {
		c, err := newClient(env, cfg)
		if err != nil {
			return err
		}
		wg.Go(func() {
			defer c.Close()
			wk.run(c)
		})
	}
	wg.Wait()
	return nil
}

// create creates the dead letter queue and the queue, retrying until they
// exist or ctx ends.
func (w *Queue) create(ctx context.Context, env *chaos.Env, cfg config) error {
	c, err := newClient(env, cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	typ := queuedv1.QueueType_QUEUE_TYPE_STANDARD
	if cfg.fifo {
		typ = queuedv1.QueueType_QUEUE_TYPE_FIFO
	}
	var reqs []*queuedv1.CreateQueueRequest
	if cfg.deadLetter != "" {
		reqs = append(reqs, &queuedv1.CreateQueueRequest{Name: cfg.deadLetter, Attributes: &queuedv1.QueueAttributes{Type: typ}})
	}
	attrs := &queuedv1.QueueAttributes{Type: typ, VisibilityTimeout: durationpb.New(cfg.visibility)}
	if cfg.deadLetter != "" {
		attrs.DeadLetterQueue = cfg.deadLetter
		attrs.MaxReceives = uint32(cfg.maxReceives)
	}
	reqs = append(reqs, &queuedv1.CreateQueueRequest{Name: cfg.name, Attributes: attrs})
	for _, req := range reqs {
		deadline := time.Now().Add(time.Minute)
		for {
			rctx, cancel := context.WithTimeout(ctx, cfg.timeout)
			_, _, err := c.CreateQueue(rctx, req.GetName(), req.GetAttributes())
			cancel()
			if err == nil {
				env.Logger.Info("queuechaos: queue created", "queue", req.GetName())
				break
			}
			if ctx.Err() != nil || time.Now().After(deadline) || outcomeOf(err) == chaos.Fail && !rpcerr.TryOther(err) {
				return fmt.Errorf("create queue %s: %w", req.GetName(), err)
			}
			chaos.Hold(ctx, 200*time.Millisecond)
		}
	}
	return nil
}

// produce sends messages "<group>/<n>" until ctx ends, pausing every between
// sends. On a FIFO queue group is the message group and the body the
// deduplication id.
func (w *Queue) produce(ctx context.Context, env *chaos.Env, c *client.Client, cfg config, id int, group string, every time.Duration) {
	h := env.History
	for n := 0; ctx.Err() == nil; n++ {
		body := group + "/" + strconv.Itoa(n)
		entry := &queuedv1.SendEntry{Body: []byte(body)}
		if cfg.fifo {
			entry.GroupId, entry.DeduplicationId = group, body
		}
		// Requests are not tied to ctx: cancelling them at the end of the run
		// would only turn answers into unknown outcomes.
		rctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
		op := h.Invoke(chaos.Op{Client: id, Kind: KindSend, Key: body, Value: cfg.name})
		resp, err := c.Send(rctx, cfg.name, entry)
		cancel()
		out, err := sendOutcome(resp, err)
		h.Complete(op, out, err, func(o *chaos.Op) { o.Via = resp.GetHeader().GetMemberId() })
		if out != chaos.OK {
			chaos.Hold(ctx, 50*time.Millisecond) // no node serves: do not spin
		}
		chaos.Hold(ctx, every)
	}
}

// sendOutcome is the outcome of a Send of one entry.
func sendOutcome(resp *queuedv1.SendResponse, err error) (chaos.Outcome, error) {
	if err != nil {
		return outcomeOf(err), err
	}
	if len(resp.GetResults()) == 1 {
		return chaos.OK, nil
	}
	if len(resp.GetErrors()) == 1 {
		e := resp.GetErrors()[0]
		return entryOutcome(e), client.EntryErr("send", e)
	}
	return chaos.Unknown, fmt.Errorf("send of one entry answered %d results and %d errors", len(resp.GetResults()), len(resp.GetErrors()))
}

// delivery is one message a consumer holds.
type delivery struct {
	body  string
	count uint32
	rh    string
}

// consume receives messages until ctx ends, and acks each one, or drops it
// (KindDrop) with probability Crash; poison messages are never acked.
func (w *Queue) consume(ctx context.Context, env *chaos.Env, c *client.Client, cfg config, id int) {
	h := env.History
	rng := env.Rand(chaos.Stream(w.Name(), id))
	for ctx.Err() == nil {
		ds, ok := receiveFrom(env, c, cfg, id, cfg.name, 1+rng.IntN(cfg.batch))
		if !ok {
			chaos.Hold(ctx, 50*time.Millisecond)
			continue
		}
		var ack []delivery
		for _, d := range ds {
			switch {
			case isPoison(d.body):
			case cfg.crash > 0 && rng.Float64() < cfg.crash:
				h.Event(chaos.Op{Client: id, Kind: KindDrop, Key: d.body, Value: cfg.name, Rev: int64(d.count)})
			default:
				ack = append(ack, d)
			}
		}
		if len(ack) == 0 {
			continue
		}
		chaos.Hold(ctx, time.Duration(rng.IntN(20))*time.Millisecond) // the work
		ackAll(env, c, cfg, id, cfg.name, ack)
	}
}

// receiveFrom runs one Receive of up to max messages on queue, with the
// workload's wait and visibility timeout, and records it and its deliveries.
// It reports whether the call succeeded.
func receiveFrom(env *chaos.Env, c *client.Client, cfg config, id int, queue string, max int) ([]delivery, bool) {
	h := env.History
	rctx, cancel := context.WithTimeout(context.Background(), cfg.wait+cfg.timeout)
	defer cancel()
	op := h.Invoke(chaos.Op{Client: id, Kind: KindReceive, Value: queue})
	msgs, err := c.Receive(rctx, queue, client.WithMaxMessages(max), client.WithWait(cfg.wait), client.WithVisibilityTimeout(cfg.visibility))
	if err != nil {
		h.Complete(op, outcomeOf(err), err, nil)
		return nil, false
	}
	h.Complete(op, chaos.OK, nil, func(o *chaos.Op) { o.Rev = int64(len(msgs)) })
	out := make([]delivery, 0, len(msgs))
	for _, m := range msgs {
		d := delivery{body: string(m.GetBody()), count: m.GetReceiveCount(), rh: m.GetReceiptHandle()}
		h.Event(chaos.Op{Client: id, Kind: KindDeliver, Key: d.body, Value: queue, Rev: int64(d.count), Index: uint64(op)})
		out = append(out, d)
	}
	return out, true
}

// ackAll acks ds on queue in one Ack call, recording one KindAck operation per
// delivery (the entries of a batch without ids are named by position).
func ackAll(env *chaos.Env, c *client.Client, cfg config, id int, queue string, ds []delivery) {
	h := env.History
	handles := make([]string, len(ds))
	ops := make([]int, len(ds))
	for i, d := range ds {
		handles[i] = d.rh
		ops[i] = h.Invoke(chaos.Op{Client: id, Kind: KindAck, Key: d.body, Value: queue, Rev: int64(d.count)})
	}
	rctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	resp, err := c.Ack(rctx, queue, handles...)
	cancel()
	if err != nil {
		out := outcomeOf(err)
		for _, op := range ops {
			h.Complete(op, out, err, nil)
		}
		return
	}
	via := resp.GetHeader().GetMemberId()
	errs := map[string]*queuedv1.EntryError{}
	for _, e := range resp.GetErrors() {
		errs[e.GetId()] = e
	}
	acked := map[string]bool{}
	for _, a := range resp.GetAcked() {
		acked[a] = true
	}
	for i, op := range ops {
		key := strconv.Itoa(i)
		switch e := errs[key]; {
		case acked[key]:
			h.Complete(op, chaos.OK, nil, func(o *chaos.Op) { o.Via = via })
		case e != nil:
			h.Complete(op, entryOutcome(e), client.EntryErr("ack", e), func(o *chaos.Op) { o.Via = via })
		default:
			h.Complete(op, chaos.Unknown, errors.New("ack entry neither acked nor failed in the response"), func(o *chaos.Op) { o.Via = via })
		}
	}
}
