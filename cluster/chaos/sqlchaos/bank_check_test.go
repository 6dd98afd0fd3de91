package sqlchaos

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"cairn.dev/cairn/cluster/chaos"
)

func transferOp(id int, outcome chaos.Outcome, t Transfer) chaos.Op {
	return chaos.Op{ID: id, Kind: KindTransfer, Value: t.String(), Outcome: outcome, Return: 1}
}

func readOp(id int, outcome chaos.Outcome, balances string) chaos.Op {
	return chaos.Op{ID: id, Kind: KindBankRead, Value: balances, Outcome: outcome, Return: 1}
}

func bal(amounts ...int64) Balances {
	out := make(Balances, len(amounts))
	for i, a := range amounts {
		out[i] = Balance{ID: i, Amount: a}
	}
	return out
}

func TestCheckBank(t *testing.T) {
	ok, fail, unknown := chaos.OK, chaos.Fail, chaos.Unknown
	initial := []int64{10, 10, 10}
	tests := []struct {
		name    string
		ops     []chaos.Op
		final   Balances
		wantErr string // a substring of the first violation; "" passes
		summary string // a substring of the summary
	}{
		{
			name: "acknowledged transfers and consistent reads",
			ops: []chaos.Op{
				transferOp(0, ok, Transfer{0, 1, 3}),
				readOp(1, ok, "0:7,1:13,2:10"),
				transferOp(2, fail, Transfer{1, 2, 5}),
				readOp(3, fail, ""),
				transferOp(4, ok, Transfer{2, 0, 10}),
			},
			final:   bal(17, 13, 0),
			summary: "2 acknowledged transfers + 0 of 0 unknown",
		},
		{
			name: "a subset of the unknown transfers applied",
			ops: []chaos.Op{
				transferOp(0, unknown, Transfer{0, 1, 3}),
				transferOp(1, unknown, Transfer{1, 2, 5}),
				transferOp(2, unknown, Transfer{2, 0, 1}),
				transferOp(3, ok, Transfer{0, 2, 2}),
			},
			final:   bal(9, 5, 16),
			summary: "1 acknowledged transfers + 2 of 3 unknown",
		},
		{
			name:    "a read that does not sum to the total",
			ops:     []chaos.Op{readOp(0, ok, "0:7,1:10,2:10")},
			final:   bal(10, 10, 10),
			wantErr: "sums to 27, want 30",
		},
		{
			name:    "a negative balance",
			ops:     []chaos.Op{readOp(0, ok, "0:-1,1:21,2:10")},
			final:   bal(10, 10, 10),
			wantErr: "account 0 is negative",
		},
		{
			name:    "a read missing an account",
			ops:     []chaos.Op{readOp(0, ok, "0:15,2:15")},
			final:   bal(10, 10, 10),
			wantErr: "2 accounts, want 3",
		},
		{
			name:    "a lost acknowledged transfer",
			ops:     []chaos.Op{transferOp(0, ok, Transfer{0, 1, 3})},
			final:   bal(10, 10, 10),
			wantErr: "an acknowledged transfer was lost or a failed one applied",
		},
		{
			name:    "a failed transfer applied",
			ops:     []chaos.Op{transferOp(0, fail, Transfer{0, 1, 3})},
			final:   bal(7, 13, 10),
			wantErr: "an acknowledged transfer was lost or a failed one applied",
		},
		{
			name:    "a final read that lost money",
			ops:     nil,
			final:   bal(10, 10, 9),
			wantErr: "final read",
		},
		{
			name:    "a malformed transfer",
			ops:     []chaos.Op{{ID: 0, Kind: KindTransfer, Value: "0>7:1", Outcome: ok}},
			final:   bal(10, 10, 10),
			wantErr: "not a transfer between accounts 0..2",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := CheckBank(tc.ops, initial, tc.final)
			if tc.wantErr == "" {
				if !v.Pass() {
					t.Fatalf("violations %v; summary %s", v.Violations, v.Summary)
				}
			} else if v.Pass() || !strings.Contains(v.Violations[0], tc.wantErr) {
				t.Fatalf("violations %v, want one with %q", v.Violations, tc.wantErr)
			}
			if !strings.Contains(v.Summary, tc.summary) {
				t.Errorf("summary %q lacks %q", v.Summary, tc.summary)
			}
		})
	}
}

