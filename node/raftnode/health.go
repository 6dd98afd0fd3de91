package raftnode

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Prober is implemented by a StateMachine that can check that it is
// responsive, typically by taking its own lock. Probe must return within
// ctx's deadline (an error when it could not tell in time) and must not block
// the state machine. Health calls it when the StateMachine implements it.
type Prober interface {
	Probe(ctx context.Context) error
}

// HealthReporter receives a member's health; *node.Server satisfies it.
type HealthReporter interface {
	// SetReady sets readiness: /readyz and the overall gRPC health status.
	SetReady(ready bool)
	// SetServingStatus sets the gRPC health status of one service.
	SetServingStatus(service string, serving bool)
}

// probeTimeout bounds a state machine probe: a lock held longer than this
// by anything but the apply in progress means the state machine is wedged.
const probeTimeout = time.Second

// ErrUnhealthy is wrapped by the errors of Health that are not a missing
// leader.
var ErrUnhealthy = errors.New("raftnode: state machine unresponsive")

// Health reports whether this member can serve its API now: nil, or an error
// saying why not. A member is healthy when
//
//   - it has started and not shut down, and its state machine has not failed;
//   - it knows a leader (itself or another member), or lost the one it knew
//     less than ElectionTimeout ago — the grace covers an ordinary election,
//     so health does not flap when leadership moves; before the first leader
//     is known a member is not healthy. The error then wraps ErrNoLeader;
//   - no state machine call (ApplyBatch, Restore) has been running for longer
//     than ApplyTimeout, and, when the StateMachine is a Prober, its probe
//     succeeds within a second. These errors wrap ErrUnhealthy.
//
// Health is safe for concurrent use; call it after Start. It records when a
// leader was last known, so the grace is measured from the latest call that
// saw one: call it regularly (ReportHealth does).
func (n *Node) Health(ctx context.Context) error {
	if !n.started.Load() {
		return errors.New("raftnode: not started")
	}
	if n.isClosed() {
		return ErrShutdown
	}
	if n.fsm.isFailed() {
		return fmt.Errorf("%w: it failed; the member left its group", ErrUnhealthy)
	}
	now := time.Now()
	if id, _ := n.Leader(); id != "" {
		n.leaderSeen.Store(now.UnixNano())
	} else {
		seen := n.leaderSeen.Load()
		if seen == 0 {
			return fmt.Errorf("%w: none known yet", ErrNoLeader)
		}
		if gone := now.Sub(time.Unix(0, seen)); gone > n.cfg.ElectionTimeout {
			return fmt.Errorf("%w: none known for %v (grace: election_timeout %v)", ErrNoLeader, gone.Round(time.Millisecond), n.cfg.ElectionTimeout)
		}
	}
	if d := n.fsm.busyFor(); d > n.cfg.ApplyTimeout {
		return fmt.Errorf("%w: a state machine call has run for %v (apply_timeout %v)", ErrUnhealthy, d.Round(time.Millisecond), n.cfg.ApplyTimeout)
	}
	if p, ok := n.fsm.sm.(Prober); ok {
		pctx, cancel := context.WithTimeout(ctx, probeTimeout)
		defer cancel()
		if err := p.Probe(pctx); err != nil {
			return fmt.Errorf("%w: probe: %w", ErrUnhealthy, err)
		}
	}
	return nil
}

// healthInterval is how often ReportHealth checks: a quarter of the election
// timeout, between 10ms and 250ms.
func (n *Node) healthInterval() time.Duration {
	return min(max(n.cfg.ElectionTimeout/4, 10*time.Millisecond), 250*time.Millisecond)
}

// ReportHealth keeps r in step with Health on a goroutine owned by the node:
// it checks at once and then every quarter election timeout (at most 250ms),
// and sets r's readiness and the gRPC health of every one of services to
// whether the member is healthy. Changes are logged with the reason.
//
// Call it once, after Start. The returned stop ends the reports and waits for
// the goroutine, so that nothing is reported after it returns: call it before
// marking the server not ready on shutdown. stop is idempotent; Close also
// ends the reports.
func (n *Node) ReportHealth(r HealthReporter, services ...string) (stop func()) {
	quit := make(chan struct{})
	done := make(chan struct{})
	var once sync.Once
	stop = func() {
		once.Do(func() { close(quit) })
		<-done
	}
	started := n.goFunc(func() {
		defer close(done)
		t := time.NewTicker(n.healthInterval())
		defer t.Stop()
		var known, healthy bool
		for {
			ctx, cancel := context.WithCancel(context.Background())
			go func() { // a probe in progress ends with the reports
				select {
				case <-quit:
				case <-n.stop:
				case <-ctx.Done():
				}
				cancel()
			}()
			err := n.Health(ctx)
			cancel()
			select {
			case <-quit:
				return
			case <-n.stop:
				return
			default:
			}
			if ok := err == nil; !known || ok != healthy {
				known, healthy = true, ok
				if ok {
					n.logger.Info("healthy: serving")
				} else {
					n.logger.Warn("unhealthy: not serving", "reason", err)
				}
				for _, svc := range services {
					r.SetServingStatus(svc, ok)
				}
				r.SetReady(ok)
			}
			select {
			case <-quit:
				return
			case <-n.stop:
				return
			case <-t.C:
			}
		}
	})
	if !started {
		close(done)
	}
	return stop
}

// isClosed reports whether Close has been called.
func (n *Node) isClosed() bool {
	select {
	case <-n.stop:
		return true
	default:
		return false
	}
}
