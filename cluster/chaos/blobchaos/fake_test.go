package blobchaos

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cairn.dev/cairn/node/nodetest"
	"cairn.dev/cairn/node/rpcerr"

	"cairn.dev/cairn/cluster/chaos"
)

// fakeBlobd is an in-memory blob store with blobd's rules (a PUT replaces
// the object atomically once acknowledged, reads and listings see every
// acknowledged write), for testing the workload, the drain and the
// checkers without a cluster. Its bugs make it break a rule on purpose, to
// show that the checkers notice.
type fakeBlobd struct {
	bugs fakeBugs

	mu   sync.Mutex // protects the fields below
	objs map[string][]byte
	prev map[string][]byte // the version an overwrite replaced
	puts int
}

// fakeBugs are the rules a fakeBlobd breaks.
type fakeBugs struct {
	// loseKey drops every PUT to keys ending in it after acknowledging
	// it.
	loseKey string
	// truncate makes GETs return all but the last byte of objects.
	truncate bool
	// flip makes GETs return objects with their last byte changed.
	flip bool
	// stale makes GETs of an overwritten key return the version it
	// replaced.
	stale bool
	// listSkip makes listings leave out their first key.
	listSkip bool
	// unhealthy makes the repair status never healthy.
	unhealthy bool
}

func newFakeBlobd(bugs fakeBugs) *fakeBlobd {
	return &fakeBlobd{bugs: bugs, objs: map[string][]byte{}, prev: map[string][]byte{}}
}

// client is the objectStore of one worker; Close does not stop the fake.
type fakeClient struct{ f *fakeBlobd }

func (f *fakeBlobd) dial(*chaos.Env, time.Duration) (objectStore, error) { return fakeClient{f}, nil }

func (c fakeClient) CreateBucket(context.Context, string) error { return nil }

func (c fakeClient) Put(_ context.Context, _, key string, body io.Reader, size int64) error {
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	if int64(len(b)) != size {
		return rpcerr.Error(rpcerr.IncompleteBody, "short body", nil)
	}
	f := c.f
	f.mu.Lock()
	defer f.mu.Unlock()
	f.puts++
	if f.bugs.loseKey != "" && strings.HasSuffix(key, f.bugs.loseKey) {
		return nil
	}
	if old, ok := f.objs[key]; ok {
		f.prev[key] = old
	}
	f.objs[key] = b
	return nil
}

func (c fakeClient) Get(_ context.Context, _, key string, w io.Writer) error {
	f := c.f
	f.mu.Lock()
	b, ok := f.objs[key]
	if p, has := f.prev[key]; has && f.bugs.stale {
		b = p
	}
	f.mu.Unlock()
	if !ok {
		return rpcerr.Error(rpcerr.ObjectNotFound, "no such key", nil)
	}
	switch {
	case f.bugs.truncate && len(b) > contentHeaderLen+1:
		b = b[:len(b)-1]
	case f.bugs.flip && len(b) > contentHeaderLen:
		b = bytes.Clone(b)
		b[len(b)-1] ^= 0xff
	}
	_, err := w.Write(b)
	return err
}

func (c fakeClient) Delete(_ context.Context, _, key string) error {
	f := c.f
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.objs, key)
	delete(f.prev, key)
	return nil
}

