package sqlchaos

import (
	"strings"
	"testing"

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

// TestCheckBankTooManyUnknowns: past maxSubsetStates reachable vectors the
// checker gives up the subset search, says so, and still checks the total.
func TestCheckBankTooManyUnknowns(t *testing.T) {
	var ops []chaos.Op
	for i := range 18 {
		ops = append(ops, transferOp(i, chaos.Unknown, Transfer{0, 1, int64(1) << i}))
	}
	initial := []int64{1 << 20, 0}
	v := CheckBank(ops, initial, bal(1<<20-5, 5))
	if !v.Pass() || !strings.Contains(v.Summary, "total checked only") {
		t.Fatalf("pass=%v violations %v summary %q", v.Pass(), v.Violations, v.Summary)
	}
	v = CheckBank(ops, initial, bal(1<<20-5, 4))
	if v.Pass() {
		t.Fatalf("a final read short of the total passed: %s", v.Summary)
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
