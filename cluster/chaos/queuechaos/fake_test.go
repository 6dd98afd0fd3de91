package queuechaos

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"

	"cairn.dev/cairn/cluster"
	"cairn.dev/cairn/node/nodetest"
	"cairn.dev/cairn/node/rpcerr"
	queuedv1 "cairn.dev/cairn/proto/cairn/queued/v1"

	"cairn.dev/cairn/cluster/chaos"
)

// fakeQueued is an in-memory QueueService with queued's delivery rules
// (visibility, FIFO groups, dead letters after max_receives), for testing the
// workload, the drain and the checkers without a cluster. Its bugs make it
// break a rule on purpose, to show that the checkers notice.
type fakeQueued struct {
	queuedv1.UnimplementedQueueServiceServer
	bugs fakeBugs

	mu     sync.Mutex // protects the fields below
	queues map[string]*fakeQueue
	sent   int
}

// fakeBugs are the rules a fakeQueued breaks.
type fakeBugs struct {
	// loseNth drops the nth sent message (1-based) after acknowledging it.
	loseNth int
	// allGroups delivers FIFO messages as if every message were its group's
	// head.
	allGroups bool
	// earlyDeadLetter moves messages to the dead letter queue one delivery
	// early.
	earlyDeadLetter bool
}

type fakeQueue struct {
	attrs *queuedv1.QueueAttributes
	seq   uint64
	msgs  []*fakeMsg // by sequence
}

type fakeMsg struct {
	seq       uint64
	body      []byte
	group     string
	count     uint32
	nonce     uint64
	visibleAt time.Time
}

func newFakeQueued(bugs fakeBugs) *fakeQueued {
	return &fakeQueued{bugs: bugs, queues: map[string]*fakeQueue{}}
}

func (f *fakeQueued) CreateQueue(_ context.Context, req *queuedv1.CreateQueueRequest) (*queuedv1.CreateQueueResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.queues[req.GetName()]; !ok {
		f.queues[req.GetName()] = &fakeQueue{attrs: req.GetAttributes()}
	}
	return &queuedv1.CreateQueueResponse{Created: true}, nil
}

func (f *fakeQueued) GetQueue(_ context.Context, req *queuedv1.GetQueueRequest) (*queuedv1.GetQueueResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	q, ok := f.queues[req.GetName()]
	if !ok {
		return nil, rpcerr.Error(rpcerr.QueueNotFound, "no queue", nil)
	}
	return &queuedv1.GetQueueResponse{Queue: &queuedv1.Queue{Name: req.GetName(), Stats: &queuedv1.QueueStats{Visible: int64(len(q.msgs))}}}, nil
}

func (f *fakeQueued) Send(_ context.Context, req *queuedv1.SendRequest) (*queuedv1.SendResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	q, ok := f.queues[req.GetQueue()]
	if !ok {
		return nil, rpcerr.Error(rpcerr.QueueNotFound, "no queue", nil)
	}
	resp := &queuedv1.SendResponse{}
	for _, e := range req.GetEntries() {
		f.sent++
		q.seq++
		resp.Results = append(resp.Results, &queuedv1.SendResult{Id: e.GetId(), MessageId: strconv.FormatUint(q.seq, 10)})
		if f.sent == f.bugs.loseNth {
			continue
		}
		q.msgs = append(q.msgs, &fakeMsg{seq: q.seq, body: e.GetBody(), group: e.GetGroupId()})
	}
	return resp, nil
}

