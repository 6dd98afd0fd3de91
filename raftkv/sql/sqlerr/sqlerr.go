// Package sqlerr is the error contract of cairn's SQL layer: every error a SQL
// client can see is an *Error carrying a PostgreSQL SQLSTATE code, so psql, pgx
// and database/sql users branch on the codes they already know (23505 for a
// unique violation, 40001 for "retry the transaction", …).
package sqlerr

import (
	"errors"
	"fmt"
)

// SQLSTATE codes used by cairn (PostgreSQL's Appendix A).
const (
	SuccessfulCompletion       = "00000"
	SyntaxError                = "42601"
	UndefinedTable             = "42P01"
	UndefinedColumn            = "42703"
	UndefinedFunction          = "42883"
	UndefinedObject            = "42704"
	UndefinedParameter         = "42P02"
	DuplicateTable             = "42P07"
	DuplicateColumn            = "42701"
	DuplicateObject            = "42710"
	AmbiguousColumn            = "42702"
	DatatypeMismatch           = "42804"
	GroupingError              = "42803"
	InvalidColumnReference     = "42P10"
	InvalidSchemaName          = "3F000"
	InvalidTextRepresentation  = "22P02"
	NumericValueOutOfRange     = "22003"
	DivisionByZero             = "22012"
	StringDataRightTruncation  = "22001"
	InvalidParameterValue      = "22023"
	InvalidDatetimeFormat      = "22007"
	DatetimeFieldOverflow      = "22008"
	InvalidEscape              = "22025"
	CardinalityViolation       = "21000"
	NotNullViolation           = "23502"
	ForeignKeyViolation        = "23503"
	UniqueViolation            = "23505"
	CheckViolation             = "23514"
	SerializationFailure       = "40001"
	StatementCompletionUnknown = "40003"
	FeatureNotSupported        = "0A000"
	InvalidTransactionState    = "25000"
	ActiveTransaction          = "25001"
	NoActiveTransaction        = "25P01"
	InFailedTransaction        = "25P02"
	InvalidAuthorization       = "28000"
	InvalidPassword            = "28P01"
	QueryCanceled              = "57014"
	ProgramLimitExceeded       = "54000"
	DependentObjectsStillExist = "2BP01"
	ConnectionFailure          = "08006"
	ProtocolViolation          = "08P01"
	Internal                   = "XX000"
)

// Error is an error with a SQLSTATE. Message is the primary message (lower
// case, no trailing period, as PostgreSQL writes them); Detail and Hint are
// optional; Position is the 1-based character offset in the query the error
// points at, 0 when none. Err, when set, is the cause (for errors.Is/As).
type Error struct {
	Code     string
	Message  string
	Detail   string
	Hint     string
	Position int32
	Err      error
}

// New returns an *Error with code and a formatted message.
func New(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error with code and a formatted message whose cause is err.
func Wrap(code string, err error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
}

// Error returns "ERROR: message (SQLSTATE code)" as psql would show it, with
// the detail after it when there is one.
func (e *Error) Error() string {
	s := e.Message + " (SQLSTATE " + e.Code + ")"
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// WithDetail sets Detail and returns e.
func (e *Error) WithDetail(format string, args ...any) *Error {
	e.Detail = fmt.Sprintf(format, args...)
	return e
}

// WithHint sets Hint and returns e.
func (e *Error) WithHint(format string, args ...any) *Error {
	e.Hint = fmt.Sprintf(format, args...)
	return e
}

// At sets Position (1-based) and returns e.
func (e *Error) At(pos int32) *Error {
	e.Position = pos
	return e
}

// Code returns err's SQLSTATE: the code of the first *Error in its chain,
// SuccessfulCompletion for nil, Internal for any other error.
func Code(err error) string {
	if err == nil {
		return SuccessfulCompletion
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// As returns err as an *Error: the first in its chain, or an Internal error
// wrapping err.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: Internal, Message: err.Error(), Err: err}
}
