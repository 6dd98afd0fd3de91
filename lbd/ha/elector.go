package ha

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"syscall"
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
	// Addr is an address this node listens on while it lives (its gRPC
	// address), published with its name: the other nodes watch it and end
	// its leadership at once when a connection to it is refused (the
	// process is gone), instead of waiting for its session to expire.
	// Empty: takeover after a crash waits for the TTL.
	Addr string
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

	mu       sync.Mutex // guards the fields below
	active   bool
	since    time.Time
	leader   string
	session  uint64             // this node's leading session, 0 unless active
	token    uint64             // its leadership's fencing token (a Raft index)
	demote   context.CancelFunc // ends Active when lockd names another leader
	watching *leaderWatch       // the death watch on another node's leadership
}

// leaderWatch is a running death watch on one leadership.
type leaderWatch struct {
	session uint64
	cancel  context.CancelFunc
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

// observe keeps Leader current, ends this node's Active when lockd names
// another leader (a standby ended its leadership), and watches another
// leader's address for its death.
func (e *Elector) observe(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	defer e.stopWatch()
	for o := range e.cfg.Client.Observe(ctx, e.cfg.Election) {
		name, addr := "", ""
		if o.Leader != nil {
			name, addr = parseValue(o.Leader.Value)
		}
		e.mu.Lock()
		e.leader = name
		// Observations older than this node's leadership are stale.
		if e.active && o.Index > e.token && (o.Leader == nil || o.Leader.Session != e.session) && e.demote != nil {
			e.cfg.Logger.Warn("ha: lockd names another leader; stepping down", "election", e.cfg.Election, "leader", name)
			e.demote()
		}
		watch := o.Leader != nil && o.Leader.Session != e.session && addr != "" && name != e.cfg.Node
		same := e.watching != nil && o.Leader != nil && e.watching.session == o.Leader.Session
		e.mu.Unlock()
		if same {
			continue
		}
		e.stopWatch()
		if watch {
			wctx, cancel := context.WithCancel(ctx)
			l := o.Leader
			e.mu.Lock()
			e.watching = &leaderWatch{session: l.Session, cancel: cancel}
			e.mu.Unlock()
			wg.Go(func() { e.watchDeath(wctx, name, addr, l.Session) })
		}
	}
}

func (e *Elector) stopWatch() {
	e.mu.Lock()
	w := e.watching
	e.watching = nil
	e.mu.Unlock()
	if w != nil {
		w.cancel()
	}
}

// value is what this node publishes as leader: "<node> <addr>".
func (e *Elector) value() []byte {
	if e.cfg.Addr == "" {
		return []byte(e.cfg.Node)
	}
	return []byte(e.cfg.Node + " " + e.cfg.Addr)
}

// parseValue splits a leader's value into its node name and address.
func parseValue(v []byte) (name, addr string) {
	name, addr, _ = strings.Cut(string(v), " ")
	return name, addr
}

// deathConfirm is the pause between the two refused connections that
// declare a node dead.
const deathConfirm = 20 * time.Millisecond

// watchDeath holds a connection to the leader's address and, when it
// breaks and a new connection is refused twice, ends the leader's
// leadership (lockd's Resign on its session), so this node's campaign
// wins at once instead of after the dead node's session TTL. A refused
// connection means no process listens there: the leader is gone. Any other
// failure (a timeout: the host may be unreachable, not dead) is left to the
// session TTL.
func (e *Elector) watchDeath(ctx context.Context, name, addr string, session uint64) {
	d := net.Dialer{Timeout: time.Second}
	refused := 0
	for ctx.Err() == nil {
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			refused = 0
			stop := context.AfterFunc(ctx, func() { conn.Close() })
			_, _ = io.Copy(io.Discard, conn) // returns when the connection breaks
			stop()
			conn.Close()
			continue
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			refused = 0
			if !sleep(ctx, 500*time.Millisecond) {
				return
			}
			continue
		}
		if refused++; refused < 2 {
			if !sleep(ctx, deathConfirm) {
				return
			}
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, e.cfg.TTL)
		err = e.cfg.Client.ResignFor(rctx, session, e.cfg.Election)
		cancel()
		if err == nil {
			e.cfg.Logger.Warn("ha: the active node is gone (connection refused); ended its leadership", "election", e.cfg.Election, "leader", name, "addr", addr)
			return
		}
		e.cfg.Logger.Warn("ha: ending a dead node's leadership failed; its session will expire", "leader", name, "err", err)
		if !sleep(ctx, 500*time.Millisecond) {
			return
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
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
	leader, err := s.Campaign(cctx, e.cfg.Election, e.value())
	if err != nil {
		cancel()
		if errors.Is(err, context.Canceled) && ctx.Err() == nil {
			return fmt.Errorf("session lost while campaigning: %v", s.Err())
		}
		return fmt.Errorf("campaign: %w", err)
	}
	e.mu.Lock()
	e.active, e.since, e.leader, e.session, e.token, e.demote = true, time.Now(), e.cfg.Node, s.ID(), leader.Token, cancel
	e.mu.Unlock()
	e.cfg.Logger.Info("ha: active", "election", e.cfg.Election, "token", leader.Token)
	e.cfg.Active(cctx)
	cancel()
	e.mu.Lock()
	e.active, e.since, e.session, e.demote = false, time.Time{}, 0, nil
	e.mu.Unlock()
	e.cfg.Logger.Info("ha: no longer active", "election", e.cfg.Election, "session_err", s.Err())
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), e.cfg.TTL)
	defer rcancel()
	_ = s.Resign(rctx, e.cfg.Election)
	return nil
}
