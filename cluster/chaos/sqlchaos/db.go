package sqlchaos

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"cairn.dev/cairn/cluster/chaos"
)

// Dialer opens the connection of client number client of a workload (or of a
// checker, which uses client -1). via names the node the connection is pinned
// to, for the history ("" when it is not pinned to a node).
type Dialer func(ctx context.Context, env *chaos.Env, client int) (conn *pgx.Conn, via string, err error)

// checkerDials counts the dials of checkers and set-ups, which take the nodes
// in turn.
var checkerDials atomic.Int64

// dialTimeout bounds the connection set-up of a client.
const dialTimeout = 3 * time.Second

// ClusterDialer connects client i to node i modulo the node count of the
// service under test, at the node's sqlURL; a checker (client -1) dials the
// nodes in turn, one per call, so that its retries reach every node. It is
// the workloads' default.
func ClusterDialer(ctx context.Context, env *chaos.Env, client int) (*pgx.Conn, string, error) {
	nodes := env.Nodes()
	if len(nodes) == 0 {
		return nil, "", errors.New("sqlchaos: the cluster has no node of the service under test")
	}
	pick := client
	if pick < 0 {
		pick = int(checkerDials.Add(1) - 1)
	}
	node := nodes[pick%len(nodes)]
	u, err := sqlURL(env, node)
	if err != nil {
		return nil, node, err
	}
	conn, err := connect(ctx, u)
	return conn, node, err
}

// URLDialer returns a Dialer that connects every client to url (a real
// PostgreSQL server, say).
func URLDialer(url string) Dialer {
	return func(ctx context.Context, _ *chaos.Env, _ int) (*pgx.Conn, string, error) {
		conn, err := connect(ctx, url)
		return conn, "", err
	}
}

// connect opens one connection to url, its set-up bounded by dialTimeout.
func connect(ctx context.Context, url string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("sqlchaos: %w", err)
	}
	cfg.ConnectTimeout = dialTimeout
	ctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	return pgx.ConnectConfig(ctx, cfg)
}

// orDefault returns d, or ClusterDialer when d is nil.
func (d Dialer) orDefault() Dialer {
	if d == nil {
		return ClusterDialer
	}
	return d
}

// session is one client's connection, dialled again after it breaks. It is
// used by one goroutine.
type session struct {
	env    *chaos.Env
	dial   Dialer
	client int
	conn   *pgx.Conn
	via    string
}

// get returns the open connection, dialling one if there is none; it waits
// retryPause between failed dials and gives up when ctx ends.
func (s *session) get(ctx context.Context) (*pgx.Conn, error) {
	if s.conn != nil && !s.conn.IsClosed() {
		return s.conn, nil
	}
	s.close()
	for {
		conn, via, err := s.dial(ctx, s.env, s.client)
		if via != "" {
			s.via = via
		}
		if err == nil {
			s.conn = conn
			return conn, nil
		}
		s.env.Logger.Debug("sqlchaos: dial", "client", s.client, "via", via, "err", err)
		if !chaos.Hold(ctx, retryPause) {
			return nil, err
		}
	}
}

// retryPause is how long a client waits before dialling again, and before
// retrying a setup step.
const retryPause = 100 * time.Millisecond

// close closes the connection, if any.
func (s *session) close() {
	if s.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = s.conn.Close(ctx)
		cancel()
		s.conn = nil
	}
}

// afterOp drops the connection when the operation broke it (pgx closes a
// connection whose context ended mid-statement) or left it inside a
// transaction.
func (s *session) afterOp() {
	if s.conn == nil {
		return
	}
	if s.conn.IsClosed() || s.conn.PgConn().TxStatus() != 'I' {
		s.close()
	}
}

// runClients runs n clients (ids base..base+n-1) of workload name at once,
// each with its own session and random stream, and waits for them.
func runClients(env *chaos.Env, name string, dial Dialer, n, base int, client func(id int, s *session, rng *rand.Rand)) {
	var wg sync.WaitGroup
	for i := range n {
		id := base + i
		s := &session{env: env, dial: dial, client: id}
		rng := env.Rand(chaos.Stream(name, id))
		wg.Go(func() {
			defer s.close()
			client(id, s, rng)
		})
	}
	wg.Wait()
}

// execAll runs statements in order on conn, naming the one that failed.
func execAll(ctx context.Context, conn *pgx.Conn, stmts ...string) error {
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}
