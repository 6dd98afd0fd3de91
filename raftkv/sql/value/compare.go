package value

import (
	"bytes"
	"strings"

	"github.com/cockroachdb/apd/v3"
)

// Compare orders two non-NULL values the way PostgreSQL's comparison
// operators do, returning -1, 0 or +1. Integers, numerics and floats
// compare across kinds (exactly between integers and numerics; through
// float8 when a float is involved); NaN equals NaN and sorts above every
// other number. Text compares bytewise (the C collation); char(n) ignores
// trailing blanks. Timestamps, timestamptz and dates compare as instants
// (the session zone is UTC). jsonb uses jsonb's btree order. An untyped
// literal is first read as the other operand's type. Comparing other kinds
// is 42883 (operator does not exist); a NULL operand is the caller's job
// (Compare treats NULL as equal to NULL and below everything else).
func Compare(a, b Value) (int, error) {
	if a.Null || b.Null {
		switch {
		case a.Null && b.Null:
			return 0, nil
		case a.Null:
			return -1, nil
		}
		return 1, nil
	}
	var err error
	if a, b, err = resolveUnknown(a, b); err != nil {
		return 0, err
	}
	ka, kb := a.Type.Kind, b.Type.Kind
	switch {
	case ka == KindUnknown && kb == KindUnknown:
		return cmpString(a.Str, b.Str), nil
	case isNumberKind(ka) && isNumberKind(kb):
		return cmpNumbers(a, b), nil
	case ka == KindBool && kb == KindBool:
		return cmpBool(a.Bool, b.Bool), nil
	case ka == KindText && kb == KindText:
		return cmpString(textKey(a), textKey(b)), nil
	case ka == KindBytes && kb == KindBytes:
		return bytes.Compare(a.Bytes, b.Bytes), nil
	case isTimeKind(ka) && isTimeKind(kb):
		return a.Time.Compare(b.Time), nil
	case ka == KindJSON && kb == KindJSON:
		ja, err := parseJSON([]byte(a.Str))
		if err != nil {
			return 0, err
		}
		jb, err := parseJSON([]byte(b.Str))
		if err != nil {
			return 0, err
		}
		return sign(cmpJSONTop(ja, jb)), nil
	}
	return 0, errOperator("=", a, b)
}

// resolveUnknown reads an untyped literal operand as the other operand's
// type (PostgreSQL's rule for unknown literals).
func resolveUnknown(a, b Value) (Value, Value, error) {
	var err error
	switch {
	case a.Type.Kind == KindUnknown && b.Type.Kind != KindUnknown:
		a, err = ParseText(baseType(b.Type), []byte(a.Str))
	case b.Type.Kind == KindUnknown && a.Type.Kind != KindUnknown:
		b, err = ParseText(baseType(a.Type), []byte(b.Str))
	}
	return a, b, err
}

// baseType drops length and precision modifiers (keeping char vs text).
func baseType(t Type) Type {
	switch t.Kind {
	case KindText:
		return Type{Kind: KindText, Fixed: t.Fixed, Varchar: t.Varchar}
	case KindNumeric:
		return Numeric
	}
	return t
}

func isNumberKind(k Kind) bool { return k == KindInt || k == KindNumeric || k == KindFloat }

func isTimeKind(k Kind) bool { return k == KindTimestamp || k == KindTimestampTZ || k == KindDate }

// textKey is the string a text value compares by: char(n) drops trailing
// blanks.
func textKey(v Value) string {
	if v.Type.Fixed {
		return strings.TrimRight(v.Str, " ")
	}
	return v.Str
}

func cmpNumbers(a, b Value) int {
	ka, kb := a.Type.Kind, b.Type.Kind
	switch {
	case ka == KindInt && kb == KindInt:
		return cmpInt(a.Int, b.Int)
	case ka == KindFloat || kb == KindFloat:
		return cmpFloat(toFloat(a), toFloat(b))
	}
	return cmpDec(toDec(a), toDec(b))
}

// cmpFloat orders floats as PostgreSQL does: NaN = NaN > everything, -0 = 0.
func cmpFloat(x, y float64) int {
	xn, yn := isNaN(x), isNaN(y)
	switch {
	case xn && yn:
		return 0
	case xn:
		return 1
	case yn:
		return -1
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// toFloat converts a number value to float64.
func toFloat(v Value) float64 {
	switch v.Type.Kind {
	case KindInt:
		return float64(v.Int)
	case KindNumeric:
		if v.Dec == nil {
			return 0
		}
		return decToFloat(v.Dec)
	}
	return v.Float
}

// toDec converts an integer or numeric value to a decimal.
func toDec(v Value) *apd.Decimal {
	if v.Type.Kind == KindInt {
		return decFromInt(v.Int)
	}
	if v.Dec == nil {
		return new(apd.Decimal)
	}
	return v.Dec
}

func sign(c int) int {
	switch {
	case c < 0:
		return -1
	case c > 0:
		return 1
	}
	return 0
}
