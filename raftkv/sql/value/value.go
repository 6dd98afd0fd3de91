// Package value holds the SQL types and values of cairn's SQL layer and every
// way they are written down: PostgreSQL's text and binary wire formats, an
// order-preserving key encoding (bytes compare the way values do, so index
// range scans are raftkv range reads) and a compact row encoding tagged by
// column id.
package value

import (
	"time"

	"github.com/cockroachdb/apd/v3"
)

// Kind is the family of a type.
type Kind uint8

// The kinds. Unknown is the type of an untyped literal or parameter before
// inference ('…' and $1 whose use does not fix a type).
const (
	KindUnknown Kind = iota
	KindBool
	KindInt     // Width 2, 4 or 8 bytes
	KindFloat   // Width 4 or 8 bytes
	KindNumeric // Precision/Scale when declared (0 = unconstrained)
	KindText    // Width 0 text; Length > 0 with varchar(n)/char(n) (Fixed for char)
	KindBytes
	KindTimestamp
	KindTimestampTZ
	KindDate
	KindJSON // jsonb
)

// Type is a SQL type with its modifiers.
type Type struct {
	Kind      Kind
	Width     uint8 // KindInt: 2, 4, 8; KindFloat: 4, 8
	Precision int32 // KindNumeric: 0 = unconstrained
	Scale     int32 // KindNumeric
	Length    int32 // KindText: varchar(n)/char(n); 0 = unbounded
	Fixed     bool  // KindText: char(n) (blank-padded)
	Varchar   bool  // KindText: spelled varchar (OID 1043, not text)
}

// Common types.
var (
	Unknown     = Type{Kind: KindUnknown}
	Bool        = Type{Kind: KindBool}
	Int2        = Type{Kind: KindInt, Width: 2}
	Int4        = Type{Kind: KindInt, Width: 4}
	Int8        = Type{Kind: KindInt, Width: 8}
	Float4      = Type{Kind: KindFloat, Width: 4}
	Float8      = Type{Kind: KindFloat, Width: 8}
	Numeric     = Type{Kind: KindNumeric}
	Text        = Type{Kind: KindText}
	Bytea       = Type{Kind: KindBytes}
	Timestamp   = Type{Kind: KindTimestamp}
	TimestampTZ = Type{Kind: KindTimestampTZ}
	Date        = Type{Kind: KindDate}
	JSONB       = Type{Kind: KindJSON}
)

// Value is one SQL value; NULL is a Value with Null set (value.Null, or
// NullOf(t) when its type is known). Which field holds the
// datum depends on Type.Kind: Bool for KindBool, Int for KindInt, Float for
// KindFloat, Dec for KindNumeric, Str for KindText and KindJSON (the JSON
// text, normalised as jsonb prints it), Bytes for KindBytes, Time for the
// time kinds (UTC; KindDate at midnight).
type Value struct {
	Type  Type
	Null  bool // NULL; the other datum fields are then zero
	Bool  bool
	Int   int64
	Float float64
	Dec   *apd.Decimal
	Str   string
	Bytes []byte
	Time  time.Time
}

// Null is the NULL of unknown type.
var Null = Value{Null: true}

// NullOf returns the NULL of type t.
func NullOf(t Type) Value { return Value{Type: t, Null: true} }

// IsNull reports whether v is NULL.
func (v Value) IsNull() bool { return v.Null }
