package pgwire

import (
	"context"
)

// Engine is the SQL engine behind a Server. Its methods are called
// concurrently from every connection's goroutine.
type Engine interface {
	// NewSession opens the session of an authenticated connection. An error
	// closes the connection with a FATAL ErrorResponse carrying its SQLSTATE
	// (an *sqlerr.Error; other errors are reported as XX000).
	NewSession(ctx context.Context, user, database string) (Session, error)
	// PasswordSecret returns user's SCRAM-SHA-256 secret in RFC 5803 form
	// ("SCRAM-SHA-256$<iter>:<salt b64>$<StoredKey b64>:<ServerKey b64>", as
	// NewSCRAMSecret makes it); ok is false when the role does not exist or
	// has no password (the client then fails 28P01 without learning which).
	PasswordSecret(ctx context.Context, user string) (secret string, ok bool, err error)
}

// Session is one connection's SQL session. pgwire calls its methods (and
// those of its Statements) from one goroutine at a time; Close is called once
// when the connection ends. The ctx of each call is that statement's: it is
// cancelled by a CancelRequest or a dropped connection and ends when the
// call returns (an engine returning ctx.Err() is reported as 57014).
type Session interface {
	// Prepare parses one statement for the extended protocol. paramOIDs are
	// the types the client named (0 = infer). pgwire never passes a blank
	// string; a string holding no statement (a comment, ";") yields a
	// Statement whose Execute returns the tag "" (EmptyQueryResponse).
	Prepare(ctx context.Context, sql string, paramOIDs []uint32) (Statement, error)
	// PrepareAll parses every statement of a simple-protocol query string;
	// an empty result is answered with EmptyQueryResponse. pgwire executes
	// them in order and stops at the first error (the statements of one
	// string form PostgreSQL's implicit transaction: the engine, which sees
	// both the string and the error, commits or rolls it back). pgwire
	// calls a statement's Columns only after the statements before it ran.
	PrepareAll(ctx context.Context, sql string) ([]Statement, error)
	// TxStatus reports the transaction state for ReadyForQuery: 'I' idle,
	// 'T' in a transaction block, 'E' in a failed transaction block.
	TxStatus() byte
	// Close ends the session (rolling back an open transaction).
	Close()
}

// Statement is a prepared statement. It may be executed many times, each
// time with new parameters. A Statement that is also an io.Closer is closed
// when the client deallocates it (Close, or a Parse replacing the unnamed
// statement); at the end of the connection only Session.Close is called.
type Statement interface {
	// ParamOIDs returns the parameter types, inferred where the client left
	// them 0 (unknown → text, 25); it never contains 0.
	ParamOIDs() []uint32
	// Columns describes the result rows; nil when the statement returns none.
	Columns() []Column
	// CopyIn reports whether the statement is COPY … FROM STDIN, with the
	// number of columns each row carries and the format options as written.
	CopyIn() (cols int, format CopyFormat, ok bool)
	// Execute runs the statement. params has one entry per ParamOIDs, each
	// with its own format; resultFormats has one entry per Columns (0 text,
	// 1 binary) — pgwire expands the protocol's "one format for all" forms.
	// row is called for each result row; values[i] nil means NULL, and the
	// engine may reuse the slices after row returns. An error from row (the
	// connection failed) must be returned. tag is the CommandComplete tag
	// ("SELECT 3", "INSERT 0 1"); "" means the statement was empty.
	Execute(ctx context.Context, params []Param, resultFormats []int16, row func(values [][]byte) error) (tag string, err error)
	// CopyFrom runs COPY … FROM STDIN. next returns one row per call (len ==
	// the cols CopyIn reported, nil = NULL) and io.EOF after the last one;
	// any other error from next (bad data 22P04, client CopyFail 57014, a
	// broken connection) must end the COPY and be returned as it is. For
	// CopyText and CopyCSV a field is its de-escaped text; for CopyBinary
	// it holds the raw bytes of the column type's binary send format.
	CopyFrom(ctx context.Context, format CopyFormat, next func() ([]*string, error)) (tag string, err error)
}

// ParamReporter is an optional interface of a Session. After the startup
// (overriding the server's defaults, e.g. is_superuser) and after every
// statement, pgwire sends a ParameterStatus for each entry ReportParams
// returns; the session returns each change once.
type ParamReporter interface {
	ReportParams() map[string]string
}

// Column describes one result column as RowDescription carries it.
type Column struct {
	Name     string
	TableOID uint32 // 0 when not a table column
	Attr     int16  // attribute number in the table, 0 when none
	TypeOID  uint32
	TypeSize int16 // pg_type.typlen: -1 variable
	TypeMod  int32 // -1 none
}

// Param is one bound parameter value.
type Param struct {
	Format int16 // 0 text, 1 binary
	Data   []byte
	Null   bool
}

// CopyKind is the format of a COPY data stream.
type CopyKind uint8

// Copy formats.
const (
	CopyText   CopyKind = iota // tab-separated, \N null, backslash escapes
	CopyCSV                    // RFC 4180-like, empty unquoted field = NULL
	CopyBinary                 // PGCOPY header, length-prefixed fields
)

// String returns the format's name as COPY spells it.
func (k CopyKind) String() string {
	switch k {
	case CopyText:
		return "text"
	case CopyCSV:
		return "csv"
	case CopyBinary:
		return "binary"
	}
	return "unknown"
}

// CopyFormat is the options of COPY … FROM STDIN that shape the data stream.
type CopyFormat struct {
	Kind      CopyKind
	Header    bool // text/CSV: the first line is a header and is skipped
	Delimiter byte // text/CSV: 0 = the default (tab for text, ',' for CSV)
}
