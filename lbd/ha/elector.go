package ha

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	lockdclient "cairn.dev/cairn/lockd/client"
	"cairn.dev/cairn/node/clusterconn"
)

// Config configures an Elector.
type Config struct {
	Client   *lockdclient.Client
	Election string
	// Node is this node's name, published as the leader's value.
	Node string
	// TTL is the lockd session's: a crashed active node is replaced within
	// about TTL. Default 3s.
	TTL time.Duration
	// Active runs while this node leads; its ctx ends when leadership is
	// lost (or Run's ctx ends). It should return soon after ctx ends; the
	// node resigns only after it returned.
	Active func(ctx context.Context)
	Logger *slog.Logger
}

// Elector campaigns for a lockd election and runs Config.Active while it
// leads. Its methods are safe for concurrent use.
type Elector struct {
	cfg Config

	mu     sync.Mutex // guards the fields below
	active bool
	since  time.Time
	leader string
}

// New returns an Elector for cfg.
func New(cfg Config) *Elector {
	if cfg.TTL == 0 {
		cfg.TTL = 3 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Elector{cfg: cfg}
}

// Role is "active" while this node leads, else "standby".
func (e *Elector) Role() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.active {
		return "active"
	}
	return "standby"
}

// Leader names the active node as this node last saw it ("" if none), and
// since when this node has been active (zero unless it is).
func (e *Elector) Leader() (string, time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.leader, e.since
}

// Run campaigns until ctx ends: each round creates a session, waits to
// lead, runs Active until the session is lost, then resigns and starts
// over. Errors reaching lockd are retried with backoff; Run returns nil
// when ctx ends.
func (e *Elector) Run(ctx context.Context) error {
	obsCtx, stopObs := context.WithCancel(ctx)
	defer stopObs()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		e.observe(obsCtx)
	}()
	defer wg.Wait()
	var b clusterconn.Backoff
	for ctx.Err() == nil {
		if err := e.round(ctx); err != nil && ctx.Err() == nil {
			e.cfg.Logger.Warn("ha: election round failed", "election", e.cfg.Election, "err", err)
			if !b.Wait(ctx) {
				break
			}
			continue
		}
		b.Reset()
	}
	return nil
}

// observe keeps Leader current.
func (e *Elector) observe(ctx context.Context) {
	for o := range e.cfg.Client.Observe(ctx, e.cfg.Election) {
		name := ""
		if o.Leader != nil {
			name = string(o.Leader.Value)
		}
		e.mu.Lock()
		e.leader = name
		e.mu.Unlock()
	}
}

// round is one session's campaign and leadership.
func (e *Elector) round(ctx context.Context) error {
	s, err := e.cfg.Client.NewSession(ctx, e.cfg.TTL)
	if err != nil {
		return fmt.Errorf("session: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.cfg.TTL)
		defer cancel()
		_ = s.Close(cctx)
	}()
	cctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	go func() { // a lost session ends the campaign too
		select {
		case <-s.Done():
			cancel()
		case <-cctx.Done():
		}
	}()
	leader, err := s.Campaign(cctx, e.cfg.Election, []byte(e.cfg.Node))
	if err != nil {
		cancel()
		if errors.Is(err, context.Canceled) && ctx.Err() == nil {
			return fmt.Errorf("session lost while campaigning: %v", s.Err())
		}
		return fmt.Errorf("campaign: %w", err)
	}
	e.mu.Lock()
	e.active, e.since, e.leader = true, time.Now(), e.cfg.Node
	e.mu.Unlock()
	e.cfg.Logger.Info("ha: active", "election", e.cfg.Election, "token", leader.Token)
	e.cfg.Active(cctx)
	cancel()
	e.mu.Lock()
	e.active, e.since = false, time.Time{}
	e.mu.Unlock()
	e.cfg.Logger.Info("ha: no longer active", "election", e.cfg.Election, "session_err", s.Err())
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), e.cfg.TTL)
	defer rcancel()
	_ = s.Resign(rctx, e.cfg.Election)
	return nil
}