func (c fakeClient) List(_ context.Context, _, prefix string) ([]string, error) {
	f := c.f
	f.mu.Lock()
	defer f.mu.Unlock()
	var keys []string
	for k := range f.objs {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	if f.bugs.listSkip && len(keys) > 0 {
		keys = keys[1:]
	}
	return keys, nil
}

func (c fakeClient) Repair(context.Context) (RepairStatus, error) {
	return RepairStatus{Healthy: !c.f.bugs.unhealthy, Volumes: 4}, nil
}

func (c fakeClient) Close() error { return nil }

// runFake runs w against f for d, then the checkers, and returns their
// verdicts by name.
func runFake(t *testing.T, f *fakeBlobd, w *Blob, d time.Duration, checkers ...chaos.Checker) map[string]chaos.Verdict {
	t.Helper()
	w.dial = f.dial
	env := &chaos.Env{Seed: nodetest.Seed(t), Logger: nodetest.Logger(t), History: chaos.NewHistory(time.Now(), kinds),
		Timeline: &chaos.Timeline{}, Dir: t.TempDir(), Phase: d}
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

func TestWorkloadAgainstFake(t *testing.T) {
	for _, tc := range []struct {
		name string
		bugs fakeBugs
		fail string // the checker that must fail; "" if all must pass
		sub  string // in its first violation
	}{
		{name: "correct"},
		{name: "losing acknowledged PUTs", bugs: fakeBugs{loseKey: "/00002"}, fail: "objects", sub: "/00002"},
		{name: "returning partial objects", bugs: fakeBugs{truncate: true}, fail: "objects", sub: "partial object"},
		{name: "returning a wrong byte", bugs: fakeBugs{flip: true}, fail: "objects", sub: "wrong bytes"},
		{name: "serving replaced versions", bugs: fakeBugs{stale: true}, fail: "objects", sub: "stale read"},
		{name: "listings missing a key", bugs: fakeBugs{listSkip: true}, fail: "objects", sub: "listing miss"},
		{name: "never repaired", bugs: fakeBugs{unhealthy: true}, fail: "repair", sub: "not repaired"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := &Blob{MaxSize: 32 << 10, BigShare: -1, Overwrite: 0.3, Delete: 0.1, ReadEvery: time.Millisecond,
				WriteEvery: time.Millisecond, RepairEvery: 50 * time.Millisecond}
			vs := runFake(t, newFakeBlobd(tc.bugs), w, 800*time.Millisecond,
				&Objects{Workload: w}, &Repair{Workload: w, Base: 500 * time.Millisecond, Settle: 300 * time.Millisecond})
			for name, v := range vs {
				if want := name != tc.fail; v.Pass() != want {
					t.Errorf("%s: pass=%v, want %v: %s; %d violations %v %s", name, v.Pass(), want, v.Summary, v.Count, v.Violations, v.Err)
				}
				if name == tc.fail && v.Count > 0 && !strings.Contains(v.Violations[0], tc.sub) {
					t.Errorf("%s: first violation %q does not mention %q", name, v.Violations[0], tc.sub)
				}
			}
			if s := vs["objects"].Summary; strings.Contains(s, "final: 0 keys") || strings.Contains(s, "PUTs 0 acknowledged") {
				t.Errorf("objects summary %q: nothing was written or read back", s)
			}
		})
	}
}

func TestWriteOutcome(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want chaos.Outcome
	}{
		{nil, chaos.OK},
		{rpcerr.Error(rpcerr.OutcomeUnknown, "x", nil), chaos.Unknown},
		{rpcerr.Error(rpcerr.NotLeader, "x", nil), chaos.Fail},
		{rpcerr.Error(rpcerr.NoLeader, "x", nil), chaos.Fail},
		{rpcerr.Error(rpcerr.NotEnoughServers, "x", nil), chaos.Fail},
		{rpcerr.Error(rpcerr.BadDigest, "x", nil), chaos.Fail},
		{rpcerr.Error(rpcerr.DataUnavailable, "x", nil), chaos.Unknown},
		{status.Error(codes.Unavailable, "connection refused"), chaos.Unknown},
		{status.Error(codes.DeadlineExceeded, "deadline"), chaos.Unknown},
		{fmt.Errorf("put: %w", context.DeadlineExceeded), chaos.Unknown},
		{status.Error(codes.InvalidArgument, "bad key"), chaos.Fail},
		{errors.New("something"), chaos.Unknown},
	} {
		if got := writeOutcome(tc.err); got != tc.want {
			t.Errorf("writeOutcome(%v) = %s, want %s", tc.err, got, tc.want)
		}
	}
}