// receiveNow delivers up to max messages of q that are visible at now.
func (f *fakeQueued) receiveNow(name string, q *fakeQueue, max int, vis time.Duration, now time.Time) []*queuedv1.Message {
	fifo := q.attrs.GetType() == queuedv1.QueueType_QUEUE_TYPE_FIFO
	limit := q.attrs.GetMaxReceives()
	if f.bugs.earlyDeadLetter && limit > 0 {
		limit--
	}
	var out []*queuedv1.Message
	seen := map[string]bool{} // FIFO groups whose head was met
	for i := 0; i < len(q.msgs) && len(out) < max; i++ {
		m := q.msgs[i]
		if fifo && !f.bugs.allGroups {
			if seen[m.group] {
				continue
			}
			seen[m.group] = true
		}
		if m.visibleAt.After(now) {
			continue
		}
		if limit > 0 && m.count >= limit {
			dlq := f.queues[q.attrs.GetDeadLetterQueue()]
			dlq.seq++
			dlq.msgs = append(dlq.msgs, &fakeMsg{seq: dlq.seq, body: m.body, group: m.group, count: m.count})
			q.msgs = append(q.msgs[:i], q.msgs[i+1:]...)
			i--
			continue
		}
		m.count++
		m.nonce++
		m.visibleAt = now.Add(vis)
		out = append(out, &queuedv1.Message{
			Body: m.body, ReceiveCount: m.count, GroupId: m.group,
			ReceiptHandle: fmt.Sprintf("%s|%d|%d", name, m.seq, m.nonce),
		})
	}
	return out
}

