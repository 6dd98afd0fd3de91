package kvcheck

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

var seedFlag = flag.Uint64("seed", 0, "seed for the randomized tests (0: from the clock)")

// testSeed returns the seed of a randomized test and logs it for replay.
func testSeed(t *testing.T) uint64 {
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay with -seed %d)", seed, seed)
	return seed
}

func TestRecorderTimes(t *testing.T) {
	rec := NewRecorder()
	c1 := rec.Invoke(0, Put("k", "a"))
	rec.Return(c1, Output{Outcome: OutcomeOK})
	rec.Return(c1, Output{Outcome: OutcomeFail}) // ignored
	c2 := rec.Invoke(1, Get("k"))
	if got := rec.Pending(); got != 1 {
		t.Fatalf("Pending = %d, want 1", got)
	}
	h := rec.History()
	if len(h) != 2 {
		t.Fatalf("history has %d ops, want 2", len(h))
	}
	if h[0].Output.Outcome != OutcomeOK || h[0].Return < h[0].Call || h[1].Call < h[0].Return {
		t.Fatalf("bad times or outcome: %+v", h)
	}
	if h[1].Output.Outcome != OutcomeUnknown {
		t.Fatalf("pending op has outcome %v, want unknown", h[1].Output.Outcome)
	}
	rec.Return(c2, Output{Outcome: OutcomeOK, Value: Present("a")})
	res, err := Check(rec.History(), 10*time.Second)
	if err != nil || !res.Ok() {
		t.Fatalf("Check = %v, %v", res, err)
	}
}

// register is a linearizable in-memory key-value store: every operation takes
// effect atomically under mu, between its Invoke and its Return.
type register struct {
	mu   sync.Mutex // protects vals
	vals map[string]string
}

func (r *register) apply(in Input) Output {
	r.mu.Lock()
	defer r.mu.Unlock()
	cur, found := r.vals[in.Key]
	state := Value{Data: cur, Present: found}
	switch in.Kind {
	case KindGet:
		return Output{Outcome: OutcomeOK, Value: state}
	case KindPut:
		r.vals[in.Key] = in.Value
		return Output{Outcome: OutcomeOK}
	default:
		if state != in.Expect {
			return Output{Outcome: OutcomeOK}
		}
		r.vals[in.Key] = in.Value
		return Output{Outcome: OutcomeOK, Succeeded: true}
	}
}

// TestRandomLinearizableRegister drives a linearizable register from concurrent
// clients with random operations, some of which end up with unknown outcomes
// (applied or not) or fail before being sent, and requires Check to accept the
// history.
func TestRandomLinearizableRegister(t *testing.T) {
	seed := testSeed(t)
	const (
		clients   = 8
		opsPerCli = 300
		keys      = 4
	)
	reg := &register{vals: map[string]string{}}
	rec := NewRecorder()
	var wg sync.WaitGroup
	for c := range clients {
		rng := rand.New(rand.NewPCG(seed, uint64(c)))
		wg.Go(func() {
			var last Value // the last value this client read, to aim its CASes
			for i := range opsPerCli {
				key := fmt.Sprintf("k%d", rng.IntN(keys))
				val := fmt.Sprintf("c%d-%d", c, i)
				var in Input
				switch p := rng.IntN(10); {
				case p < 4:
					in = Get(key)
				case p < 7:
					in = Put(key, val)
				default:
					expect := last
					if rng.IntN(4) == 0 {
						expect = Absent()
					}
					in = CAS(key, expect, val)
				}
				call := rec.Invoke(c, in)
				var out Output
				switch p := rng.IntN(100); {
				case p < 2: // rejected before sending
					out = Output{Outcome: OutcomeFail}
				case p < 4: // sent, applied, answer lost
					reg.apply(in)
					out = Output{Outcome: OutcomeUnknown}
				case p < 6: // sent, lost before applying
					out = Output{Outcome: OutcomeUnknown}
				default:
					out = reg.apply(in)
					if in.Kind == KindGet {
						last = out.Value
					}
				}
				rec.Return(call, out)
			}
		})
	}
	wg.Wait()
	h := rec.History()
	res, err := Check(h, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("seed %d: %v", seed, res)
	if !res.Ok() {
		path := t.TempDir() + "/history.html"
		if err := res.WriteVisualization(path); err == nil {
			t.Logf("visualization in %s", path)
		}
		t.Fatalf("seed %d: linearizable register judged %v", seed, res.Verdict)
	}
}

// TestRandomStaleReadsAreCaught is the negative twin: a store whose reads are
// sometimes served from a stale copy must be caught.
func TestRandomStaleReadsAreCaught(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewPCG(seed, 0))
	rec := NewRecorder()
	var stale, cur Value
	for i := range 200 {
		if rng.IntN(2) == 0 {
			v := fmt.Sprint(i)
			call := rec.Invoke(0, Put("k", v))
			stale, cur = cur, Present(v)
			rec.Return(call, Output{Outcome: OutcomeOK})
			continue
		}
		call := rec.Invoke(1, Get("k"))
		rec.Return(call, Output{Outcome: OutcomeOK, Value: cur})
	}
	// One sequential stale read at the end, after at least one write.
	rec.Return(rec.Invoke(0, Put("k", "last")), Output{Outcome: OutcomeOK})
	stale, cur = cur, Present("last")
	rec.Return(rec.Invoke(1, Get("k")), Output{Outcome: OutcomeOK, Value: stale})
	res, err := Check(rec.History(), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Illegal() {
		t.Fatalf("seed %d: stale read judged %v", seed, res.Verdict)
	}
}
