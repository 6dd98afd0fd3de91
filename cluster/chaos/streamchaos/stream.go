package streamchaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	streamdv1 "cairn.dev/cairn/proto/cairn/streamd/v1"
	"cairn.dev/cairn/streamd/client"

	"cairn.dev/cairn/cluster/chaos"
)

// The operation kinds recorded by the streamd workload. Key is always a
// partition number, Value a record's value (unique per record sent:
// "p<producer>-<n>"), Rev an offset.
const (
	// KindSend is the send of one record with value Value to partition Key;
	// when acknowledged, Rev is the offset the ack named. The records of one
	// Produce call are recorded as one operation each, in the order sent.
	KindSend chaos.OpKind = "s-send"
	// KindJoin is a consumer's JoinGroup call; Token is the generation it
	// joined, Session the consumer's epoch (see KindEpoch).
	KindJoin chaos.OpKind = "s-join"
	// KindEpoch marks that a consumer (re)joined its group: the polls that
	// follow, up to its next KindEpoch, read from the positions that join set.
	// Session is the epoch's number (per consumer, from 1), Token the
	// generation, Value the assignment.
	KindEpoch chaos.OpKind = "s-epoch"
	// KindPoll is a Poll of a group consumer; Rev is the number of records
	// it returned, Session the consumer's epoch, Token its generation.
	KindPoll chaos.OpKind = "s-poll"
	// KindDeliver is one record a Poll returned: Value at offset Rev of
	// partition Key; Index is the KindPoll operation's id, Session the
	// consumer's epoch.
	KindDeliver chaos.OpKind = "s-deliver"
	// KindCommit is the commit of offset Rev (the next offset to consume) of
	// partition Key by a group consumer.
	KindCommit chaos.OpKind = "s-commit"
	// KindCrash marks that a consumer "crashed": it stopped heartbeating and
	// polling without leaving; its session expires at the coordinator.
	KindCrash chaos.OpKind = "s-crash"
	// KindLeave is a consumer's Close (LeaveGroup).
	KindLeave chaos.OpKind = "s-leave"
	// KindCommitted is the group's committed offset Rev of partition Key
	// after the drain; Found says the group drained every partition to its
	// high watermark.
	KindCommitted chaos.OpKind = "s-committed"
	// KindRead is one record of the final read: Value at offset Rev of
	// partition Key.
	KindRead chaos.OpKind = "s-read"
	// KindReadEnd ends the final read of partition Key: Rev is the high
	// watermark it read up to; Found says it got there. -1 when the read
	// failed (Err says why).
	KindReadEnd chaos.OpKind = "s-read-end"
)

// kinds classifies the kinds for the framework: sends and commits are the
// writes; a poll is a read (a poll of an idle partition answers without a
// write), the rest are events.
var kinds = chaos.Kinds{
	KindSend: chaos.ClassWrite, KindCommit: chaos.ClassWrite,
	KindPoll: chaos.ClassRead, KindJoin: chaos.ClassRead,
	KindEpoch: chaos.ClassEvent, KindDeliver: chaos.ClassEvent, KindCrash: chaos.ClassEvent, KindLeave: chaos.ClassEvent,
	KindCommitted: chaos.ClassEvent, KindRead: chaos.ClassEvent, KindReadEnd: chaos.ClassEvent,
}

// Stream is the streamd workload. Producers send records "p<client>-<n>"
// with acks=all to partitions of Topic drawn at random, 1 to 3 records per
// Produce call; Consumers slots each run a member of Group that polls and
// commits what every poll returned, and that, after any poll, crashes with
// probability Crash (stops without leaving) or leaves with probability
// Leave, to be replaced by a new member (a new client) a moment later.
// Drain reads everything once the faults are over.
//
// A Stream is used by one scenario run: it keeps the drain's state.
type Stream struct {
	// Topic is the topic, created with Partitions partitions (default 4)
	// and replication 3; default "chaos-stream".
	Topic      string
	Partitions int
	// Group is the consumer group; default "chaos-group".
	Group string
	// Producers and Consumers are the numbers of clients of each kind;
	// defaults 3 and 3.
	Producers, Consumers int
	// SendEvery is the pause of a producer between Produce calls; default
	// 10ms.
	SendEvery time.Duration
	// Crash and Leave are the per-poll probabilities that a member crashes
	// or leaves; defaults 0.02 and 0.02, negative disables.
	Crash, Leave float64
	// SessionTimeout is the members' session timeout; default 3s.
	SessionTimeout time.Duration
	// Timeout bounds each request; default 10s.
	Timeout time.Duration
	// DrainTimeout bounds the drain; default 60s plus the fault phase.
	DrainTimeout time.Duration
	// ClientBase is the first client number in the history; default 1000.
	// Producers take ClientBase+i; the member run by consumer slot s for the
	// k-th time ClientBase+100+s+10*k; the drain's member ClientBase+900 and
	// its reader ClientBase+901.
	ClientBase int

	drainOnce sync.Once
}

