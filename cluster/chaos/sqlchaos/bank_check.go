package sqlchaos

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"cairn.dev/cairn/cluster/chaos"
)

// finalReadTimeout bounds a checker's read of the final state.
const finalReadTimeout = 60 * time.Second

// BankChecker judges the bank workload: every successful read holds every
// account, no negative balance, and sums to the total; so does the final
// read (after the cluster healed); and no acknowledged transfer is lost nor
// a failed one applied: the final balances must be the initial ones plus
// every acknowledged transfer plus some subset of the transfers whose
// outcome is unknown (searched exhaustively while the reachable balance
// vectors stay under maxSubsetStates; beyond that only the total is
// checked, and the summary says so).
type BankChecker struct {
	Workload *Bank
}

// Name implements chaos.Checker.
func (c *BankChecker) Name() string { return "bank" }

// Check implements chaos.Checker.
func (c *BankChecker) Check(ctx context.Context, env *chaos.Env) chaos.Verdict {
	cfg := c.Workload.withDefaults()
	ctx, cancel := context.WithTimeout(ctx, finalReadTimeout)
	defer cancel()
	var final Balances
	err := finalRead(ctx, env, cfg.Dial, func(ctx context.Context, conn *pgx.Conn) error {
		_, err := runTxn(ctx, conn, "", func(tx pgx.Tx) error {
			b, err := readBalances(ctx, tx, pgx.Identifier{cfg.Table}.Sanitize())
			final = b
			return err
		})
		return err
	})
	if err != nil {
		return chaos.Verdict{Checker: c.Name(), Err: err.Error()}
	}
	return CheckBank(env.History.Ops(), c.Workload.Initial(), final)
}

// maxSubsetStates bounds the distinct balance vectors the search for the
// applied subset of unknown transfers keeps for each half of them.
const maxSubsetStates = 1 << 17

// CheckBank is the pure part of BankChecker: ops is the history, initial
// the balances before the first transfer, final the read after the run.
func CheckBank(ops []chaos.Op, initial []int64, final Balances) chaos.Verdict {
	v := chaos.Verdict{Checker: "bank"}
	var total int64
	for _, b := range initial {
		total += b
	}
	reads := 0
	expected := append([]int64(nil), initial...) // initial + every OK transfer
	var unknown []Transfer
	okTransfers, failed := 0, 0
	for _, op := range ops {
		switch op.Kind {
		case KindBankRead:
			if op.Outcome != chaos.OK {
				continue
			}
			reads++
			b, err := ParseBalances(op.Value)
			if err != nil {
				v.Violate("read (op %d): %v", op.ID, err)
				continue
			}
			checkRead(&v, fmt.Sprintf("read (op %d)", op.ID), b, len(initial), total)
		case KindTransfer:
			t, err := ParseTransfer(op.Value)
			if err != nil || t.From < 0 || t.From >= len(initial) || t.To < 0 || t.To >= len(initial) {
				v.Violate("transfer (op %d) %q: not a transfer between accounts 0..%d", op.ID, op.Value, len(initial)-1)
				continue
			}
			switch {
			case op.Outcome == chaos.OK:
				okTransfers++
				expected[t.From] -= t.Amount
				expected[t.To] += t.Amount
			case op.Outcome == chaos.Fail:
				failed++
			default:
				unknown = append(unknown, t)
			}
		}
	}
	if !checkRead(&v, "final read", final, len(initial), total) {
		v.Summary = fmt.Sprintf("%d reads checked; the final read is malformed", reads)
		return v
	}
	delta := make([]int64, len(initial))
	for i, b := range final {
		delta[i] = b.Amount - expected[i]
	}
	applied, decided := reachable(delta, unknown)
	switch {
	case !decided:
		v.Summary = fmt.Sprintf("%d reads and the final read sum to %d; %d acknowledged, %d failed and %d unknown transfers: too many unknowns to search the applied subset, total checked only",
			reads, total, okTransfers, failed, len(unknown))
	case applied < 0:
		v.Violate("final balances %s are not the initial %v plus the %d acknowledged transfers (%v) plus any subset of the %d unknown ones: an acknowledged transfer was lost or a failed one applied",
			final, initial, okTransfers, expected, len(unknown))
		v.Summary = fmt.Sprintf("%d reads checked; %d acknowledged, %d failed and %d unknown transfers", reads, okTransfers, failed, len(unknown))
	default:
		v.Summary = fmt.Sprintf("%d reads and the final read sum to %d, none negative; final balances = initial + %d acknowledged transfers + %d of %d unknown ones (%d failed transfers not applied)",
			reads, total, okTransfers, applied, len(unknown), failed)
	}
	return v
}

