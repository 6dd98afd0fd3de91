package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// Health values of NodeStatus.
const (
	HealthServing     = "SERVING"
	HealthNotServing  = "NOT_SERVING"
	HealthUnreachable = "unreachable"
	// HealthPaused is the Health (and Role) of a paused node: it is not probed.
	HealthPaused = "paused"
)

// probeTimeout bounds one probe RPC.
const probeTimeout = 2 * time.Second

// NodeStatus is what Status observed about one node.
type NodeStatus struct {
	Name      string `json:"name"`
	Service   string `json:"service"`
	PID       int    `json:"pid"` // 0 when stopped
	GRPCAddr  string `json:"grpc_addr"`
	AdminAddr string `json:"admin_addr"`
	// Ports holds the addresses of the node's extra ports by name (cached's
	// "resp").
	Ports map[string]string `json:"ports,omitempty"`
	// Role is the node's answer to its service's role probe ("leader",
	// "follower", "candidate", ...), "" when unknown or not applicable.
	Role string `json:"role"`
	// Health is the grpc.health.v1 status of service "": SERVING, NOT_SERVING or
	// unreachable (also for nodes that are not running).
	Health string `json:"health"`
	// Alive says the recorded process exists and is not a zombie.
	Alive bool `json:"alive"`
	// Paused says the node is paused (Cluster.Pause); Health and Role are then
	// HealthPaused.
	Paused bool `json:"paused,omitempty"`
	// Leader is the leader this node knows of ("" if none or not applicable).
	Leader string `json:"-"`
	// Err is why the last probe failed, for messages.
	Err error `json:"-"`
}

// Status reports every node of the state file, in state order: process liveness
// from its pid, gRPC health and, where the service has roles, the node's role.
// Nodes are probed in parallel, each probe bounded by ctx and a short timeout.
// A node that is down is reported, not an error; a paused node is reported
// paused without a probe.
func (c *Cluster) Status(ctx context.Context) ([]NodeStatus, error) {
	return probeAll(ctx, c.refresh())
}

// probeAll probes the nodes of s in parallel.
// The probes dial with the cluster's client certificate (State.TLS), or in
// plaintext for an insecure cluster.
func probeAll(ctx context.Context, s State) ([]NodeStatus, error) {
	out := make([]NodeStatus, len(s.Nodes))
	creds := insecure.NewCredentials()
	tc, tlsErr := s.ClientTLS()
	if tc != nil {
		creds = credentials.NewTLS(tc)
	}
	var wg sync.WaitGroup
	for i, n := range s.Nodes {
		paused := s.paused(n.Name)
		wg.Go(func() { out[i] = probeNode(ctx, n, paused, creds, tlsErr) })
	}
	wg.Wait()
	return out, ctx.Err()
}

// probeNode observes one node, dialing it with creds; a non-nil tlsErr (the
// cluster's client certificate cannot be loaded) fails the probe.
func probeNode(ctx context.Context, n NodeState, paused bool, creds credentials.TransportCredentials, tlsErr error) NodeStatus {
	st := NodeStatus{
		Name: n.Name, Service: n.Service, PID: n.PID,
		GRPCAddr: n.GRPCAddr, AdminAddr: n.AdminAddr, Ports: n.Ports,
		Health: HealthUnreachable,
	}
	st.Alive = processAlive(n.PID, n.StartTicks)
	if !st.Alive {
		st.Err = fmt.Errorf("not running")
		return st
	}
	if paused {
		st.Paused, st.Health, st.Role = true, HealthPaused, HealthPaused
		return st
	}
	if tlsErr != nil {
		st.Err = tlsErr
		return st
	}
	conn, err := grpc.NewClient(n.GRPCAddr, grpc.WithTransportCredentials(creds))
	if err != nil {
		st.Err = err
		return st
	}
	defer conn.Close()

	pctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	resp, err := healthpb.NewHealthClient(conn).Check(pctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		st.Err = err
		return st
	}
	if resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
		st.Health = HealthServing
	} else {
		st.Health = HealthNotServing
	}
	if svc, ok := LookupService(n.Service); ok && svc.Role != nil {
		ri, err := svc.Role(pctx, conn)
		if err != nil {
			st.Err = fmt.Errorf("role probe: %w", err)
			return st
		}
		st.Role, st.Leader = ri.Role, ri.Leader
	}
	return st
}

