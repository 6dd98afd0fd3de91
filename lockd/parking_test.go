package lockd

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/node/nodetest"
)

// fakeLog records the groups a parking proposes and answers each command with
// "<cmd>@<index>".
type fakeLog struct {
	mu     sync.Mutex
	groups [][]string
	next   int
}

func (l *fakeLog) applyAll(_ context.Context, cmds [][]byte) ([][]byte, []error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var group []string
	res := make([][]byte, len(cmds))
	for i, c := range cmds {
		l.next++
		group = append(group, string(c))
		res[i] = fmt.Appendf(nil, "%s@%d", c, l.next)
	}
	l.groups = append(l.groups, group)
	return res, make([]error, len(cmds))
}

func (l *fakeLog) apply(ctx context.Context, cmd []byte) ([]byte, error) {
	res, errs := l.applyAll(ctx, [][]byte{cmd})
	return res[0], errs[0]
}

func (l *fakeLog) proposed() [][]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.groups
}

func newTestParking(l *fakeLog, delay time.Duration) *parking {
	return &parking{delay: delay, apply: l.apply, applyAll: l.applyAll, timeout: time.Second}
}

func (p *parking) len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.parked)
}

type outcome struct {
	res []byte
	err error
}

func parkAsync(p *parking, ctx context.Context, cmd string) <-chan outcome {
	ch := make(chan outcome, 1)
	go func() {
		res, err := p.park(ctx, []byte(cmd))
		ch <- outcome{res, err}
	}()
	return ch
}

func TestParkedEntriesGoAheadOfTheNextProposal(t *testing.T) {
	l := &fakeLog{}
	p := newTestParking(l, time.Hour)
	w1 := parkAsync(p, context.Background(), "wait-1")
	nodetest.WaitFor(t, 5*time.Second, "wait-1 parked", func() bool { return p.len() == 1 })
	w2 := parkAsync(p, context.Background(), "wait-2")
	nodetest.WaitFor(t, 5*time.Second, "wait-2 parked", func() bool { return p.len() == 2 })
	require.Empty(t, l.proposed(), "nothing is proposed while only waits are parked")

	res, err := p.propose(context.Background(), []byte("release"))
	require.NoError(t, err)
	require.Equal(t, "release@3", string(res))
	require.Equal(t, [][]string{{"wait-1", "wait-2", "release"}}, l.proposed(), "one group, parked entries first and in order")
	require.Equal(t, outcome{[]byte("wait-1@1"), nil}, <-w1)
	require.Equal(t, outcome{[]byte("wait-2@2"), nil}, <-w2)

	// With nothing parked a proposal goes alone.
	_, err = p.propose(context.Background(), []byte("alone"))
	require.NoError(t, err)
	require.Equal(t, []string{"alone"}, l.proposed()[1])
}

func TestParkedEntriesGoOnTheirOwnAfterTheDelay(t *testing.T) {
	l := &fakeLog{}
	p := newTestParking(l, 5*time.Millisecond)
	start := time.Now()
	res, err := p.park(context.Background(), []byte("wait"))
	require.NoError(t, err)
	require.Equal(t, "wait@1", string(res))
	require.GreaterOrEqual(t, time.Since(start), 5*time.Millisecond, "proposed by the timer, not before")
	require.Equal(t, [][]string{{"wait"}}, l.proposed())
	require.Zero(t, p.len())
}

func TestAParkedEntryWhoseCallerGaveUpIsNeverProposed(t *testing.T) {
	l := &fakeLog{}
	p := newTestParking(l, time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	w := parkAsync(p, ctx, "abandoned")
	nodetest.WaitFor(t, 5*time.Second, "parked", func() bool { return p.len() == 1 })
	cancel()
	o := <-w
	require.True(t, errors.Is(o.err, context.Canceled), "%v", o.err)
	_, err := p.propose(context.Background(), []byte("release"))
	require.NoError(t, err)
	require.Equal(t, [][]string{{"release"}}, l.proposed())
}

// A parked entry's outcome reaches its caller even when the proposal it went
// with failed, and a failure reaches exactly the entries it concerns.
func TestParkedEntriesGetTheirOwnOutcome(t *testing.T) {
	boom := errors.New("boom")
	p := &parking{delay: time.Hour, timeout: time.Second,
		applyAll: func(_ context.Context, cmds [][]byte) ([][]byte, []error) {
			res := make([][]byte, len(cmds))
			errs := make([]error, len(cmds))
			for i, c := range cmds {
				if string(c) == "bad" {
					errs[i] = boom
				} else {
					res[i] = c
				}
			}
			return res, errs
		}}
	w := parkAsync(p, context.Background(), "bad")
	nodetest.WaitFor(t, 5*time.Second, "parked", func() bool { return p.len() == 1 })
	res, err := p.propose(context.Background(), []byte("good"))
	require.NoError(t, err)
	require.Equal(t, "good", string(res))
	o := <-w
	require.ErrorIs(t, o.err, boom)
}