// checkRead records the violations of one read: not exactly the accounts
// 0..n-1, a negative balance, a sum other than total. It reports whether the
// read holds exactly the accounts 0..n-1.
func checkRead(v *chaos.Verdict, what string, b Balances, n int, total int64) bool {
	if len(b) != n {
		v.Violate("%s %s: %d accounts, want %d", what, b, len(b), n)
		return false
	}
	var sum int64
	for i, x := range b {
		if x.ID != i {
			v.Violate("%s %s: account %d at position %d, want accounts 0..%d in order", what, b, x.ID, i, n-1)
			return false
		}
		if x.Amount < 0 {
			v.Violate("%s %s: account %d is negative", what, b, x.ID)
		}
		sum += x.Amount
	}
	if sum != total {
		v.Violate("%s %s: sums to %d, want %d", what, b, sum, total)
	}
	return true
}

// reachable reports whether delta is the sum of the effects of some subset of
// transfers: applied is the size of one such subset, -1 when there is none;
// decided is false when the search gave up. It meets in the middle: the
// distinct sums of each half of the transfers (at most maxSubsetStates per
// half), then a sum of the second half that completes one of the first.
func reachable(delta []int64, transfers []Transfer) (applied int, decided bool) {
	half := len(transfers) / 2
	first, ok1 := subsetSums(len(delta), transfers[:half])
	second, ok2 := subsetSums(len(delta), transfers[half:])
	if !ok1 || !ok2 {
		return 0, false
	}
	need := make([]int64, len(delta))
	for k, s := range second {
		vec := decodeVec(k)
		for i := range need {
			need[i] = delta[i] - vec[i]
		}
		if n, ok := first[encodeVec(need)]; ok {
			return n + s, true
		}
	}
	return -1, true
}

// subsetSums returns the distinct balance changes the subsets of transfers
// make over n accounts (encodeVec), each with the size of one subset making
// it; false when there are more than maxSubsetStates.
func subsetSums(n int, transfers []Transfer) (map[string]int, bool) {
	sums := map[string]int{encodeVec(make([]int64, n)): 0}
	for _, t := range transfers {
		next := make(map[string]int, 2*len(sums))
		for k, c := range sums {
			next[k] = c
		}
		for k, c := range sums {
			vec := decodeVec(k)
			vec[t.From] -= t.Amount
			vec[t.To] += t.Amount
			k2 := encodeVec(vec)
			if old, had := next[k2]; !had || c+1 < old {
				next[k2] = c + 1
			}
		}
		if len(next) > maxSubsetStates {
			return nil, false
		}
		sums = next
	}
	return sums, true
}

// encodeVec and decodeVec turn a balance vector into a map key and back.
func encodeVec(vec []int64) string {
	b := make([]byte, 8*len(vec))
	for i, x := range vec {
		binary.BigEndian.PutUint64(b[8*i:], uint64(x))
	}
	return string(b)
}

func decodeVec(k string) []int64 {
	vec := make([]int64, len(k)/8)
	for i := range vec {
		vec[i] = int64(binary.BigEndian.Uint64([]byte(k[8*i : 8*i+8])))
	}
	return vec
}
