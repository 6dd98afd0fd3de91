package kvtxn

import (
	"context"
	"errors"
	"fmt"

	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

// Sentinel errors. Errors returned by this package are *sqlerr.Error values
// carrying the SQLSTATE the SQL client sees, wrapping one of these (match
// them with errors.Is) or the raftkv client's error.
var (
	// ErrConflict means the transaction did not commit because data it read
	// changed (or its snapshot was compacted, or a commit whose outcome was
	// unknown was found not applied). Retrying the whole transaction is safe.
	// SQLSTATE 40001.
	ErrConflict = errors.New("kvtxn: conflict")
	// ErrAmbiguous means the commit may or may not have been applied and the
	// cluster could not be asked which. SQLSTATE 40003.
	ErrAmbiguous = errors.New("kvtxn: commit outcome unknown")
	// ErrTooLarge means the transaction exceeds a limit (Options.MaxWrites,
	// Options.MaxWriteBytes, or raftkv's request limits). SQLSTATE 54000.
	ErrTooLarge = errors.New("kvtxn: transaction too large")
	// ErrTxnDone means the transaction was already committed or rolled
	// back. SQLSTATE 25000.
	ErrTxnDone = errors.New("kvtxn: transaction already finished")
	// ErrReservedKey means a write to a key under the commit-marker prefix
	// /cairn/sql/txn/. SQLSTATE 22023.
	ErrReservedKey = errors.New("kvtxn: key is reserved for commit markers")
)

func conflictError(format string, args ...any) error {
	return sqlerr.Wrap(sqlerr.SerializationFailure, ErrConflict,
		"could not serialize access due to concurrent update").
		WithDetail(format, args...).
		WithHint("The transaction might succeed if retried.")
}

func tooLargeError(format string, args ...any) error {
	return sqlerr.Wrap(sqlerr.ProgramLimitExceeded, ErrTooLarge, "transaction too large: %s", fmt.Sprintf(format, args...))
}

func ambiguousError(cause error) error {
	return sqlerr.Wrap(sqlerr.StatementCompletionUnknown, errors.Join(ErrAmbiguous, cause),
		"commit outcome unknown: %v", cause).
		WithHint("Check whether the transaction's changes are present before retrying it.")
}

func doneError(op string) error {
	return sqlerr.Wrap(sqlerr.InvalidTransactionState, ErrTxnDone, "%s: transaction already committed or rolled back", op)
}

// kvError wraps a raftkv client error of op as an internal SQL error, except
// that when ctx is done it returns ctx.Err() itself (pgwire reports that as a
// cancelled statement).
func kvError(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return sqlerr.Wrap(sqlerr.Internal, err, "kvtxn: %s: %v", op, err)
}

func reservedError(op string, key []byte) error {
	return sqlerr.Wrap(sqlerr.InvalidParameterValue, ErrReservedKey, "kvtxn: %s %q: keys under %s are reserved for commit markers", op, key, markerPrefix)
}

func emptyKeyError(op string) error {
	return sqlerr.New(sqlerr.InvalidParameterValue, "kvtxn: %s: key must not be empty", op)
}
