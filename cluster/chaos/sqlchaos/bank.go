package sqlchaos

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"cairn.dev/cairn/cluster/chaos"
)

// The operation kinds of the bank workload.
const (
	// KindTransfer moves an amount between two accounts in one transaction;
	// Value is the transfer ("from>to:amount", see Transfer). Fail when the
	// source account lacks the amount (Err says so).
	KindTransfer chaos.OpKind = "bank-transfer"
	// KindBankRead reads every balance in one transaction; Value is what it
	// read ("id:balance,…" in id order, see Balances).
	KindBankRead chaos.OpKind = "bank-read"
)

// Bank is Jepsen's bank workload: Accounts accounts holding Total between
// them; clients transfer random amounts between random accounts, in
// SERIALIZABLE transactions that refuse to make a balance negative (the
// code checks, and the table has CHECK (balance >= 0)), and read every
// balance in one transaction. A transfer that fails with a serialization
// failure is recorded as Fail and the client goes on with a new operation.
type Bank struct {
	// Accounts is the number of accounts; default 8.
	Accounts int
	// Total is the money in the bank, spread evenly (the remainder in account
	// 0); default 100 per account.
	Total int64
	// MaxAmount bounds a transfer (amounts are 1..MaxAmount); default 25.
	MaxAmount int64
	// Clients is the number of concurrent clients; default 6.
	Clients int
	// ReadPercent is the share of reads among the operations; default 30.
	ReadPercent int
	// Table names the accounts table; default "bank".
	Table string
	// Timeout bounds each transaction; default 3s.
	Timeout time.Duration
	// Dial connects the clients; default ClusterDialer.
	Dial Dialer
	// ClientBase is added to the client numbers in the history.
	ClientBase int
}

// bankKinds classifies the bank workload's kinds.
var bankKinds = chaos.Kinds{KindTransfer: chaos.ClassWrite, KindBankRead: chaos.ClassRead}

// Name implements chaos.Workload.
func (w *Bank) Name() string { return "bank" }

// Kinds implements chaos.Workload.
func (w *Bank) Kinds() chaos.Kinds { return bankKinds }

// withDefaults returns w with every zero field set to its default.
func (w *Bank) withDefaults() Bank {
	out := *w
	if out.Accounts <= 0 {
		out.Accounts = 8
	}
	if out.Total <= 0 {
		out.Total = 100 * int64(out.Accounts)
	}
	if out.MaxAmount <= 0 {
		out.MaxAmount = 25
	}
	if out.Clients <= 0 {
		out.Clients = 6
	}
	if out.ReadPercent <= 0 {
		out.ReadPercent = 30
	}
	if out.Table == "" {
		out.Table = "bank"
	}
	if out.Timeout <= 0 {
		out.Timeout = 3 * time.Second
	}
	out.Dial = out.Dial.orDefault()
	return out
}

// Initial returns the balance of every account before the first transfer.
func (w *Bank) Initial() []int64 {
	cfg := w.withDefaults()
	out := make([]int64, cfg.Accounts)
	for i := range out {
		out[i] = cfg.Total / int64(cfg.Accounts)
	}
	out[0] += cfg.Total % int64(cfg.Accounts)
	return out
}

// Run implements chaos.Workload: it creates the accounts table afresh, then
// runs the clients until ctx ends.
func (w *Bank) Run(ctx context.Context, env *chaos.Env) error {
	cfg := w.withDefaults()
	table := pgx.Identifier{cfg.Table}.Sanitize()
	initial := w.Initial()
	err := setup(ctx, env, cfg.Dial, "create "+cfg.Table, func(ctx context.Context, conn *pgx.Conn) error {
		stmts := []string{
			"DROP TABLE IF EXISTS " + table,
			"CREATE TABLE " + table + " (id INT PRIMARY KEY, balance BIGINT NOT NULL CHECK (balance >= 0))",
		}
		var rows []string
		for id, b := range initial {
			rows = append(rows, fmt.Sprintf("(%d, %d)", id, b))
		}
		stmts = append(stmts, "INSERT INTO "+table+" (id, balance) VALUES "+strings.Join(rows, ", "))
		return execAll(ctx, conn, stmts...)
	})
	if err != nil {
		return err
	}
	runClients(env, w.Name(), cfg.Dial, cfg.Clients, cfg.ClientBase, func(id int, s *session, rng *rand.Rand) {
		cfg.client(ctx, env, id, s, table, rng)
	})
	return nil
}

// errRefused marks a transfer the client refused to make: the source account
// lacks the amount.
var errRefused = errors.New("refused")

