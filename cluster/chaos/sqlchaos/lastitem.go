package sqlchaos

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"cairn.dev/cairn/cluster/chaos"
)

// KindBuy is one attempt to buy the last item of a product: Key is the
// product id, Value the order id the buy inserts. OK means the client bought
// the item; Fail that it did not (sold out, said by Err, or aborted).
const KindBuy chaos.OpKind = "buy"

// lastItemKinds classifies the last-item workload's kinds.
var lastItemKinds = chaos.Kinds{KindBuy: chaos.ClassWrite}

// LastItem is the last-item workload: products are created with a stock of
// one, Batch at a time; every client tries to buy the current product, all
// at once, in a SERIALIZABLE transaction that decrements its stock and
// inserts an order row, and moves on to the next product once it sees the
// product sold out. Half the buys decrement with a conditional
// UPDATE … WHERE stock > 0, half read the stock with SELECT … FOR UPDATE and
// write the decremented value back.
type LastItem struct {
	// Clients is the number of concurrent clients; default 6.
	Clients int
	// Batch is how many products are created at a time; default 50.
	Batch int
	// Products and Orders name the tables; defaults "li_products",
	// "li_orders".
	Products, Orders string
	// Timeout bounds each transaction; default 3s.
	Timeout time.Duration
	// Dial connects the clients; default ClusterDialer.
	Dial Dialer
	// ClientBase is added to the client numbers in the history.
	ClientBase int

	mu       sync.Mutex // protects current and created
	current  int        // the product the clients are buying
	created  int        // products 0..created-1 exist
	creating sync.Mutex // held while a batch of products is created
}

// Name implements chaos.Workload.
func (w *LastItem) Name() string { return "last-item" }

// Kinds implements chaos.Workload.
func (w *LastItem) Kinds() chaos.Kinds { return lastItemKinds }

// lastItemConfig is the configuration of a LastItem with defaults applied.
type lastItemConfig struct {
	clients, batch         int
	products, orders       string // sanitized identifiers
	rawProducts, rawOrders string
	timeout                time.Duration
	dial                   Dialer
	clientBase             int
}

func (w *LastItem) config() lastItemConfig {
	c := lastItemConfig{clients: w.Clients, batch: w.Batch, rawProducts: w.Products, rawOrders: w.Orders,
		timeout: w.Timeout, dial: w.Dial.orDefault(), clientBase: w.ClientBase}
	if c.clients <= 0 {
		c.clients = 6
	}
	if c.batch <= 0 {
		c.batch = 50
	}
	if c.rawProducts == "" {
		c.rawProducts = "li_products"
	}
	if c.rawOrders == "" {
		c.rawOrders = "li_orders"
	}
	if c.timeout <= 0 {
		c.timeout = 3 * time.Second
	}
	c.products = pgx.Identifier{c.rawProducts}.Sanitize()
	c.orders = pgx.Identifier{c.rawOrders}.Sanitize()
	return c
}

// Run implements chaos.Workload: it creates the tables afresh, then runs the
// clients until ctx ends.
func (w *LastItem) Run(ctx context.Context, env *chaos.Env) error {
	cfg := w.config()
	w.mu.Lock()
	w.current, w.created = 0, 0
	w.mu.Unlock()
	err := setup(ctx, env, cfg.dial, "create "+cfg.rawProducts, func(ctx context.Context, conn *pgx.Conn) error {
		return execAll(ctx, conn,
			"DROP TABLE IF EXISTS "+cfg.orders,
			"DROP TABLE IF EXISTS "+cfg.products,
			"CREATE TABLE "+cfg.products+" (id INT PRIMARY KEY, stock INT NOT NULL CHECK (stock >= 0))",
			"CREATE TABLE "+cfg.orders+" (id TEXT PRIMARY KEY, product INT NOT NULL REFERENCES "+cfg.products+" (id), client INT NOT NULL)",
		)
	})
	if err != nil {
		return err
	}
	if err := w.ensure(ctx, env, cfg, 0); err != nil {
		return err
	}
	runClients(env, w.Name(), cfg.dial, cfg.clients, cfg.clientBase, func(id int, s *session, rng *rand.Rand) {
		w.client(ctx, env, cfg, id, s, rng)
	})
	return nil
}

