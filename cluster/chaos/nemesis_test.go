package chaos

import (
	"context"
	"slices"
	"sync"
	"testing"
)

// fakeProcs records the Kill and Start calls of a kill fault.
type fakeProcs struct {
	mu     sync.Mutex // protects events
	events []string
}

func (f *fakeProcs) add(e string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, e)
}

func (f *fakeProcs) Kill(name string) error  { f.add("kill " + name); return nil }
func (f *fakeProcs) Start(name string) error { f.add("start " + name); return nil }

// TestKillForRecordsEndBeforeStart guards docs/chaos.md bug 8: the recorded
// end of a kill must come before the node is started again, since a started
// node serves (with an empty cache) before Start returns. A tamper runs
// while every node is down.
func TestKillForRecordsEndBeforeStart(t *testing.T) {
	for _, together := range []bool{false, true} {
		f := &fakeProcs{}
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // no hold
		err := killFor(ctx, f, []string{"n1", "n2"}, 0, together,
			func() { f.add("began") }, func() error { f.add("tamper"); return nil }, func() { f.add("healed") })
		if err != nil {
			t.Fatal(err)
		}
		got := f.events
		if together && len(got) == 7 { // the kills run in parallel
			slices.Sort(got[1:3])
		}
		want := []string{"began", "kill n1", "kill n2", "tamper", "healed", "start n1", "start n2"}
		if !slices.Equal(got, want) {
			t.Errorf("together=%v: events %q, want %q", together, got, want)
		}
	}
}
