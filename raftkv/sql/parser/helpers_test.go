package parser

import (
	"errors"
	"reflect"
	"testing"

	"cairn.dev/cairn/raftkv/sql/ast"
	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

// stripPos zeroes every Pos field reachable from v (a pointer), so trees
// parsed from different texts compare equal when only positions differ.
func stripPos(v any) {
	stripValue(reflect.ValueOf(v))
}

func stripValue(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			stripValue(v.Elem())
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < v.NumField(); i++ {
			if t.Field(i).Name == "Pos" && v.Field(i).Kind() == reflect.Int && v.Field(i).CanSet() {
				v.Field(i).SetInt(0)
				continue
			}
			stripValue(v.Field(i))
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			stripValue(v.Index(i))
		}
	}
}

// mustParseOne parses sql or fails the test.
func mustParseOne(t *testing.T, sql string) ast.Statement {
	t.Helper()
	st, err := ParseOne(sql)
	if err != nil {
		t.Fatalf("ParseOne(%q): %v", sql, err)
	}
	return st
}

// asSQLErr returns err as *sqlerr.Error or fails the test.
func asSQLErr(t *testing.T, err error) *sqlerr.Error {
	t.Helper()
	var e *sqlerr.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *sqlerr.Error", err, err)
	}
	return e
}

// roundTrip checks that Format(st) parses back to a tree equal to st and
// that formatting is stable; it returns the formatted text.
func roundTrip(t *testing.T, sql string, st ast.Statement) string {
	t.Helper()
	text := ast.Format(st)
	back, err := ParseOne(text)
	if err != nil {
		t.Fatalf("%q formats as %q, which does not parse: %v", sql, text, err)
	}
	stripPos(st)
	stripPos(back)
	if !reflect.DeepEqual(st, back) {
		t.Fatalf("%q formats as %q, which parses to a different tree:\n got %#v\nwant %#v", sql, text, back, st)
	}
	if again := ast.Format(back); again != text {
		t.Fatalf("format is not stable for %q:\n first %q\nsecond %q", sql, text, again)
	}
	return text
}
