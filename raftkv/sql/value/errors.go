package value

import (
	"fmt"

	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

// SQLSTATEs this package uses that sqlerr does not name.
const (
	codeBinaryFormat    = "22P03" // invalid_binary_representation
	codeCharNotInRepert = "22021" // character_not_in_repertoire
	codeUntranslatable  = "22P05" // untranslatable_character
	codeAmbiguousFunc   = "42725" // ambiguous_function
	codeCannotCoerce    = "42846" // cannot_coerce
	codeTZDisplacement  = "22009" // invalid_time_zone_displacement_value
)

// errSyntax is PostgreSQL's input error: invalid input syntax for type T: "s".
func errSyntax(t Type, s string) *sqlerr.Error {
	return sqlerr.New(sqlerr.InvalidTextRepresentation, "invalid input syntax for type %s: %s", inputTypeName(t), quoteInput(s))
}

// inputTypeName is the type name PostgreSQL uses in input errors (the base
// type, without modifiers).
func inputTypeName(t Type) string {
	switch t.Kind {
	case KindText:
		if t.Fixed {
			return "character"
		}
		if t.Varchar {
			return "character varying"
		}
		return "text"
	case KindNumeric:
		return "numeric"
	}
	return t.String()
}

// quoteInput quotes s the way PostgreSQL quotes an offending input value.
func quoteInput(s string) string { return `"` + s + `"` }

// errIntRange is the 22003 error of an integer type of the given width.
func errIntRange(width uint8) *sqlerr.Error {
	switch width {
	case 2:
		return sqlerr.New(sqlerr.NumericValueOutOfRange, "smallint out of range")
	case 4:
		return sqlerr.New(sqlerr.NumericValueOutOfRange, "integer out of range")
	}
	return sqlerr.New(sqlerr.NumericValueOutOfRange, "bigint out of range")
}

func errDivZero() *sqlerr.Error {
	return sqlerr.New(sqlerr.DivisionByZero, "division by zero")
}

func errOperator(op string, a, b Value) *sqlerr.Error {
	e := sqlerr.New(sqlerr.UndefinedFunction, "operator does not exist: %s %s %s", typeNameBe(a.Type), op, typeNameBe(b.Type))
	e.Hint = "No operator matches the given name and argument types. You might need to add explicit type casts."
	return e
}

func errUnaryOperator(op string, a Value) *sqlerr.Error {
	e := sqlerr.New(sqlerr.UndefinedFunction, "operator does not exist: %s %s", op, typeNameBe(a.Type))
	e.Hint = "No operator matches the given name and argument type. You might need to add an explicit type cast."
	return e
}

func errCannotCast(from, to Type) *sqlerr.Error {
	return sqlerr.New(codeCannotCoerce, "cannot cast type %s to %s", typeNameBe(from), typeNameBe(to))
}

func errBinary(t Type, format string, args ...any) *sqlerr.Error {
	return sqlerr.New(codeBinaryFormat, "incorrect binary data format for type %s: %s", t.String(), fmt.Sprintf(format, args...))
}

// typeNameBe is the type name PostgreSQL's format_type_be prints in
// messages: no modifiers, and bpchar spelled character.
func typeNameBe(t Type) string {
	if t.Kind == KindText && t.Fixed {
		return "character"
	}
	return baseType(t).String()
}
