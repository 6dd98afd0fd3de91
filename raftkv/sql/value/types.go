package value

import (
	"strconv"
	"strings"

	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

// Limits on type modifiers (PostgreSQL's).
const (
	// MaxNumericPrecision is the largest precision of NUMERIC(p,s).
	MaxNumericPrecision = 1000
	// MaxCharLength is the largest n of VARCHAR(n) and CHAR(n).
	MaxCharLength = 10485760
)

// PostgreSQL type OIDs.
const (
	OIDBool        uint32 = 16
	OIDBytea       uint32 = 17
	OIDInt8        uint32 = 20
	OIDInt2        uint32 = 21
	OIDInt4        uint32 = 23
	OIDText        uint32 = 25
	OIDJSON        uint32 = 114
	OIDFloat4      uint32 = 700
	OIDFloat8      uint32 = 701
	OIDUnknown     uint32 = 705
	OIDBpchar      uint32 = 1042
	OIDVarchar     uint32 = 1043
	OIDDate        uint32 = 1082
	OIDTimestamp   uint32 = 1114
	OIDTimestampTZ uint32 = 1184
	OIDNumeric     uint32 = 1700
	OIDJSONB       uint32 = 3802
)

// ParseType returns the type named name (as written in SQL, any case, e.g.
// "integer", "character varying", "timestamp with time zone") with the type
// modifiers mods (varchar(n) → [n], numeric(p,s) → [p, s]). serial,
// bigserial and smallserial give int4, int8 and int2: the caller marks the
// column serial. json is stored as jsonb. Errors: 42704 for an unknown name,
// 42601 for modifiers on a type that takes none, 22023 for modifiers out of
// range.
func ParseType(name string, mods []int) (Type, error) {
	n := strings.Join(strings.Fields(strings.ToLower(name)), " ")
	n = strings.TrimPrefix(n, "pg_catalog.")
	noMods := func(t Type) (Type, error) {
		if len(mods) > 0 {
			return Type{}, sqlerr.New(sqlerr.SyntaxError, "type modifier is not allowed for type %q", t.String())
		}
		return t, nil
	}
	switch n {
	case "int", "integer", "int4", "serial", "serial4":
		return noMods(Int4)
	case "bigint", "int8", "bigserial", "serial8":
		return noMods(Int8)
	case "smallint", "int2", "smallserial", "serial2":
		return noMods(Int2)
	case "boolean", "bool":
		return noMods(Bool)
	case "text":
		return noMods(Text)
	case "bytea":
		return noMods(Bytea)
	case "jsonb", "json":
		return noMods(JSONB)
	case "date":
		return noMods(Date)
	case "double precision", "float8":
		return noMods(Float8)
	case "real", "float4":
		return noMods(Float4)
	case "float":
		if len(mods) == 0 {
			return Float8, nil
		}
		if len(mods) > 1 {
			return Type{}, sqlerr.New(sqlerr.SyntaxError, "syntax error: float takes one precision")
		}
		p := mods[0]
		switch {
		case p < 1:
			return Type{}, sqlerr.New(sqlerr.InvalidParameterValue, "precision for type float must be at least 1 bit")
		case p <= 24:
			return Float4, nil
		case p <= 53:
			return Float8, nil
		}
		return Type{}, sqlerr.New(sqlerr.InvalidParameterValue, "precision for type float must be less than 54 bits")
	case "timestamp", "timestamp without time zone", "timestamptz", "timestamp with time zone":
		t := Timestamp
		if n == "timestamptz" || n == "timestamp with time zone" {
			t = TimestampTZ
		}
		if len(mods) > 1 {
			return Type{}, sqlerr.New(sqlerr.SyntaxError, "invalid type modifier")
		}
		if len(mods) == 1 && (mods[0] < 0 || mods[0] > 6) {
			return Type{}, sqlerr.New(sqlerr.InvalidParameterValue, "TIMESTAMP(%d) precision must be between 0 and 6", mods[0])
		}
		return t, nil
	case "numeric", "decimal", "dec":
		return numericType(mods)
	case "varchar", "character varying", "char varying":
		t := Type{Kind: KindText, Varchar: true}
		return charType(t, "varchar", mods)
	case "char", "character", "bpchar":
		t := Type{Kind: KindText, Fixed: true}
		if len(mods) == 0 && n != "bpchar" {
			t.Length = 1
			return t, nil
		}
		return charType(t, "char", mods)
	case "unknown":
		return noMods(Unknown)
	}
	return Type{}, sqlerr.New(sqlerr.UndefinedObject, "type %q does not exist", name)
}

func numericType(mods []int) (Type, error) {
	t := Numeric
	switch len(mods) {
	case 0:
		return t, nil
	case 1, 2:
	default:
		return Type{}, sqlerr.New(sqlerr.SyntaxError, "invalid NUMERIC type modifier")
	}
	p := mods[0]
	if p < 1 || p > MaxNumericPrecision {
		return Type{}, sqlerr.New(sqlerr.InvalidParameterValue, "NUMERIC precision %d must be between 1 and %d", p, MaxNumericPrecision)
	}
	s := 0
	if len(mods) == 2 {
		s = mods[1]
	}
	if s < -1000 || s > 1000 {
		return Type{}, sqlerr.New(sqlerr.InvalidParameterValue, "NUMERIC scale %d must be between -1000 and 1000", s)
	}
	t.Precision, t.Scale = int32(p), int32(s)
	return t, nil
}

func charType(t Type, name string, mods []int) (Type, error) {
	switch len(mods) {
	case 0:
		return t, nil
	case 1:
	default:
		return Type{}, sqlerr.New(sqlerr.SyntaxError, "invalid type modifier")
	}
	n := mods[0]
	if n < 1 {
		return Type{}, sqlerr.New(sqlerr.InvalidParameterValue, "length for type %s must be at least 1", name)
	}
	if n > MaxCharLength {
		return Type{}, sqlerr.New(sqlerr.InvalidParameterValue, "length for type %s cannot exceed %d", name, MaxCharLength)
	}
	t.Length = int32(n)
	return t, nil
}

// String returns the type as PostgreSQL's format_type spells it: integer,
// bigint, numeric(10,2), character varying(5), timestamp with time zone, …
func (t Type) String() string {
	switch t.Kind {
	case KindBool:
		return "boolean"
	case KindInt:
		switch t.Width {
		case 2:
			return "smallint"
		case 8:
			return "bigint"
		}
		return "integer"
	case KindFloat:
		if t.Width == 4 {
			return "real"
		}
		return "double precision"
	case KindNumeric:
		if t.Precision > 0 {
			return "numeric(" + strconv.Itoa(int(t.Precision)) + "," + strconv.Itoa(int(t.Scale)) + ")"
		}
		return "numeric"
	case KindText:
		base := "text"
		switch {
		case t.Fixed:
			if t.Length == 0 {
				return "bpchar"
			}
			base = "character"
		case t.Varchar:
			base = "character varying"
		case t.Length > 0:
			base = "character varying"
		}
		if t.Length > 0 {
			return base + "(" + strconv.Itoa(int(t.Length)) + ")"
		}
		return base
	case KindBytes:
		return "bytea"
	case KindTimestamp:
		return "timestamp without time zone"
	case KindTimestampTZ:
		return "timestamp with time zone"
	case KindDate:
		return "date"
	case KindJSON:
		return "jsonb"
	}
	return "unknown"
}

// OID returns the PostgreSQL type OID of t (705, unknown, for KindUnknown).
func (t Type) OID() uint32 {
	switch t.Kind {
	case KindBool:
		return OIDBool
	case KindInt:
		switch t.Width {
		case 2:
			return OIDInt2
		case 8:
			return OIDInt8
		}
		return OIDInt4
	case KindFloat:
		if t.Width == 4 {
			return OIDFloat4
		}
		return OIDFloat8
	case KindNumeric:
		return OIDNumeric
	case KindText:
		switch {
		case t.Fixed:
			return OIDBpchar
		case t.Varchar, t.Length > 0:
			return OIDVarchar
		}
		return OIDText
	case KindBytes:
		return OIDBytea
	case KindTimestamp:
		return OIDTimestamp
	case KindTimestampTZ:
		return OIDTimestampTZ
	case KindDate:
		return OIDDate
	case KindJSON:
		return OIDJSONB
	}
	return OIDUnknown
}

// Size returns pg_type.typlen of t as RowDescription carries it: the byte
// width of fixed-size types, -1 for variable-length ones, -2 for unknown.
func (t Type) Size() int16 {
	switch t.Kind {
	case KindBool:
		return 1
	case KindInt:
		switch t.Width {
		case 2:
			return 2
		case 8:
			return 8
		}
		return 4
	case KindFloat:
		if t.Width == 4 {
			return 4
		}
		return 8
	case KindTimestamp, KindTimestampTZ:
		return 8
	case KindDate:
		return 4
	case KindUnknown:
		return -2
	}
	return -1
}

// Modifier returns the typmod of t as PostgreSQL sends it in
// RowDescription: n+4 for varchar(n)/char(n), ((p<<16)|s)+4 for
// numeric(p,s), -1 when t has no modifier.
func (t Type) Modifier() int32 {
	switch t.Kind {
	case KindText:
		if t.Length > 0 {
			return t.Length + 4
		}
	case KindNumeric:
		if t.Precision > 0 {
			return (t.Precision<<16 | t.Scale&0x7ff) + 4
		}
	}
	return -1
}

// TypeFromOID returns the type with PostgreSQL OID oid (without modifiers;
// json 114 maps to jsonb) and whether cairn knows it.
func TypeFromOID(oid uint32) (Type, bool) {
	switch oid {
	case OIDBool:
		return Bool, true
	case OIDBytea:
		return Bytea, true
	case OIDInt8:
		return Int8, true
	case OIDInt2:
		return Int2, true
	case OIDInt4:
		return Int4, true
	case OIDText:
		return Text, true
	case OIDJSON, OIDJSONB:
		return JSONB, true
	case OIDFloat4:
		return Float4, true
	case OIDFloat8:
		return Float8, true
	case OIDUnknown:
		return Unknown, true
	case OIDBpchar:
		return Type{Kind: KindText, Fixed: true}, true
	case OIDVarchar:
		return Type{Kind: KindText, Varchar: true}, true
	case OIDDate:
		return Date, true
	case OIDTimestamp:
		return Timestamp, true
	case OIDTimestampTZ:
		return TimestampTZ, true
	case OIDNumeric:
		return Numeric, true
	}
	return Type{}, false
}
