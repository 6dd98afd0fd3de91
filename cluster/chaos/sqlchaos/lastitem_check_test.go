package sqlchaos

import (
	"strings"
	"testing"

	"cairn.dev/cairn/cluster/chaos"
)

func buyOp(id int, product string, order string, outcome chaos.Outcome, err string) chaos.Op {
	return chaos.Op{ID: id, Kind: KindBuy, Key: product, Value: order, Outcome: outcome, Err: err, Return: 1}
}

func TestCheckLastItem(t *testing.T) {
	ok, fail, unknown := chaos.OK, chaos.Fail, chaos.Unknown
	valid := []chaos.Op{
		buyOp(0, "0", "c0-0", ok, ""),
		buyOp(1, "0", "c1-0", fail, "ERROR: could not serialize access (SQLSTATE 40001)"),
		buyOp(2, "0", "c1-1", fail, "sold out"),
		buyOp(3, "1", "c0-1", unknown, "timeout"),
		buyOp(4, "1", "c1-2", fail, "sold out"),
		buyOp(5, "2", "c1-3", unknown, "timeout"),
	}
	tests := []struct {
		name    string
		ops     []chaos.Op
		stock   map[int]int64
		orders  map[string]int
		wantErr string // a substring of some violation; "" passes
	}{
		{
			name:   "one sale per product, unknown buys either way",
			ops:    valid,
			stock:  map[int]int64{0: 0, 1: 0, 2: 1, 3: 1},
			orders: map[string]int{"c0-0": 0, "c0-1": 1},
		},
		{
			name: "the last item sold twice",
			ops: []chaos.Op{
				buyOp(0, "0", "c0-0", ok, ""),
				buyOp(1, "0", "c1-0", ok, ""),
			},
			stock:   map[int]int64{0: 0},
			orders:  map[string]int{"c0-0": 0, "c1-0": 0},
			wantErr: "bought 2 times",
		},
		{
			name:    "two orders for one decrement",
			ops:     []chaos.Op{buyOp(0, "0", "c0-0", ok, ""), buyOp(1, "0", "c1-0", unknown, "")},
			stock:   map[int]int64{0: 0},
			orders:  map[string]int{"c0-0": 0, "c1-0": 0},
			wantErr: "has 2 orders",
		},
		{
			name:    "stock below zero",
			ops:     []chaos.Op{buyOp(0, "0", "c0-0", ok, "")},
			stock:   map[int]int64{0: -1},
			orders:  map[string]int{"c0-0": 0},
			wantErr: "below 0",
		},
		{
			name:    "an acknowledged buy lost",
			ops:     []chaos.Op{buyOp(0, "0", "c0-0", ok, "")},
			stock:   map[int]int64{0: 1},
			orders:  map[string]int{},
			wantErr: "lost: no order c0-0",
		},
		{
			name:    "an order without its decrement",
			ops:     []chaos.Op{buyOp(0, "0", "c0-0", ok, "")},
			stock:   map[int]int64{0: 1},
			orders:  map[string]int{"c0-0": 0},
			wantErr: "stock 1 + 1 orders != 1",
		},
		{
			name:    "a failed buy applied",
			ops:     []chaos.Op{buyOp(0, "0", "c0-0", fail, "40001")},
			stock:   map[int]int64{0: 0},
			orders:  map[string]int{"c0-0": 0},
			wantErr: "failed buy of product 0",
		},
		{
			name:    "an order nobody placed",
			ops:     nil,
			stock:   map[int]int64{0: 0},
			orders:  map[string]int{"c9-9": 0},
			wantErr: "matches no buy",
		},
		{
			name:    "an order for a missing product",
			ops:     []chaos.Op{buyOp(0, "5", "c0-0", ok, "")},
			stock:   map[int]int64{},
			orders:  map[string]int{"c0-0": 5},
			wantErr: "which does not exist",
		},
		{
			name:    "an order recorded for another product",
			ops:     []chaos.Op{buyOp(0, "0", "c0-0", ok, "")},
			stock:   map[int]int64{0: 1, 1: 0},
			orders:  map[string]int{"c0-0": 1},
			wantErr: "is for product 1",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := CheckLastItem(tc.ops, tc.stock, tc.orders)
			if tc.wantErr == "" {
				if !v.Pass() {
					t.Fatalf("violations %v", v.Violations)
				}
				if !strings.Contains(v.Summary, "4 products, 2 sold; 6 buys: 1 acknowledged, 2 unknown of which 1 applied") {
					t.Errorf("summary %q", v.Summary)
				}
				return
			}
			if v.Pass() || !strings.Contains(strings.Join(v.Violations, "\n"), tc.wantErr) {
				t.Fatalf("violations %v, want one with %q", v.Violations, tc.wantErr)
			}
		})
	}
}
