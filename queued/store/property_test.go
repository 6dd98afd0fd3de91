package store

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"cairn.dev/cairn/node/nodetest"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"cairn.dev/cairn/node/raftnode"
	queuedraftv1 "cairn.dev/cairn/proto/cairn/queued/raft/v1"
	queuedv1 "cairn.dev/cairn/proto/cairn/queued/v1"
)

// workload generates random commands over a fixed set of queues and a topic,
// feeding on the receipts earlier receives returned.
type workload struct {
	rng      *rand.Rand
	now      time.Time
	receipts []string
}

func (w *workload) pick(xs ...string) string { return xs[w.rng.IntN(len(xs))] }

func (w *workload) setup() []*queuedraftv1.Command {
	sd, fd := stdAttrs(), fifoAttrs()
	s := stdAttrs()
	s.MaxReceives, s.DeadLetterQueue = 3, "sd"
	s.Retention = dur(10 * time.Minute)
	f := fifoAttrs()
	f.MaxReceives, f.DeadLetterQueue = 2, "fd"
	f.ContentBasedDeduplication = true
	f.DeliveryDelay = dur(time.Second)
	return []*queuedraftv1.Command{
		createQueue("sd", sd), createQueue("fd", fd), createQueue("s", s), createQueue("f", f),
		createTopic("t"), subscribeCmd("t", "s", map[string][]string{"colour": {"red"}}), subscribeCmd("t", "f", nil),
	}
}

func (w *workload) next() *queuedraftv1.Command {
	r := w.rng
	switch n := r.IntN(100); {
	case n < 25:
		q := w.pick("s", "sd", "f", "fd", "s", "f")
		var es []*queuedv1.SendEntry
		for range 1 + r.IntN(4) {
			e := &queuedv1.SendEntry{Body: []byte(fmt.Sprint("m", r.IntN(20)))}
			if q[0] == 'f' {
				e.GroupId = w.pick("g0", "g1", "g2", "")
				if r.IntN(3) == 0 {
					e.DeduplicationId = fmt.Sprint("d", r.IntN(5))
				}
			} else if r.IntN(4) == 0 {
				e.Delay = dur(time.Duration(r.IntN(20)) * time.Second)
			}
			if r.IntN(3) == 0 {
				e.Attributes = map[string]*queuedv1.AttributeValue{"colour": {DataType: "String", StringValue: w.pick("red", "blue")}}
			}
			es = append(es, e)
		}
		return sendCmd(q, es...)
	case n < 45:
		return receiveCmd(w.pick("s", "sd", "f", "fd", "s", "f"), uint32(1+r.IntN(4)), time.Duration(r.IntN(20))*time.Second)
	case n < 65:
		var hs []string
		for range 1 + r.IntN(3) {
			switch {
			case len(w.receipts) == 0 || r.IntN(10) == 0:
				hs = append(hs, "junk")
			default:
				hs = append(hs, w.receipts[r.IntN(len(w.receipts))])
			}
		}
		q := w.pick("s", "sd", "f", "fd")
		switch r.IntN(3) {
		case 0:
			return ackCmd(q, hs...)
		case 1:
			return nackCmd(q, time.Duration(r.IntN(3))*time.Second, hs...)
		default:
			return extendCmd(q, time.Duration(r.IntN(30))*time.Second, hs...)
		}
	case n < 75:
		return sweepCmd(uint32(1 + r.IntN(20)))
	case n < 82:
		return publishCmd("t", fmt.Sprint("p", r.IntN(5)), w.pick("g0", "g3", ""), map[string]string{"colour": w.pick("red", "blue")})
	case n < 86:
		return redriveCmd(w.pick("sd", "fd"), "", uint32(r.IntN(3)))
	case n < 88:
		return purgeQueue(w.pick("s", "sd", "f", "fd"))
	case n < 90:
		at := &queuedv1.QueueAttributes{Retention: dur(time.Duration(1+r.IntN(20)) * time.Minute), VisibilityTimeout: dur(time.Duration(r.IntN(10)) * time.Second)}
		return setAttrs(w.pick("s", "f"), at, "retention", "visibility_timeout")
	case n < 92:
		// Delete and come back: the create is the next command.
		return deleteQueue(w.pick("s", "f"))
	default:
		return createQueue(w.pick("s", "f"), map[bool]*queuedv1.QueueAttributes{true: stdAttrs(), false: fifoAttrs()}[r.IntN(2) == 0])
	}
}

// tick moves the workload clock: mostly a little, sometimes past retention
// and dedup windows, and sometimes backwards (another proposer's clock).
func (w *workload) tick() {
	switch n := w.rng.IntN(100); {
	case n < 3:
		w.now = w.now.Add(time.Duration(w.rng.IntN(600)) * time.Second)
	case n < 6:
		w.now = w.now.Add(-time.Duration(w.rng.IntN(2000)) * time.Millisecond)
	default:
		w.now = w.now.Add(time.Duration(w.rng.IntN(3000)) * time.Millisecond)
	}
}

