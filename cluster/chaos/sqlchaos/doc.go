// Package sqlchaos holds the chaos scenarios of cairn's SQL layer: raftkv
// nodes serving PostgreSQL clients (issue 21), driven through pgx exactly as
// an application would, so every workload also runs unchanged against a
// real PostgreSQL (see the pgcompat directory).
//
// Workloads (each transaction SERIALIZABLE; a serialization failure,
// SQLSTATE 40001, is a definite Fail and the client goes on with a new
// operation; 40003 or a broken connection at COMMIT is Unknown; see
// txnOutcome):
//
//   - Bank: Jepsen's bank. Transfers between accounts that refuse to
//     overdraw (in the code and by CHECK (balance >= 0)) and reads of every
//     balance. BankChecker: every read and the final read hold the total, no
//     balance is negative, and the final balances are the initial ones plus
//     every acknowledged transfer plus a subset of the unknown ones.
//   - LastItem: products with a stock of one that every client tries to buy
//     at once (conditional UPDATE, or SELECT … FOR UPDATE then UPDATE, and an
//     order INSERT). LastItemChecker: at most one sale per product, stock
//     never below zero, stock + orders = 1, acknowledged orders present and
//     failed ones absent.
//   - ListAppend: Elle's list-append over rows (k, v). ListAppendChecker
//     (CheckListAppend): version orders inferred from the reads, the ww / wr /
//     rw (and real-time) dependency graph between committed transactions,
//     its strongly connected components reported as G0, G1c, G-single or G2
//     cycles, plus aborted (G1a) and intermediate (G1b) reads, lost appends,
//     incompatible orders and internal inconsistencies.
//
// MinorityCommits checks that no write transaction through a partitioned
// node commits.
//
// The scenarios (SQLScenarios) run them on a three-node raftkv cluster under
// leader and follower kills, partitions, pauses, restarts and full crashes.
// Clients reach a node at sqlURL (url.go: the one place that knows where the
// harness puts a node's PostgreSQL port) with the cluster's client
// certificate. Run one with its seed:
//
//	CAIRN_CHAOS_SEED=1 go test ./cluster/chaos/sqlchaos -run '^TestBankLeaderKill$' -count=1 -v
//
// The same workloads and checkers run against a real PostgreSQL, without
// faults, in the pgcompat directory (build tag pgcompat):
//
//	CAIRN_SQLCHAOS_PG_URL='postgres://postgres@127.0.0.1:55432/cairn?sslmode=disable' \
//	  go test -tags pgcompat -count=1 -v ./cluster/chaos/sqlchaos/pgcompat/
package sqlchaos
