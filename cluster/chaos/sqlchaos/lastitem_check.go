package sqlchaos

import (
	"context"
	"fmt"
	"sort"
	"strconv"

	"github.com/jackc/pgx/v5"

	"cairn.dev/cairn/cluster/chaos"
)

// LastItemChecker judges the last-item workload from the history and the
// final tables: no product's stock is below 0 (or above its initial 1); a
// product has at most one order and at most one acknowledged buy, and its
// stock plus its orders is 1 (no order without its decrement, no decrement
// without its order); every acknowledged buy's order exists for its
// product; no failed buy's order exists; every order belongs to a buy of
// the history. Buys with unknown outcomes may have applied or not; the
// summary counts how many did.
type LastItemChecker struct {
	Workload *LastItem
}

// Name implements chaos.Checker.
func (c *LastItemChecker) Name() string { return "last-item" }

// Check implements chaos.Checker.
func (c *LastItemChecker) Check(ctx context.Context, env *chaos.Env) chaos.Verdict {
	cfg := c.Workload.config()
	ctx, cancel := context.WithTimeout(ctx, finalReadTimeout)
	defer cancel()
	var stock map[int]int64
	var orders map[string]int
	err := finalRead(ctx, env, cfg.dial, func(ctx context.Context, conn *pgx.Conn) error {
		_, err := runTxn(ctx, conn, "", func(tx pgx.Tx) error {
			stock, orders = map[int]int64{}, map[string]int{}
			rows, err := tx.Query(ctx, "SELECT id, stock FROM "+cfg.products)
			if err != nil {
				return err
			}
			var id int
			var s int64
			if _, err := pgx.ForEachRow(rows, []any{&id, &s}, func() error { stock[id] = s; return nil }); err != nil {
				return err
			}
			rows, err = tx.Query(ctx, "SELECT id, product FROM "+cfg.orders)
			if err != nil {
				return err
			}
			var order string
			_, err = pgx.ForEachRow(rows, []any{&order, &id}, func() error { orders[order] = id; return nil })
			return err
		})
		return err
	})
	if err != nil {
		return chaos.Verdict{Checker: c.Name(), Err: err.Error()}
	}
	return CheckLastItem(env.History.Ops(), stock, orders)
}

// CheckLastItem is the pure part of LastItemChecker: stock maps each product
// to its final stock, orders each order id to its product.
func CheckLastItem(ops []chaos.Op, stock map[int]int64, orders map[string]int) chaos.Verdict {
	v := chaos.Verdict{Checker: "last-item"}
	buys := map[string]chaos.Op{} // by order id
	okBuys := map[int][]int{}     // product -> ids of its acknowledged buys
	attempts, acked, unknown, unknownApplied := 0, 0, 0, 0
	for _, op := range ops {
		if op.Kind != KindBuy {
			continue
		}
		attempts++
		product, err := strconv.Atoi(op.Key)
		if err != nil {
			v.Violate("buy (op %d): product %q is not a number", op.ID, op.Key)
			continue
		}
		buys[op.Value] = op
		got, present := orders[op.Value]
		switch op.Outcome {
		case chaos.OK:
			acked++
			okBuys[product] = append(okBuys[product], op.ID)
			switch {
			case !present:
				v.Violate("acknowledged buy of product %d (op %d) lost: no order %s", product, op.ID, op.Value)
			case got != product:
				v.Violate("acknowledged buy of product %d (op %d): order %s is for product %d", product, op.ID, op.Value, got)
			}
		case chaos.Fail:
			if present {
				v.Violate("failed buy of product %d (op %d, %s) applied: order %s exists", product, op.ID, op.Err, op.Value)
			}
		default:
			unknown++
			if present {
				unknownApplied++
			}
		}
	}
	for product, ids := range okBuys {
		if len(ids) > 1 {
			v.Violate("product %d (stock 1) bought %d times: ops %v", product, len(ids), ids)
		}
	}
	perProduct := map[int][]string{}
	for order, product := range orders {
		perProduct[product] = append(perProduct[product], order)
		if _, ok := buys[order]; !ok {
			v.Violate("order %s of product %d matches no buy of the history", order, product)
		}
	}
	products := make([]int, 0, len(stock))
	for p := range stock {
		products = append(products, p)
	}
	sort.Ints(products)
	sold := 0
	for _, p := range products {
		s, n := stock[p], len(perProduct[p])
		sold += n
		switch {
		case s < 0:
			v.Violate("product %d: stock %d below 0", p, s)
		case s > 1:
			v.Violate("product %d: stock %d above the initial 1", p, s)
		}
		if n > 1 {
			sort.Strings(perProduct[p])
			v.Violate("product %d (stock 1) has %d orders: %v", p, n, perProduct[p])
		}
		if s+int64(n) != 1 {
			v.Violate("product %d: stock %d + %d orders != 1", p, s, n)
		}
	}
	for p, list := range perProduct {
		if _, ok := stock[p]; !ok {
			v.Violate("orders %v are for product %d, which does not exist", list, p)
		}
	}
	v.Summary = fmt.Sprintf("%d products, %d sold; %d buys: %d acknowledged, %d unknown of which %d applied",
		len(stock), sold, attempts, acked, unknown, unknownApplied)
	return v
}