func (w *workload) learn(raw []byte) {
	res := &queuedraftv1.CommandResult{}
	if err := proto.Unmarshal(raw, res); err != nil {
		return
	}
	for _, m := range res.GetReceive().GetMessages() {
		w.receipts = append(w.receipts, m.GetReceiptHandle())
	}
	if len(w.receipts) > 200 {
		w.receipts = w.receipts[len(w.receipts)-200:]
	}
}

func applyRaw(t *testing.T, s *Store, entries []raftnode.Entry) [][]byte {
	t.Helper()
	out, err := s.ApplyBatch(entries)
	require.NoError(t, err)
	return out
}

// TestDeterminism applies the same random entries to two stores, to one in
// batches and to the other entry by entry, and requires byte-identical
// results and state: batch boundaries and replicas must not matter. The
// indexes are checked against the messages all along.
func TestDeterminism(t *testing.T) {
	seed := nodetest.Seed(t)
	w := &workload{rng: rand.New(rand.NewPCG(seed, 0)), now: t0}
	a, b := openTestStore(t), openTestStore(t)
	var idx uint64
	entry := func(cmd *queuedraftv1.Command) raftnode.Entry {
		w.tick()
		cmd.UnixNanos = w.now.UnixNano()
		data, err := marshal(cmd)
		require.NoError(t, err)
		idx++
		return raftnode.Entry{Index: idx, Term: 1, Data: data}
	}
	var setup []raftnode.Entry
	for _, c := range w.setup() {
		setup = append(setup, entry(c))
	}
	applyRaw(t, a.s, setup)
	applyRaw(t, b.s, setup)

	steps := 1500
	if testing.Short() {
		steps = 300
	}
	for step := 0; step < steps; {
		var batch []raftnode.Entry
		for range 1 + w.rng.IntN(6) {
			batch = append(batch, entry(w.next()))
			step++
		}
		ra := applyRaw(t, a.s, batch)
		for i, e := range batch {
			rb := applyRaw(t, b.s, []raftnode.Entry{e})
			require.True(t, bytes.Equal(ra[i], rb[0]), "entry %d: results differ", e.Index)
			w.learn(ra[i])
		}
		if step%100 < 6 {
			checkInvariants(t, a.s)
			require.Equal(t, dump(t, a.s), dump(t, b.s), "state after entry %d", idx)
		}
	}
	checkInvariants(t, a.s)
	require.Equal(t, dump(t, a.s), dump(t, b.s))
	qa, ta, ma := a.s.Counts()
	qb, tb, mb := b.s.Counts()
	require.Equal(t, []int64{qa, ta, ma}, []int64{qb, tb, mb})
	t.Logf("end: %d queues, %d topics, %d messages, %d entries", qa, ta, ma, idx)

	// Everything drains: far in the future, sweeps free every dead id and
	// drop every message.
	w.now = w.now.Add(30 * 24 * time.Hour)
	for i := 0; ; i++ {
		require.Less(t, i, 10000)
		raw := applyRaw(t, a.s, []raftnode.Entry{entry(sweepCmd(100))})
		res := &queuedraftv1.CommandResult{}
		require.NoError(t, proto.Unmarshal(raw[0], res))
		if !res.GetSweep().GetMore() {
			break
		}
	}
	checkInvariants(t, a.s)
	_, _, m := a.s.Counts()
	require.Zero(t, m)
	_, ok := a.s.NextDue()
	require.False(t, ok)
	ids, timers, dead := queueBuckets(t, a.s)
	require.Equal(t, int(qa), ids)
	require.Zero(t, timers)
	require.Zero(t, dead)
}

// FuzzApply: any entry data, decodable or not, gives a result and never a
// storage error, and leaves the indexes consistent.
func FuzzApply(f *testing.F) {
	w := &workload{rng: rand.New(rand.NewPCG(1, 2)), now: t0}
	for _, c := range append(w.setup(), w.next(), w.next(), w.next(), w.next()) {
		data, err := marshal(c)
		require.NoError(f, err)
		f.Add(data)
	}
	ts := openTestStore(f)
	for _, c := range w.setup() {
		ts.ok(c)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ts.idx++
		raw, err := ts.s.ApplyBatch([]raftnode.Entry{{Index: ts.idx, Data: data}})
		require.NoError(t, err)
		require.NoError(t, proto.Unmarshal(raw[0], &queuedraftv1.CommandResult{}))
		checkInvariants(t, ts.s)
	})
}