// ensure makes product exist. The products are created Batch at a time,
// ahead of need: the client that reaches the last half of the created
// products creates the next batch (idempotently) unless another client is
// at it; a client whose product does not exist yet waits for its batch,
// retried until acknowledged.
func (w *LastItem) ensure(ctx context.Context, env *chaos.Env, cfg lastItemConfig, product int) error {
	created := w.createdCount()
	if product < created-cfg.batch/2 {
		return nil
	}
	needed := product >= created
	if needed {
		w.creating.Lock()
	} else if !w.creating.TryLock() {
		return nil // someone is creating the next batch already
	}
	defer w.creating.Unlock()
	created = w.createdCount()
	if product < created-cfg.batch/2 {
		return nil
	}
	var rows []string
	for id := created; id < created+cfg.batch; id++ {
		rows = append(rows, fmt.Sprintf("(%d, 1)", id))
	}
	stmt := "INSERT INTO " + cfg.products + " (id, stock) VALUES " + strings.Join(rows, ", ") + " ON CONFLICT (id) DO NOTHING"
	sctx := ctx
	if !needed {
		// Ahead of need, one attempt or two: the next client to come by
		// tries again.
		var cancel context.CancelFunc
		sctx, cancel = context.WithTimeout(ctx, 2*attemptTimeout)
		defer cancel()
	}
	err := setup(sctx, env, cfg.dial, "create products", func(ctx context.Context, conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, stmt)
		return err
	})
	if err != nil {
		if !needed {
			env.Logger.Debug("sqlchaos: last-item: create products ahead of need", "err", err)
			return nil
		}
		return err
	}
	w.mu.Lock()
	w.created = created + cfg.batch
	w.mu.Unlock()
	return nil
}

// createdCount returns how many products exist.
func (w *LastItem) createdCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.created
}

// soldOut marks a buy that found the product sold out.
var soldOut = errors.New("sold out")

// client is the loop of one client.
func (w *LastItem) client(ctx context.Context, env *chaos.Env, cfg lastItemConfig, id int, s *session, rng *rand.Rand) {
	h := env.History
	for n := 0; ctx.Err() == nil; n++ {
		w.mu.Lock()
		product := w.current
		w.mu.Unlock()
		if err := w.ensure(ctx, env, cfg, product); err != nil {
			if ctx.Err() == nil {
				env.Logger.Warn("sqlchaos: last-item: create products", "err", err)
			}
			return
		}
		conn, err := s.get(ctx)
		if err != nil {
			return
		}
		order := fmt.Sprintf("c%d-%d", id, n)
		forUpdate := rng.IntN(2) == 0
		rctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
		op := h.Invoke(chaos.Op{Client: id, Via: s.via, Kind: KindBuy, Key: strconv.Itoa(product), Value: order})
		outcome, err := runTxn(rctx, conn, "", func(tx pgx.Tx) error {
			return buy(rctx, tx, cfg, product, order, id, forUpdate)
		})
		h.Complete(op, outcome, err, nil)
		cancel()
		s.afterOp()
		backoff(ctx, err)
		if errors.Is(err, soldOut) || outcome == chaos.OK {
			w.mu.Lock()
			w.current = max(w.current, product+1)
			w.mu.Unlock()
		}
	}
}

// buy decrements product's stock and inserts order inside tx, or returns
// soldOut.
func buy(ctx context.Context, tx pgx.Tx, cfg lastItemConfig, product int, order string, client int, forUpdate bool) error {
	if forUpdate {
		var stock int
		err := tx.QueryRow(ctx, "SELECT stock FROM "+cfg.products+" WHERE id = $1 FOR UPDATE", product).Scan(&stock)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("product %d does not exist", product)
		}
		if err != nil {
			return err
		}
		if stock < 1 {
			return soldOut
		}
		if _, err := tx.Exec(ctx, "UPDATE "+cfg.products+" SET stock = $1 WHERE id = $2", stock-1, product); err != nil {
			return err
		}
	} else {
		tag, err := tx.Exec(ctx, "UPDATE "+cfg.products+" SET stock = stock - 1 WHERE id = $1 AND stock > 0", product)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return soldOut
		}
	}
	_, err := tx.Exec(ctx, "INSERT INTO "+cfg.orders+" (id, product, client) VALUES ($1, $2, $3)", order, product, client)
	return err
}
