package lockd

import (
	"context"
	"slices"
	"sync"
	"time"
)

// parking holds back the entries of acquires that will queue (their resource
// is held by another session) until this server proposes something else, and
// proposes them together with it, ahead of it; or, when nothing comes, after
// delay on their own.
//
// Under contention every hand-off is two entries: the holder's release, and
// the new wait of the client that held the lock before it. Proposed one by one
// they cost every member two fsyncs per hand-off, the release waits behind the
// wait's, and on a disk that throttles flushes the stalls grow with the rate.
// A wait's entry gains nothing from going first: its acquire cannot be granted
// before a release, and a release proposed here takes the parked waits with it,
// ahead of itself, so they keep their order. Raft usually writes such a group
// with one append (raftnode.Node.ApplyAll).
type parking struct {
	delay    time.Duration
	apply    func(context.Context, []byte) ([]byte, error)
	applyAll func(context.Context, [][]byte) ([][]byte, []error)
	// timeout bounds a group proposed by the timer, which has no caller.
	timeout time.Duration

	mu     sync.Mutex // protects the fields below
	parked []*parkedEntry
	timer  *time.Timer
}

// parkedEntry is one held-back command and, once proposed, its outcome.
type parkedEntry struct {
	cmd   []byte
	taken bool // guarded by parking.mu; set when a group includes it
	done  chan struct{}
	res   []byte
	err   error
}

// park proposes cmd with the next group and waits for its outcome. When ctx
// ends before a group took cmd it was never proposed, and park returns
// ctx's error.
func (p *parking) park(ctx context.Context, cmd []byte) ([]byte, error) {
	e := &parkedEntry{cmd: cmd, done: make(chan struct{})}
	p.mu.Lock()
	p.parked = append(p.parked, e)
	if p.timer == nil {
		p.timer = time.AfterFunc(p.delay, p.flush)
	}
	p.mu.Unlock()
	select {
	case <-e.done:
	case <-ctx.Done():
		p.mu.Lock()
		if !e.taken {
			p.parked = slices.DeleteFunc(p.parked, func(x *parkedEntry) bool { return x == e })
			p.mu.Unlock()
			return nil, ctx.Err()
		}
		p.mu.Unlock()
		<-e.done // proposed: its outcome is coming (raftnode bounds the wait)
	}
	return e.res, e.err
}

// propose proposes the parked commands and then cmd, and returns cmd's outcome.
func (p *parking) propose(ctx context.Context, cmd []byte) ([]byte, error) {
	group := p.take()
	if len(group) == 0 {
		return p.apply(ctx, cmd)
	}
	res, errs := p.applyAll(ctx, append(commands(group), cmd))
	deliver(group, res, errs)
	return res[len(group)], errs[len(group)]
}

// flush proposes the parked commands on their own; the timer calls it.
func (p *parking) flush() {
	group := p.take()
	if len(group) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), p.timeout)
	defer cancel()
	res, errs := p.applyAll(ctx, commands(group))
	deliver(group, res, errs)
}

// take empties the parking and stops its timer.
func (p *parking) take() []*parkedEntry {
	p.mu.Lock()
	defer p.mu.Unlock()
	group := p.parked
	p.parked = nil
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
	for _, e := range group {
		e.taken = true
	}
	return group
}

func commands(group []*parkedEntry) [][]byte {
	cmds := make([][]byte, len(group), len(group)+1)
	for i, e := range group {
		cmds[i] = e.cmd
	}
	return cmds
}

func deliver(group []*parkedEntry, res [][]byte, errs []error) {
	for i, e := range group {
		e.res, e.err = res[i], errs[i]
		close(e.done)
	}
}