func (f *fakeQueued) Receive(ctx context.Context, req *queuedv1.ReceiveRequest) (*queuedv1.ReceiveResponse, error) {
	deadline := time.Now().Add(req.GetWait().AsDuration())
	tick := time.NewTicker(5 * time.Millisecond) // the fake's long poll
	defer tick.Stop()
	for {
		f.mu.Lock()
		q, ok := f.queues[req.GetQueue()]
		if !ok {
			f.mu.Unlock()
			return nil, rpcerr.Error(rpcerr.QueueNotFound, "no queue", nil)
		}
		msgs := f.receiveNow(req.GetQueue(), q, int(max(1, req.GetMaxMessages())), req.GetVisibilityTimeout().AsDuration(), time.Now())
		f.mu.Unlock()
		if len(msgs) > 0 || time.Now().After(deadline) {
			return &queuedv1.ReceiveResponse{Messages: msgs}, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
}

func (f *fakeQueued) Ack(_ context.Context, req *queuedv1.AckRequest) (*queuedv1.AckResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	q, ok := f.queues[req.GetQueue()]
	if !ok {
		return nil, rpcerr.Error(rpcerr.QueueNotFound, "no queue", nil)
	}
	resp := &queuedv1.AckResponse{}
	now := time.Now()
	for _, e := range req.GetEntries() {
		parts := strings.Split(e.GetReceiptHandle(), "|")
		seq, _ := strconv.ParseUint(parts[1], 10, 64)
		nonce, _ := strconv.ParseUint(parts[2], 10, 64)
		i := 0
		for i < len(q.msgs) && q.msgs[i].seq != seq {
			i++
		}
		switch {
		case i == len(q.msgs):
			resp.Acked = append(resp.Acked, e.GetId())
		case q.msgs[i].nonce != nonce:
			resp.Errors = append(resp.Errors, &queuedv1.EntryError{Id: e.GetId(), Reason: string(rpcerr.ReceiptStale)})
		case !now.Before(q.msgs[i].visibleAt):
			resp.Errors = append(resp.Errors, &queuedv1.EntryError{Id: e.GetId(), Reason: string(rpcerr.ReceiptExpired)})
		default:
			q.msgs = append(q.msgs[:i], q.msgs[i+1:]...)
			resp.Acked = append(resp.Acked, e.GetId())
		}
	}
	return resp, nil
}

// fakeLeader is the ClusterService of a one-node fake: it leads.
type fakeLeader struct {
	queuedv1.UnimplementedClusterServiceServer
}

func (fakeLeader) Status(context.Context, *queuedv1.StatusRequest) (*queuedv1.StatusResponse, error) {
	return &queuedv1.StatusResponse{State: "leader", LeaderId: "queued-1"}, nil
}

// fakeEnv serves f on a loopback port and returns an Env whose cluster state
// lists it as the one queued node.
func fakeEnv(t *testing.T, f *fakeQueued) *chaos.Env {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	queuedv1.RegisterQueueServiceServer(srv, f)
	queuedv1.RegisterClusterServiceServer(srv, fakeLeader{})
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	dir := t.TempDir()
	st := &cluster.State{Dir: dir, Nodes: []cluster.NodeState{{Name: "queued-1", Service: "queued", GRPCAddr: lis.Addr().String()}}}
	if err := st.Save(); err != nil {
		t.Fatal(err)
	}
	c, err := cluster.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return &chaos.Env{Cluster: c, Service: "queued", Seed: 42, Logger: nodetest.Logger(t),
		History: chaos.NewHistory(time.Now(), kinds), Timeline: &chaos.Timeline{}, Dir: dir}
}

// runFake runs w against f for d, then the checkers (which drain first), and
// returns their verdicts by name.
func runFake(t *testing.T, f *fakeQueued, w *Queue, d time.Duration, checkers ...chaos.Checker) map[string]chaos.Verdict {
	t.Helper()
	env := fakeEnv(t, f)
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if err := w.Run(ctx, env); err != nil {
		t.Fatalf("workload: %v", err)
	}
	out := map[string]chaos.Verdict{}
	for _, c := range checkers {
		v := c.Check(context.Background(), env)
		first := ""
		if len(v.Violations) > 0 {
			first = "; first violation: " + v.Violations[0]
		}
		t.Logf("%s: pass=%v, %d violations; %s%s %s", c.Name(), v.Pass(), v.Count, v.Summary, first, v.Err)
		out[c.Name()] = v
	}
	return out
}

// fastQueue is a Queue with short timeouts, for the fake.
func fastQueue(fifo bool, deadLetter string) *Queue {
	return &Queue{FIFO: fifo, DeadLetter: deadLetter, Crash: 0.2,
		Visibility: 300 * time.Millisecond, Wait: 100 * time.Millisecond,
		DrainQuiet: 600 * time.Millisecond, PoisonEvery: 150 * time.Millisecond}
}

func TestWorkloadAgainstFake(t *testing.T) {
	for _, tc := range []struct {
		name string
		bugs fakeBugs
		fifo bool
		dlq  string
		fail string // the checker that must fail; "" if all must pass
	}{
		{name: "standard"},
		{name: "standard losing a message", bugs: fakeBugs{loseNth: 5}, fail: "total-queue"},
		{name: "fifo", fifo: true},
		{name: "fifo ignoring groups", bugs: fakeBugs{allGroups: true}, fifo: true, fail: "fifo"},
		{name: "dead letters", dlq: "dlq"},
		{name: "dead letters one delivery early", bugs: fakeBugs{earlyDeadLetter: true}, dlq: "dlq", fail: "dead-letter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := fastQueue(tc.fifo, tc.dlq)
			checkers := []chaos.Checker{&TotalQueue{Workload: w}, &Deliveries{Workload: w}}
			if w.FIFO {
				checkers = append(checkers, &FIFOChecker{Workload: w})
			}
			if w.DeadLetter != "" {
				checkers = append(checkers, &DeadLetter{Workload: w})
			}
			vs := runFake(t, newFakeQueued(tc.bugs), w, 1500*time.Millisecond, checkers...)
			for name, v := range vs {
				if want := name != tc.fail; v.Pass() != want {
					t.Errorf("%s: pass=%v, want %v: %s; %d violations %s", name, v.Pass(), want, v.Summary, v.Count, v.Err)
				}
			}
			tq := vs["total-queue"]
			if !strings.Contains(tq.Summary, "duplicated") || strings.Contains(tq.Summary, " 0 messages received") {
				t.Errorf("total-queue summary %q: nothing was received", tq.Summary)
			}
		})
	}
}
