package ast_test

import (
	"testing"

	"cairn.dev/cairn/raftkv/sql/ast"
	"cairn.dev/cairn/raftkv/sql/parser"
)

func TestIdent(t *testing.T) {
	for in, want := range map[string]string{
		"a": "a", "snake_case1": "snake_case1", "a$b": "a$b", "Mixed": `"Mixed"`, "select": `"select"`,
		"1a": `"1a"`, "a b": `"a b"`, `q"t`: `"q""t"`, "é": `"é"`, "user": `"user"`, "value": "value",
	} {
		if got := ast.Ident(in); got != want {
			t.Errorf("Ident(%q) = %s, want %s", in, got, want)
		}
	}
	if got := ast.QuoteString("it's"); got != "'it''s'" {
		t.Errorf("QuoteString = %s", got)
	}
}

// TestFormat checks the text of hand-built trees (the engine stores it in
// the catalog and prints it in plans) and that it parses back.
func TestFormat(t *testing.T) {
	tests := []struct {
		e    ast.Expr
		want string
	}{
		{&ast.BinaryExpr{Op: "*", Left: &ast.BinaryExpr{Op: "+", Left: &ast.ColumnRef{Column: "a"}, Right: &ast.Literal{Kind: ast.LitInteger, Text: "1"}},
			Right: &ast.ColumnRef{Table: "t", Column: "B"}}, `(a + 1) * t."B"`},
		{&ast.UnaryExpr{Op: "-", Operand: &ast.Literal{Kind: ast.LitInteger, Text: "-1"}}, "-(-1)"},
		{&ast.UnaryExpr{Op: "NOT", Operand: &ast.BinaryExpr{Op: "OR", Left: &ast.ColumnRef{Column: "x"}, Right: &ast.Literal{Kind: ast.LitBool, Bool: true}}}, "NOT (x OR TRUE)"},
		{&ast.CastExpr{Expr: &ast.Literal{Kind: ast.LitString, Text: "1"}, Type: ast.TypeName{Name: "timestamp with time zone", Mods: []int{3}}}, "CAST('1' AS timestamp(3) with time zone)"},
		{&ast.FuncCall{Name: "now"}, "now()"},
		{&ast.FuncCall{Name: "current_timestamp"}, "current_timestamp"},
		{&ast.FuncCall{Name: "count", Star: true, Filter: &ast.ColumnRef{Column: "ok"}}, "count(*) FILTER (WHERE ok)"},
		{&ast.InExpr{Expr: &ast.ColumnRef{Column: "s"}, List: []ast.Expr{&ast.Literal{Kind: ast.LitString, Text: "a"}}, Not: true}, "s NOT IN ('a')"},
		{&ast.IsNullExpr{Expr: &ast.ColumnRef{Column: "x"}, Not: true}, "x IS NOT NULL"},
	}
	for _, tt := range tests {
		got := ast.Format(tt.e)
		if got != tt.want {
			t.Errorf("Format = %s, want %s", got, tt.want)
		}
		if _, err := parser.ParseExpr(got); err != nil {
			t.Errorf("ParseExpr(%s): %v", got, err)
		}
	}
}
