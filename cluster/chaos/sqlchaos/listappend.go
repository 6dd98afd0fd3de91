package sqlchaos

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"cairn.dev/cairn/cluster/chaos"
)

// The operation kinds of the list-append workload. Value holds the
// transaction's micro-ops (EncodeMops), with the reads' results when the
// transaction committed.
const (
	// KindAppendTxn is a transaction with at least one append.
	KindAppendTxn chaos.OpKind = "append-txn"
	// KindReadTxn is a read-only transaction.
	KindReadTxn chaos.OpKind = "read-txn"
)

// listAppendKinds classifies the list-append workload's kinds.
var listAppendKinds = chaos.Kinds{KindAppendTxn: chaos.ClassWrite, KindReadTxn: chaos.ClassRead}

// errMalformed starts the error of a transaction that read a list it could
// not parse; the checker reports such transactions as garbage reads.
var errMalformed = errors.New("malformed list")

// ListAppend is Elle's list-append workload: each key is a row (k INT
// PRIMARY KEY, v TEXT) holding a comma-separated list of integers, and each
// SERIALIZABLE transaction runs 1..MaxMops micro-ops on Keys active keys:
// append a unique element (UPDATE … SET v = v || ',e', then INSERT when
// the key has no row yet; or INSERT … ON CONFLICT (k) DO UPDATE), or read
// the list. A key takes at most MaxWritesPerKey appends before a fresh key
// replaces it, which keeps the version orders short.
type ListAppend struct {
	// Clients is the number of concurrent clients; default 6.
	Clients int
	// Keys is the number of keys in use at once; default 5.
	Keys int
	// MaxMops bounds the micro-ops of a transaction; default 4.
	MaxMops int
	// MaxWritesPerKey is the appends a key takes before it retires; default 32.
	MaxWritesPerKey int
	// Table names the lists table; default "la_lists".
	Table string
	// Timeout bounds each transaction; default 3s.
	Timeout time.Duration
	// Dial connects the clients; default ClusterDialer.
	Dial Dialer
	// ClientBase is added to the client numbers in the history.
	ClientBase int
	// Isolation is the transactions' isolation level; default (and the only
	// one the checker accepts) SERIALIZABLE. A weaker level shows that the
	// checker catches its anomalies.
	Isolation pgx.TxIsoLevel

	mu       sync.Mutex  // protects the fields below
	active   []int       // the keys in use
	writes   map[int]int // appends generated per active key
	nextKey  int
	nextElem int
}

// Name implements chaos.Workload.
func (w *ListAppend) Name() string { return "list-append" }

// Kinds implements chaos.Workload.
func (w *ListAppend) Kinds() chaos.Kinds { return listAppendKinds }

// listAppendConfig is a ListAppend's configuration with defaults applied.
type listAppendConfig struct {
	clients, keys, maxMops, maxWrites int
	table, rawTable                   string
	timeout                           time.Duration
	dial                              Dialer
	clientBase                        int
	isolation                         pgx.TxIsoLevel
}

func (w *ListAppend) config() listAppendConfig {
	c := listAppendConfig{clients: w.Clients, keys: w.Keys, maxMops: w.MaxMops, maxWrites: w.MaxWritesPerKey,
		rawTable: w.Table, timeout: w.Timeout, dial: w.Dial.orDefault(), clientBase: w.ClientBase, isolation: w.Isolation}
	if c.clients <= 0 {
		c.clients = 6
	}
	if c.keys <= 0 {
		c.keys = 5
	}
	if c.maxMops <= 0 {
		c.maxMops = 4
	}
	if c.maxWrites <= 0 {
		c.maxWrites = 32
	}
	if c.rawTable == "" {
		c.rawTable = "la_lists"
	}
	if c.timeout <= 0 {
		c.timeout = 3 * time.Second
	}
	c.table = pgx.Identifier{c.rawTable}.Sanitize()
	return c
}