// Name implements chaos.Workload.
func (w *Stream) Name() string { return "stream" }

// Kinds implements chaos.Workload.
func (w *Stream) Kinds() chaos.Kinds { return kinds }

// config is a Stream with its defaults filled in.
type config struct {
	topic, group         string
	partitions           int
	producers, consumers int
	sendEvery            time.Duration
	crash, leave         float64
	session, timeout     time.Duration
	drainTimeout         time.Duration
	clientBase           int
}

func (w *Stream) config() config {
	c := config{topic: w.Topic, group: w.Group, partitions: w.Partitions, producers: w.Producers,
		consumers: w.Consumers, sendEvery: w.SendEvery, crash: w.Crash, leave: w.Leave,
		session: w.SessionTimeout, timeout: w.Timeout, drainTimeout: w.DrainTimeout, clientBase: w.ClientBase}
	if c.topic == "" {
		c.topic = "chaos-stream"
	}
	if c.group == "" {
		c.group = "chaos-group"
	}
	if c.partitions <= 0 {
		c.partitions = 4
	}
	if c.producers <= 0 {
		c.producers = 3
	}
	if c.consumers <= 0 {
		c.consumers = 3
	}
	if c.sendEvery <= 0 {
		c.sendEvery = 10 * time.Millisecond
	}
	if c.crash == 0 {
		c.crash = 0.02
	}
	if c.leave == 0 {
		c.leave = 0.02
	}
	if c.session <= 0 {
		c.session = 3 * time.Second
	}
	if c.timeout <= 0 {
		c.timeout = 10 * time.Second
	}
	if c.clientBase == 0 {
		c.clientBase = 1000
	}
	return c
}

// partKey is the Key of an operation on partition p.
func partKey(p int32) string { return strconv.Itoa(int(p)) }

// Run implements chaos.Workload: it creates the topic, then runs the
// producers and the consumer slots until ctx ends; the members still in the
// group then leave it.
func (w *Stream) Run(ctx context.Context, env *chaos.Env) error {
	cfg := w.config()
	if err := w.create(ctx, env, cfg); err != nil {
		return err
	}
	var wg sync.WaitGroup
	for i := range cfg.producers {
		id := cfg.clientBase + i
		c, err := newClient(env, cfg.timeout)
		if err != nil {
			return err
		}
		wg.Go(func() {
			defer c.Close()
			w.produce(ctx, env, c, cfg, id)
		})
	}
	for s := range cfg.consumers {
		wg.Go(func() { w.slot(ctx, env, cfg, s) })
	}
	wg.Wait()
	return nil
}

// create creates the topic, retrying until it exists or ctx ends.
func (w *Stream) create(ctx context.Context, env *chaos.Env, cfg config) error {
	c, err := newClient(env, cfg.timeout)
	if err != nil {
		return err
	}
	defer c.Close()
	deadline := time.Now().Add(time.Minute)
	for {
		rctx, cancel := context.WithTimeout(ctx, cfg.timeout)
		_, err := c.CreateTopic(rctx, &streamdv1.CreateTopicRequest{Name: cfg.topic, Partitions: int32(cfg.partitions), Replication: 3})
		cancel()
		if err == nil {
			env.Logger.Info("streamchaos: topic created", "topic", cfg.topic, "partitions", cfg.partitions)
			return nil
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			return fmt.Errorf("create topic %s: %w", cfg.topic, err)
		}
		chaos.Hold(ctx, 200*time.Millisecond)
	}
}

