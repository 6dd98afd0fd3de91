package query

import (
	"errors"
	"fmt"
	"strconv"

	"cairn.dev/cairn/node/rpcerr"
)

// Errors of parsing and running a search. Each is wrapped with the path of
// the clause it is about (rpcerr metadata "field") and, for limits, the limit's
// name and value ("limit_name", "limit"); test with errors.Is.
var (
	// ErrParse: the body is not valid JSON or not a valid query.
	ErrParse = errors.New("query: parse error")
	// ErrTooManyClauses: the query has more clauses than Limits.MaxClauses,
	// counting the terms fuzzy, prefix and wildcard queries expand to.
	ErrTooManyClauses = errors.New("query: too many clauses")
	// ErrLimit: another limit (from+size over MaxResultWindow, ...) was
	// exceeded.
	ErrLimit = errors.New("query: limit exceeded")
)

// parseErr is ErrParse about the clause at path.
func parseErr(path, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return rpcerr.WithMetadata(fmt.Errorf("%w: [%s] %s", ErrParse, path, msg), rpcerr.KeyField, path)
}

// limitErr is sentinel for path exceeding limitName.
func limitErr(sentinel error, path string, size int, limitName string, limit int) error {
	return rpcerr.WithMetadata(
		fmt.Errorf("%w: [%s] is %d, the limit (%s) is %d", sentinel, path, size, limitName, limit),
		rpcerr.KeyField, path, rpcerr.KeySize, strconv.Itoa(size),
		rpcerr.KeyLimit, strconv.Itoa(limit), rpcerr.KeyLimitName, limitName)
}
