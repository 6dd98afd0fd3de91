package sqlchaos

import (
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"cairn.dev/cairn/cluster/chaos"
)

// The SQLSTATE codes the workloads tell apart.
const (
	codeSerializationFailure = "40001" // the transaction was aborted: retry it
	codeCompletionUnknown    = "40003" // the commit may or may not have happened
)

// sqlState returns the SQLSTATE of err, "" when it is not a server error.
func sqlState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// txnOutcome classifies how an explicit transaction (BEGIN … COMMIT) ended:
// err is its first error, committing whether err came from COMMIT.
//
// Before COMMIT was sent nothing can have taken effect, whatever the error
// (a broken connection aborts an open transaction), so any error is Fail.
// At COMMIT, only answers that prove an abort are Fail: serialization
// failure 40001 and the rest of class 40 (transaction rollback: deadlock
// 40P01, …) but 40003, an integrity violation (class 23), and a COMMIT the
// server turned into a ROLLBACK. Everything else at COMMIT — 40003, a broken or
// timed-out connection, a cancel, an internal error — is Unknown.
func txnOutcome(err error, committing bool) chaos.Outcome {
	switch {
	case err == nil:
		return chaos.OK
	case !committing:
		return chaos.Fail
	case errors.Is(err, pgx.ErrTxCommitRollback):
		return chaos.Fail
	}
	code := sqlState(err)
	switch {
	case code == codeCompletionUnknown:
		return chaos.Unknown
	case code == codeSerializationFailure, strings.HasPrefix(code, "40"), strings.HasPrefix(code, "23"):
		return chaos.Fail
	}
	return chaos.Unknown
}