// produce sends records until ctx ends: 1 to 3 per Produce call, to a
// partition drawn for each call.
func (w *Stream) produce(ctx context.Context, env *chaos.Env, c *client.Client, cfg config, id int) {
	h := env.History
	rng := env.Rand(chaos.Stream(w.Name(), id))
	n := 0
	for ctx.Err() == nil {
		p := int32(rng.IntN(cfg.partitions))
		count := 1 + rng.IntN(3)
		recs := make([]client.Record, count)
		ops := make([]int, count)
		for i := range recs {
			v := fmt.Sprintf("p%d-%d", id, n)
			n++
			recs[i] = client.Record{Value: []byte(v)}
			ops[i] = h.Invoke(chaos.Op{Client: id, Kind: KindSend, Key: partKey(p), Value: v})
		}
		// Requests are not tied to ctx: cancelling them at the end of the
		// run would only turn answers into unknown outcomes.
		rctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
		res, err := c.Produce(rctx, cfg.topic, recs, client.ProduceOptions{Partition: &p, Timeout: cfg.timeout / 2})
		cancel()
		if err == nil && (len(res) != 1 || res[0].LastOffset-res[0].BaseOffset != int64(count-1)) {
			err = fmt.Errorf("produce of %d records to one partition answered %+v", count, res)
			for _, op := range ops {
				h.Complete(op, chaos.Unknown, err, nil)
			}
			continue
		}
		out := outcomeOf(err)
		for i, op := range ops {
			h.Complete(op, out, err, func(o *chaos.Op) {
				if out == chaos.OK {
					o.Rev = res[0].BaseOffset + int64(i)
				}
			})
		}
		if out != chaos.OK {
			chaos.Hold(ctx, 50*time.Millisecond) // no leader: do not spin
		}
		chaos.Hold(ctx, cfg.sendEvery)
	}
}

// member is one group consumer as the workload sees it: its client id, the
// epoch it polls in and what identifies that epoch's join.
type member struct {
	id    int
	g     *client.GroupConsumer
	epoch uint64
	// gen and first identify the join the member's positions come from:
	// the generation, and the first partition of the assignment it got (a
	// join always decodes a new assignment, so a new pointer tells a
	// rejoin into the same generation number, after a new controller
	// forgot the group, from no rejoin).
	gen   int64
	first *streamdv1.TopicPartition
}

// observe records a new epoch if the member joined since the last look.
func (m *member) observe(h *chaos.History) {
	gen, as := m.g.Generation(), m.g.Assignment()
	var first *streamdv1.TopicPartition
	if len(as) > 0 {
		first = as[0]
	}
	if m.epoch > 0 && gen == m.gen && first == m.first {
		return
	}
	m.epoch++
	m.gen, m.first = gen, first
	parts := ""
	for i, tp := range as {
		if i > 0 {
			parts += ","
		}
		parts += strconv.Itoa(int(tp.GetPartition()))
	}
	h.Event(chaos.Op{Client: m.id, Kind: KindEpoch, Session: m.epoch, Token: uint64(gen), Value: parts})
}

// slot runs group members one after the other until ctx ends: each joins,
// polls and commits until it crashes or leaves, then the next one joins.
func (w *Stream) slot(ctx context.Context, env *chaos.Env, cfg config, s int) {
	rng := env.Rand(chaos.Stream(w.Name(), cfg.clientBase+100+s))
	for k := 0; ctx.Err() == nil; k++ {
		id := cfg.clientBase + 100 + s + 10*k
		w.memberRun(ctx, env, cfg, id, rng)
		chaos.Hold(ctx, time.Duration(300+rng.IntN(700))*time.Millisecond)
	}
}

