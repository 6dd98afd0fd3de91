package clusterconn

import (
	"context"
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"cairn.dev/cairn/node/nodetest"
)

// leaderService is the health service name a member reports SERVING for
// while it plays leader.
const leaderService = "leader"

// lead makes m play leader, or stop playing it.
func (m *member) lead(yes bool) {
	st := healthpb.HealthCheckResponse_NOT_SERVING
	if yes {
		st = healthpb.HealthCheckResponse_SERVING
	}
	m.health.SetServingStatus(leaderService, st)
}

// isLeaderProbe asks the member the context is pinned to whether it leads.
func isLeaderProbe(c *Conn) func(ctx context.Context) (bool, error) {
	return func(ctx context.Context) (bool, error) {
		resp, err := healthpb.NewHealthClient(c.ClientConn()).Check(ctx, &healthpb.HealthCheckRequest{Service: leaderService}, grpc.WaitForReady(true))
		return resp.GetStatus() == healthpb.HealthCheckResponse_SERVING, err
	}
}

// waitLeader polls until c follows want ("" for none).
func waitLeader(t *testing.T, c *Conn, want string) {
	t.Helper()
	nodetest.WaitFor(t, 30*time.Second, fmt.Sprintf("Leader() to be %q", want), func() bool { return c.Leader() == want })
}

func TestFollowLeaderSendsEveryCallToTheLeader(t *testing.T) {
	ms := []*member{startMember(t), startMember(t), startMember(t)}
	// The dial timeout bounds each round of questions, one to a stopped member
	// too. A round in which the leader's answer misses it forgets the leader
	// and sends calls elsewhere, so it is generous for a loaded machine; it
	// only delays noticing the stopped leader at the end.
	c := dial(t, Config{Endpoints: []string{ms[0].addr, ms[1].addr, ms[2].addr}, DialTimeout: 2 * time.Second})
	ms[1].lead(true)
	c.FollowLeader(isLeaderProbe(c), 20*time.Millisecond)
	waitLeader(t, c, ms[1].addr)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	before := []int64{ms[0].calls.Load(), ms[1].calls.Load(), ms[2].calls.Load()}
	for range 30 {
		if err := check(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	for i, m := range ms {
		want := int64(0)
		if i == 1 {
			want = 30
		}
		if got := m.calls.Load() - before[i]; got != want {
			t.Errorf("member %d served %d calls, want %d", i, got, want)
		}
	}

	// Leadership moves: calls follow at the next question.
	ms[1].lead(false)
	ms[2].lead(true)
	waitLeader(t, c, ms[2].addr)

	// The leader stops: calls go to the others at once, and the leader is
	// forgotten when no member says it leads.
	ms[2].stop()
	for range 10 {
		if err := check(ctx, c); err != nil {
			t.Fatalf("a call after the leader stopped: %v", err)
		}
	}
	waitLeader(t, c, "")
}

func TestRoundRobinWithoutFollowLeader(t *testing.T) {
	ms := []*member{startMember(t), startMember(t), startMember(t)}
	c := dial(t, Config{Endpoints: []string{ms[0].addr, ms[1].addr, ms[2].addr}})
	ms[0].lead(true)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for ms[0].calls.Load() == 0 || ms[1].calls.Load() == 0 || ms[2].calls.Load() == 0 {
		if err := check(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if c.Leader() != "" {
		t.Errorf("Leader() = %q without FollowLeader", c.Leader())
	}
}

func TestWithEndpointPinsACall(t *testing.T) {
	a, b := startMember(t), startMember(t)
	c := dial(t, Config{Endpoints: []string{a.addr, b.addr}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hc := healthpb.NewHealthClient(c.ClientConn())
	for range 5 {
		if _, err := hc.Check(WithEndpoint(ctx, b.addr), &healthpb.HealthCheckRequest{}, grpc.WaitForReady(true)); err != nil {
			t.Fatal(err)
		}
	}
	if a.calls.Load() != 0 || b.calls.Load() != 5 {
		t.Errorf("calls a=%d b=%d, want 0 and 5", a.calls.Load(), b.calls.Load())
	}
	// A pinned call to a member that is not connected fails at once.
	_, err := hc.Check(WithEndpoint(ctx, "127.0.0.1:1"), &healthpb.HealthCheckRequest{})
	if status.Code(err) != codes.Unavailable {
		t.Errorf("pinned to an unknown endpoint: %v, want Unavailable", err)
	}
}

func TestFollowLeaderForMarkedSendsOnlyMarkedCallsToTheLeader(t *testing.T) {
	ms := []*member{startMember(t), startMember(t), startMember(t)}
	c := dial(t, Config{Endpoints: []string{ms[0].addr, ms[1].addr, ms[2].addr}, DialTimeout: 2 * time.Second})
	ms[2].lead(true)
	c.FollowLeaderForMarked(isLeaderProbe(c), 20*time.Millisecond)
	waitLeader(t, c, ms[2].addr)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	before := []int64{ms[0].calls.Load(), ms[1].calls.Load(), ms[2].calls.Load()}
	for range 20 {
		if err := check(ToLeader(ctx), c); err != nil {
			t.Fatal(err)
		}
	}
	for i, m := range ms {
		want := int64(0)
		if i == 2 {
			want = 20
		}
		if got := m.calls.Load() - before[i]; got != want {
			t.Errorf("marked calls: member %d served %d, want %d", i, got, want)
		}
	}

	// Unmarked calls still go round robin: every member serves some.
	before = []int64{ms[0].calls.Load(), ms[1].calls.Load(), ms[2].calls.Load()}
	for ms[0].calls.Load() == before[0] || ms[1].calls.Load() == before[1] {
		if err := check(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAFailedCallMakesTheConnLookForTheLeaderAtOnce(t *testing.T) {
	ms := []*member{startMember(t), startMember(t)}
	c := dial(t, Config{Endpoints: []string{ms[0].addr, ms[1].addr}, DialTimeout: 2 * time.Second})
	ms[0].lead(true)
	// An hour between regular questions: only a failed call can make the
	// Conn ask again.
	c.FollowLeaderForMarked(isLeaderProbe(c), time.Hour)
	waitLeader(t, c, ms[0].addr)

	ms[0].lead(false)
	ms[1].lead(true)
	ms[0].stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := check(ToLeader(ctx), c); err != nil {
		t.Fatalf("a marked call after the leader stopped: %v", err)
	}
	waitLeader(t, c, ms[1].addr)
}
