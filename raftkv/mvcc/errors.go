package mvcc

import (
	"errors"
	"fmt"
)

// Domain errors. Those produced while applying a command are deterministic
// outcomes: ApplyBatch reports them in CommandResult.Error (see ErrorCode) and
// the caller turns them back into errors with ErrorFromCode.
var (
	// ErrCompacted means the requested revision has been compacted away.
	ErrCompacted = errors.New("mvcc: required revision has been compacted")
	// ErrFutureRevision means the requested revision is newer than the store.
	ErrFutureRevision = errors.New("mvcc: required revision is a future revision")
	// ErrLeaseNotFound means the lease does not exist.
	ErrLeaseNotFound = errors.New("mvcc: lease not found")
	// ErrLeaseExists means a lease with the requested id already exists.
	ErrLeaseExists = errors.New("mvcc: lease already exists")
	// ErrDuplicateKey means a txn branch modifies the same key more than once.
	ErrDuplicateKey = errors.New("mvcc: duplicate key given in txn request")
	// ErrEmptyKey means a put was given an empty key.
	ErrEmptyKey = errors.New("mvcc: key is not provided")
	// ErrUnknownCommand means a log entry carried no known command.
	ErrUnknownCommand = errors.New("mvcc: unknown command")
	// ErrClosed means the store has been closed.
	ErrClosed = errors.New("mvcc: store closed")
	// ErrCorrupt means the database holds data this package did not write.
	ErrCorrupt = errors.New("mvcc: corrupt database")
)

// codes maps each sentinel that may appear in a CommandResult to its stable code.
var codes = []struct {
	err  error
	code string
}{
	{ErrCompacted, "compacted"},
	{ErrFutureRevision, "future_revision"},
	{ErrLeaseNotFound, "lease_not_found"},
	{ErrLeaseExists, "lease_exists"},
	{ErrDuplicateKey, "duplicate_key"},
	{ErrEmptyKey, "empty_key"},
	{ErrUnknownCommand, "unknown_command"},
	{ErrClosed, "closed"},
	{ErrCorrupt, "corrupt"},
}

// ErrorCode returns the stable code of err's sentinel: "" for nil, "unknown"
// for an error that wraps none of this package's sentinels.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return "unknown"
}

// ErrorFromCode turns a code and message produced by ErrorCode and err.Error()
// back into an error: nil for an empty code, otherwise an error whose Error() is
// msg (or the sentinel's text when msg is empty) and which errors.Is the
// sentinel of the code.
func ErrorFromCode(code, msg string) error {
	if code == "" {
		return nil
	}
	for _, c := range codes {
		if c.code == code {
			if msg == "" || msg == c.err.Error() {
				return c.err
			}
			return &codedError{sentinel: c.err, msg: msg}
		}
	}
	if msg == "" {
		msg = "mvcc: " + code
	}
	return fmt.Errorf("%s", msg)
}

type codedError struct {
	sentinel error
	msg      string
}

func (e *codedError) Error() string { return e.msg }
func (e *codedError) Unwrap() error { return e.sentinel }