// memberRun runs one member from its join to its crash, its leave or the
// end of ctx (when it leaves).
func (w *Stream) memberRun(ctx context.Context, env *chaos.Env, cfg config, id int, rng *rand.Rand) {
	h := env.History
	c, err := newClient(env, cfg.timeout)
	if err != nil {
		env.Logger.Warn("streamchaos: client", "err", err)
		return
	}
	defer c.Close()
	m, ok := join(ctx, env, c, cfg, id, 300*time.Millisecond)
	if !ok {
		return
	}
	for ctx.Err() == nil {
		poll(env, c, cfg, m)
		switch x := rng.Float64(); {
		case cfg.crash > 0 && x < cfg.crash:
			h.Event(chaos.Op{Client: id, Kind: KindCrash, Session: m.epoch})
			_ = c.Close() // no more heartbeats; the LeaveGroup of Close fails
			_ = m.g.Close(context.Background())
			return
		case cfg.leave > 0 && x < cfg.crash+cfg.leave:
			leave(env, cfg, m)
			return
		}
	}
	leave(env, cfg, m)
}

// join joins the group as client id, retrying for up to a minute, and
// records the call and the epoch it starts.
func join(ctx context.Context, env *chaos.Env, c *client.Client, cfg config, id int, maxWait time.Duration) (*member, bool) {
	h := env.History
	deadline := time.Now().Add(time.Minute)
	for ctx.Err() == nil {
		rctx, cancel := context.WithTimeout(context.Background(), 2*cfg.session+cfg.timeout)
		op := h.Invoke(chaos.Op{Client: id, Kind: KindJoin})
		g, err := c.JoinGroup(rctx, client.GroupConfig{Group: cfg.group, Topics: []string{cfg.topic},
			ClientID: fmt.Sprintf("c%d", id), SessionTimeout: cfg.session, MaxWait: maxWait})
		cancel()
		if err == nil {
			m := &member{id: id, g: g}
			m.observe(h)
			h.Complete(op, chaos.OK, nil, func(o *chaos.Op) { o.Token, o.Session = uint64(m.gen), m.epoch })
			return m, true
		}
		h.Complete(op, chaos.Fail, err, nil)
		if time.Now().After(deadline) {
			env.Logger.Warn("streamchaos: join gave up", "client", id, "err", err)
			return nil, false
		}
		chaos.Hold(ctx, 200*time.Millisecond)
	}
	return nil, false
}

// poll runs one Poll of m, records it and its records, and commits what it
// returned. It returns the records.
func poll(env *chaos.Env, c *client.Client, cfg config, m *member) []client.Record {
	h := env.History
	rctx, cancel := context.WithTimeout(context.Background(), 2*cfg.session+cfg.timeout)
	defer cancel()
	op := h.Invoke(chaos.Op{Client: m.id, Kind: KindPoll})
	recs, err := m.g.Poll(rctx)
	m.observe(h) // a Poll may join again before it fetches
	if err != nil {
		h.Complete(op, chaos.Fail, err, func(o *chaos.Op) { o.Session, o.Token = m.epoch, uint64(m.gen) })
		chaos.Hold(rctx, 100*time.Millisecond)
		return nil
	}
	h.Complete(op, chaos.OK, nil, func(o *chaos.Op) { o.Rev, o.Session, o.Token = int64(len(recs)), m.epoch, uint64(m.gen) })
	next := map[int32]int64{}
	var order []int32
	for _, r := range recs {
		h.Event(chaos.Op{Client: m.id, Kind: KindDeliver, Key: partKey(r.Partition), Value: string(r.Value), Rev: r.Offset, Index: uint64(op), Session: m.epoch})
		if _, ok := next[r.Partition]; !ok {
			order = append(order, r.Partition)
		}
		next[r.Partition] = max(next[r.Partition], r.Offset+1)
	}
	if len(recs) == 0 {
		return nil
	}
	ops := make([]int, len(order))
	for i, p := range order {
		ops[i] = h.Invoke(chaos.Op{Client: m.id, Kind: KindCommit, Key: partKey(p), Rev: next[p], Session: m.epoch})
	}
	cerr := m.g.CommitUpTo(rctx, recs)
	for _, id := range ops {
		h.Complete(id, outcomeOf(cerr), cerr, nil)
	}
	return recs
}

// leave closes m (it leaves the group) and records it.
func leave(env *chaos.Env, cfg config, m *member) {
	rctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	op := env.History.Invoke(chaos.Op{Client: m.id, Kind: KindLeave, Session: m.epoch})
	err := m.g.Close(rctx)
	out := chaos.OK
	if err != nil {
		out = chaos.Unknown
	}
	env.History.Complete(op, out, err, nil)
}
