package transform

import "errors"

// Errors returned by Compile, ApplyRequest and ApplyResponse.
var (
	// ErrForbiddenHeader: an edit names a hop-by-hop header, Host or
	// Content-Length.
	ErrForbiddenHeader = errors.New("transform: header may not be edited")
	// ErrBadHeader: a header name is not an HTTP token, or a value holds a
	// control character such as CR or LF.
	ErrBadHeader = errors.New("transform: invalid header")
	// ErrBadPath: a JSON path is empty or has an empty segment ("a..b").
	ErrBadPath = errors.New("transform: invalid json path")
	// ErrBadValue: a JSON add value cannot be encoded as JSON.
	ErrBadValue = errors.New("transform: invalid json value")
	// ErrBadQuery: a query parameter name is empty.
	ErrBadQuery = errors.New("transform: invalid query parameter")
	// ErrBody: reading a body to edit it failed; the message is put back
	// unchanged as far as it was read.
	ErrBody = errors.New("transform: reading body")
)