// Run implements chaos.Workload: it creates the table afresh, then runs the
// clients until ctx ends.
func (w *ListAppend) Run(ctx context.Context, env *chaos.Env) error {
	cfg := w.config()
	w.mu.Lock()
	w.active, w.writes, w.nextKey, w.nextElem = nil, map[int]int{}, 0, 0
	for range cfg.keys {
		w.active = append(w.active, w.nextKey)
		w.nextKey++
	}
	w.mu.Unlock()
	err := setup(ctx, env, cfg.dial, "create "+cfg.rawTable, func(ctx context.Context, conn *pgx.Conn) error {
		return execAll(ctx, conn,
			"DROP TABLE IF EXISTS "+cfg.table,
			"CREATE TABLE "+cfg.table+" (k INT PRIMARY KEY, v TEXT NOT NULL)",
		)
	})
	if err != nil {
		return err
	}
	runClients(env, w.Name(), cfg.dial, cfg.clients, cfg.clientBase, func(id int, s *session, rng *rand.Rand) {
		w.client(ctx, env, cfg, id, s, rng)
	})
	return nil
}

// generate draws the micro-ops of the next transaction.
func (w *ListAppend) generate(cfg listAppendConfig, rng *rand.Rand) []Mop {
	w.mu.Lock()
	defer w.mu.Unlock()
	mops := make([]Mop, 1+rng.IntN(cfg.maxMops))
	for i := range mops {
		slot := rng.IntN(len(w.active))
		k := w.active[slot]
		if rng.IntN(2) == 0 {
			mops[i] = Mop{Key: k}
			continue
		}
		mops[i] = Append(k, w.nextElem)
		w.nextElem++
		w.writes[k]++
		if w.writes[k] >= cfg.maxWrites {
			delete(w.writes, k)
			w.active[slot] = w.nextKey
			w.nextKey++
		}
	}
	return mops
}

// client is the loop of one client.
func (w *ListAppend) client(ctx context.Context, env *chaos.Env, cfg listAppendConfig, id int, s *session, rng *rand.Rand) {
	h := env.History
	for ctx.Err() == nil {
		conn, err := s.get(ctx)
		if err != nil {
			return
		}
		mops := w.generate(cfg, rng)
		kind := KindReadTxn
		for _, m := range mops {
			if m.Append {
				kind = KindAppendTxn
			}
		}
		upsert := rng.IntN(2) == 0
		rctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
		op := h.Invoke(chaos.Op{Client: id, Via: s.via, Kind: kind, Value: EncodeMops(mops)})
		done := make([]Mop, len(mops))
		outcome, err := runTxn(rctx, conn, cfg.isolation, func(tx pgx.Tx) error {
			for i, m := range mops {
				r, err := runMop(rctx, tx, cfg.table, m, upsert)
				if err != nil {
					return err
				}
				done[i] = r
			}
			return nil
		})
		if errors.Is(err, errMalformed) {
			env.Logger.Error("sqlchaos: list-append read a malformed list", "op", op, "err", err)
		}
		if kind == KindReadTxn && outcome == chaos.Unknown {
			outcome = chaos.Fail // a read-only transaction changes nothing
		}
		h.Complete(op, outcome, err, func(o *chaos.Op) {
			if outcome == chaos.OK {
				o.Value = EncodeMops(done)
			}
		})
		cancel()
		s.afterOp()
		backoff(ctx, err)
	}
}

// runMop runs one micro-op inside tx and returns it with its result.
func runMop(ctx context.Context, tx pgx.Tx, table string, m Mop, upsert bool) (Mop, error) {
	if !m.Append {
		var v string
		err := tx.QueryRow(ctx, "SELECT v FROM "+table+" WHERE k = $1", m.Key).Scan(&v)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			v = ""
		case err != nil:
			return m, err
		}
		list, err := splitInts(v)
		if err != nil {
			return m, fmt.Errorf("%w: key %d holds %q: %v", errMalformed, m.Key, v, err)
		}
		m.Read, m.Done = list, true
		return m, nil
	}
	e := fmt.Sprint(m.Elem)
	if upsert {
		_, err := tx.Exec(ctx, "INSERT INTO "+table+" (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = "+table+".v || $3", m.Key, e, ","+e)
		return m, err
	}
	tag, err := tx.Exec(ctx, "UPDATE "+table+" SET v = v || $1 WHERE k = $2", ","+e, m.Key)
	if err != nil || tag.RowsAffected() > 0 {
		return m, err
	}
	_, err = tx.Exec(ctx, "INSERT INTO "+table+" (k, v) VALUES ($1, $2)", m.Key, e)
	return m, err
}