// agreedLeader returns the leader the reachable live nodes of service agree on:
// every one names the same leader, and that node, and only it, says it leads.
// When strict, every live node must also be SERVING and have answered.
func agreedLeader(statuses []NodeStatus, service string, strict bool) (string, error) {
	var leader string
	var leaders, views []string
	seen := false
	for _, st := range statuses {
		if st.Service != service || !st.Alive || st.Paused {
			continue
		}
		if st.Health == HealthUnreachable || st.Err != nil || (strict && st.Health != HealthServing) {
			if strict {
				return "", fmt.Errorf("%w for %s: %s is %s (%v)", ErrNoLeader, service, st.Name, st.Health, st.Err)
			}
			continue
		}
		if st.Role == "leader" {
			leaders = append(leaders, st.Name)
		}
		views = append(views, st.Name+"→"+orDash(st.Leader))
		if !seen {
			leader, seen = st.Leader, true
		} else if st.Leader != leader {
			leader = ""
		}
	}
	switch {
	case !seen:
		return "", fmt.Errorf("%w for %s: no live node answers", ErrNoLeader, service)
	case leader == "":
		return "", fmt.Errorf("%w for %s: nodes see leaders %s", ErrNoLeader, service, strings.Join(views, ", "))
	case len(leaders) != 1 || leaders[0] != leader:
		return "", fmt.Errorf("%w for %s: nodes see %s but %s claim leadership", ErrNoLeader, service, leader, orDash(strings.Join(leaders, ", ")))
	}
	return leader, nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Leader returns the name of the node that the reachable live nodes of a
// replicated service agree leads it, or an error wrapping ErrNoLeader. It does
// not wait; see WaitReady.
func (c *Cluster) Leader(ctx context.Context, service string) (string, error) {
	svc, ok := LookupService(service)
	if !ok {
		return "", fmt.Errorf("%w %q", ErrUnknownService, service)
	}
	if !svc.Replicated {
		return "", fmt.Errorf("cluster: %s has no leader", service)
	}
	statuses, err := c.Status(ctx)
	if err != nil {
		return "", err
	}
	return agreedLeader(statuses, service, false)
}

// readiness checks once whether the nodes in names (all nodes if nil) are ready.
// It returns an error wrapping ErrNodeExited if one should run but does not.
func (c *Cluster) readiness(ctx context.Context, names []string) error {
	s := c.refresh()
	statuses, err := probeAll(ctx, s)
	if err != nil {
		return err
	}
	services := map[string]bool{}
	for i, st := range statuses {
		if names != nil && !slices.Contains(names, st.Name) {
			continue
		}
		n := s.Nodes[i] // probeAll reports in state order
		if n.PID == 0 {
			if names != nil {
				return fmt.Errorf("%w: %s is stopped", ErrNodeExited, st.Name)
			}
			continue // stopped on purpose
		}
		if st.Paused {
			if names != nil {
				return fmt.Errorf("%s is paused", st.Name)
			}
			continue // paused on purpose
		}
		if !st.Alive {
			if !c.stillRecorded(n) {
				// A concurrent Kill, Stop or Restart is changing this node.
				return fmt.Errorf("%s: being stopped or started", st.Name)
			}
			tail := tailFile(n.LogFile, 5)
			if tail != "" {
				tail = ":\n" + tail
			}
			return fmt.Errorf("%w: %s (pid %d); log %s%s", ErrNodeExited, st.Name, st.PID, n.LogFile, tail)
		}
		if st.Health != HealthServing {
			return fmt.Errorf("%s: health %s (%v)", st.Name, st.Health, st.Err)
		}
		services[st.Service] = true
	}
	if names != nil {
		return nil
	}
	for name := range services {
		if svc, ok := LookupService(name); ok && svc.Replicated {
			if _, err := agreedLeader(statuses, name, true); err != nil {
				return err
			}
		}
	}
	return nil
}

// waitFor polls check with backoff until it succeeds, fails in a way waiting
// cannot fix (ErrNodeExited, unknown names), or ctx ends. The error on timeout
// names the last thing check found wrong: a check cut short by the deadline
// itself does not hide what the one before it saw. Each failed check is logged
// at debug level ("waiting", with what and the check's error as last).
func waitFor(ctx context.Context, logger *slog.Logger, what string, check func() error) error {
	wait := 50 * time.Millisecond
	var last error
	for {
		err := check()
		if err == nil {
			return nil
		}
		if errors.Is(err, ErrNodeExited) || errors.Is(err, ErrUnknownNode) || errors.Is(err, ErrUnknownService) {
			return err
		}
		if last == nil || ctx.Err() == nil {
			last = err
			logger.Debug("waiting", "what", what, "last", err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("cluster: %s: %w; last: %v", what, ctx.Err(), last)
		case <-t.C:
		}
		wait = min(2*wait, 500*time.Millisecond)
	}
}

// WaitReady waits, polling with backoff within ctx, until every node that should
// run (pid recorded) is alive and SERVING and, for each replicated service, all
// its live nodes agree on exactly one leader. Nodes stopped or paused on purpose
// are skipped. It fails early, with ErrNodeExited and the end of the node's log, when
// a node that should run has exited.
func (c *Cluster) WaitReady(ctx context.Context) error {
	return waitFor(ctx, c.logger, "cluster not ready", func() error { return c.readiness(ctx, nil) })
}

// WaitNode waits, within ctx, until the named node is alive and SERVING.
func (c *Cluster) WaitNode(ctx context.Context, name string) error {
	s := c.refresh()
	if _, err := lookup(&s, name); err != nil {
		return err
	}
	return waitFor(ctx, c.logger, name+" not serving", func() error { return c.readiness(ctx, []string{name}) })
}

// WaitLeader waits, within ctx, until the reachable live nodes of service agree
// on a leader, and returns it.
func (c *Cluster) WaitLeader(ctx context.Context, service string) (string, error) {
	var leader string
	err := waitFor(ctx, c.logger, "no leader for "+service, func() error {
		l, err := c.Leader(ctx, service)
		leader = l
		return err
	})
	return leader, err
}

// stillRecorded reports whether the state file, read under the directory lock so
// that no command is half done, still records n's process.
func (c *Cluster) stillRecorded(n NodeState) bool {
	l, err := lockDir(c.dir, lockTimeout)
	if err != nil {
		return true
	}
	defer l.unlock()
	s, err := LoadState(c.dir)
	if err != nil {
		return true
	}
	cur, ok := s.Node(n.Name)
	return ok && cur.PID == n.PID && cur.StartTicks == n.StartTicks
}