// TestCheckBankTooManyUnknowns: past maxSubsetStates reachable vectors per
// half the checker gives up the subset search, says so, and still checks
// the total.
func TestCheckBankTooManyUnknowns(t *testing.T) {
	var ops []chaos.Op
	for i := range 36 {
		ops = append(ops, transferOp(i, chaos.Unknown, Transfer{0, 1, int64(1) << i}))
	}
	initial := []int64{1 << 40, 0}
	v := CheckBank(ops, initial, bal(1<<40-5, 5))
	if !v.Pass() || !strings.Contains(v.Summary, "total checked only") {
		t.Fatalf("pass=%v violations %v summary %q", v.Pass(), v.Violations, v.Summary)
	}
	v = CheckBank(ops, initial, bal(1<<40-5, 4))
	if v.Pass() {
		t.Fatalf("a final read short of the total passed: %s", v.Summary)
	}
}

// TestCheckBankManyUnknowns: with 32 unknown transfers of random amounts
// (1..5) between 8 accounts, the search finds the applied subset, and a
// final state off by more than all of them together is caught.
func TestCheckBankManyUnknowns(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed=%d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	initial := []int64{1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000}
	final := append([]int64(nil), initial...)
	var ops []chaos.Op
	applied := 0
	for i := range 32 {
		tr := Transfer{From: rng.IntN(8), Amount: 1 + rng.Int64N(5)}
		tr.To = (tr.From + 1 + rng.IntN(7)) % 8
		ops = append(ops, transferOp(i, chaos.Unknown, tr))
		if rng.IntN(2) == 0 {
			final[tr.From] -= tr.Amount
			final[tr.To] += tr.Amount
			applied++
		}
	}
	start := time.Now()
	v := CheckBank(ops, initial, bal(final...))
	if !v.Pass() || !strings.Contains(v.Summary, "of 32 unknown") {
		t.Fatalf("pass=%v violations %v summary %q", v.Pass(), v.Violations, v.Summary)
	}
	t.Logf("%s (%d applied) in %v", v.Summary, applied, time.Since(start))
	final[0] += 200
	final[1] -= 200
	if v := CheckBank(ops, initial, bal(final...)); v.Pass() {
		t.Fatalf("an unreachable final state passed: %s", v.Summary)
	}
}

func TestBankEncodingRoundTrip(t *testing.T) {
	tr := Transfer{From: 3, To: 5, Amount: 17}
	if got, err := ParseTransfer(tr.String()); err != nil || got != tr {
		t.Fatalf("ParseTransfer(%q) = %v, %v", tr.String(), got, err)
	}
	b := Balances{{0, 7}, {1, -3}}
	if got, err := ParseBalances(b.String()); err != nil || got.String() != "0:7,1:-3" {
		t.Fatalf("ParseBalances(%q) = %v, %v", b.String(), got, err)
	}
	for _, bad := range []string{"", "1>2", "a>b:c", "1:2:3"} {
		if _, err := ParseTransfer(bad); err == nil {
			t.Errorf("ParseTransfer(%q) accepted", bad)
		}
	}
	for _, bad := range []string{"0", "0:x", "x:1,"} {
		if _, err := ParseBalances(bad); err == nil {
			t.Errorf("ParseBalances(%q) accepted", bad)
		}
	}
	if got := (&Bank{Accounts: 3, Total: 31}).Initial(); got[0] != 11 || got[1] != 10 || got[2] != 10 {
		t.Errorf("Initial = %v, want [11 10 10]", got)
	}
}