// client is the loop of one client.
func (w Bank) client(ctx context.Context, env *chaos.Env, id int, s *session, table string, rng *rand.Rand) {
	h := env.History
	for ctx.Err() == nil {
		conn, err := s.get(ctx)
		if err != nil {
			return
		}
		// Transactions are not tied to ctx: cancelling them at the end of the
		// run would only turn answers into unknown outcomes.
		rctx, cancel := context.WithTimeout(context.Background(), w.Timeout)
		var opErr error
		if rng.IntN(100) < w.ReadPercent {
			op := h.Invoke(chaos.Op{Client: id, Via: s.via, Kind: KindBankRead})
			var got Balances
			outcome, err := runTxn(rctx, conn, "", func(tx pgx.Tx) error {
				b, rerr := readBalances(rctx, tx, table)
				got = b
				return rerr
			})
			if outcome != chaos.OK {
				outcome = chaos.Fail // a read changes nothing
			}
			h.Complete(op, outcome, err, func(o *chaos.Op) {
				if outcome == chaos.OK {
					o.Value = got.String()
				}
			})
			opErr = err
		} else {
			from := rng.IntN(w.Accounts)
			to := (from + 1 + rng.IntN(w.Accounts-1)) % w.Accounts
			t := Transfer{From: from, To: to, Amount: 1 + rng.Int64N(w.MaxAmount)}
			op := h.Invoke(chaos.Op{Client: id, Via: s.via, Kind: KindTransfer, Value: t.String()})
			outcome, err := runTxn(rctx, conn, "", func(tx pgx.Tx) error { return transfer(rctx, tx, table, t) })
			h.Complete(op, outcome, err, nil)
			opErr = err
		}
		cancel()
		s.afterOp()
		backoff(ctx, opErr)
	}
}

// transfer moves t.Amount from t.From to t.To inside tx, refusing (errRefused)
// when t.From holds less.
func transfer(ctx context.Context, tx pgx.Tx, table string, t Transfer) error {
	var bal int64
	if err := tx.QueryRow(ctx, "SELECT balance FROM "+table+" WHERE id = $1", t.From).Scan(&bal); err != nil {
		return err
	}
	if bal < t.Amount {
		return fmt.Errorf("%w: account %d holds %d < %d", errRefused, t.From, bal, t.Amount)
	}
	for _, q := range []struct {
		sql string
		id  int
	}{
		{"UPDATE " + table + " SET balance = balance - $1 WHERE id = $2", t.From},
		{"UPDATE " + table + " SET balance = balance + $1 WHERE id = $2", t.To},
	} {
		tag, err := tx.Exec(ctx, q.sql, t.Amount, q.id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 1 {
			return fmt.Errorf("%s with id %d updated %d rows, want 1", q.sql, q.id, tag.RowsAffected())
		}
	}
	return nil
}

// readBalances reads every account of table.
func readBalances(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, table string) (Balances, error) {
	rows, err := q.Query(ctx, "SELECT id, balance FROM "+table+" ORDER BY id")
	if err != nil {
		return nil, err
	}
	var out Balances
	var id int
	var bal int64
	_, err = pgx.ForEachRow(rows, []any{&id, &bal}, func() error {
		out = append(out, Balance{ID: id, Amount: bal})
		return nil
	})
	return out, err
}

// Transfer is one transfer of the bank workload.
type Transfer struct {
	From, To int
	Amount   int64
}

// String encodes t as "from>to:amount", the Value of a KindTransfer op.
func (t Transfer) String() string { return fmt.Sprintf("%d>%d:%d", t.From, t.To, t.Amount) }

// ParseTransfer decodes Transfer.String.
func ParseTransfer(s string) (Transfer, error) {
	var t Transfer
	from, rest, ok1 := strings.Cut(s, ">")
	to, amount, ok2 := strings.Cut(rest, ":")
	var err1, err2, err3 error
	t.From, err1 = strconv.Atoi(from)
	t.To, err2 = strconv.Atoi(to)
	t.Amount, err3 = strconv.ParseInt(amount, 10, 64)
	if !ok1 || !ok2 || err1 != nil || err2 != nil || err3 != nil {
		return Transfer{}, fmt.Errorf("sqlchaos: transfer %q: want from>to:amount", s)
	}
	return t, nil
}

// Balance is one account's balance as read.
type Balance struct {
	ID     int
	Amount int64
}

// Balances is a read of the accounts, in id order.
type Balances []Balance

// String encodes b as "id:balance,…", the Value of a KindBankRead op.
func (b Balances) String() string {
	parts := make([]string, len(b))
	for i, x := range b {
		parts[i] = fmt.Sprintf("%d:%d", x.ID, x.Amount)
	}
	return strings.Join(parts, ",")
}

// ParseBalances decodes Balances.String.
func ParseBalances(s string) (Balances, error) {
	if s == "" {
		return nil, nil
	}
	var out Balances
	for _, part := range strings.Split(s, ",") {
		id, amount, ok := strings.Cut(part, ":")
		i, err1 := strconv.Atoi(id)
		a, err2 := strconv.ParseInt(amount, 10, 64)
		if !ok || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("sqlchaos: balance %q: want id:amount", part)
		}
		out = append(out, Balance{ID: i, Amount: a})
	}
	return out, nil
}
