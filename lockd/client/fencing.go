package client

import (
	"fmt"
	"sync"
)

// ValidateToken is the check a protected resource makes before it accepts a
// write from a lock holder: the write's fencing token must be at least the
// highest token the resource has accepted (equal: the same holder writing
// again). A lower token comes from a holder that lost the lock — its session
// expired while it stalled, and someone else was granted the lock since — and
// its write must be refused.
//
// A lock service alone cannot stop a stalled holder that wakes up after its
// session expired from writing; only the resource can, by remembering the highest
// token it saw. Tokens are Raft indexes, so they grow across grants of a lock
// and across lockd leader changes.
//
// The resource must make the check and the write one atomic step. With raftkv as
// the resource, keep the token beside the data, as a zero-padded decimal so that
// raftkv's byte-wise value comparison orders tokens numerically, and write both in
// one transaction guarded by the comparison (raftkv/client code; lockd does not
// import raftkv):
//
//	tok := fmt.Sprintf("%020d", lock.Token)
//	// Once per key: create the token record if it does not exist yet.
//	_, err := kv.Txn(ctx).
//		If(client.Compare(client.CreateRevision("stock/42/token"), "=", 0)).
//		Then(client.OpPut("stock/42/token", fmt.Sprintf("%020d", 0))).
//		Commit()
//	// Every write: succeed only if no newer holder has written.
//	resp, err := kv.Txn(ctx).
//		If(client.Compare(client.Value("stock/42/token"), "<", tok)).
//		Then(client.OpPut("stock/42/token", tok), client.OpPut("stock/42/count", "0")).
//		Commit()
//	if err == nil && !resp.Succeeded {
//		// A holder with a newer token has written: this holder lost the lock.
//	}
//
// With "<" each grant writes once. To let the same holder write again, compare
// against the token plus one (stored < token+1 means stored <= token):
// client.Compare(client.Value("stock/42/token"), "<", fmt.Sprintf("%020d", lock.Token+1)).
func ValidateToken(highest, token uint64) error {
	if token < highest {
		return fmt.Errorf("%w: token %d is lower than %d, already accepted", ErrStaleToken, token, highest)
	}
	return nil
}

// Fence remembers the highest fencing token a resource accepted. Check accepts a
// token at least as high, and remembers it. A Fence is safe for concurrent use;
// it protects an in-process resource (for a resource elsewhere, keep the highest
// token with the data, as in ValidateToken's example).
type Fence struct {
	mu      sync.Mutex // protects highest
	highest uint64
}

// Check returns ErrStaleToken for a token lower than one accepted before, and
// otherwise records it.
func (f *Fence) Check(token uint64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := ValidateToken(f.highest, token); err != nil {
		return err
	}
	f.highest = token
	return nil
}

// Highest is the highest token accepted so far.
func (f *Fence) Highest() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.highest
}
