package parser

import (
	"reflect"
	"testing"
)

func TestLexer(t *testing.T) {
	type tk struct {
		kind tokKind
		text string
	}
	tests := []struct {
		in   string
		want []tk
	}{
		{"SeLeCt \"MiX\"\"ed\" _a1$", []tk{{tIdent, "select"}, {tQIdent, `MiX"ed`}, {tIdent, "_a1$"}}},
		{"1 1.5 .5 1. 1e3 1.5E-3 007", []tk{{tInt, "1"}, {tNum, "1.5"}, {tNum, ".5"}, {tNum, "1."}, {tNum, "1e3"}, {tNum, "1.5E-3"}, {tInt, "007"}}},
		{"a::int||b->>'k'", []tk{{tIdent, "a"}, {tOp, "::"}, {tIdent, "int"}, {tOp, "||"}, {tIdent, "b"}, {tOp, "->>"}, {tString, "k"}}},
		{"a=-1", []tk{{tIdent, "a"}, {tOp, "="}, {tOp, "-"}, {tInt, "1"}}},
		{"a<>b!=c<=d>=e", []tk{{tIdent, "a"}, {tOp, "<>"}, {tIdent, "b"}, {tOp, "!="}, {tIdent, "c"}, {tOp, "<="}, {tIdent, "d"}, {tOp, ">="}, {tIdent, "e"}}},
		{"a@-b", []tk{{tIdent, "a"}, {tOp, "@-"}, {tIdent, "b"}}},
		{"a+-- comment\nb", []tk{{tIdent, "a"}, {tOp, "+"}, {tIdent, "b"}}},
		{"a*/* c /* nested */ */b", []tk{{tIdent, "a"}, {tOp, "*"}, {tIdent, "b"}}},
		{"$1 $23 $$x$$ $a$y$a$", []tk{{tParam, "1"}, {tParam, "23"}, {tString, "x"}, {tString, "y"}}},
		{`E'\n\t\\\'\x41\101\u00e9' e'' N'n'`, []tk{{tString, "\n\t\\'AAé"}, {tString, ""}, {tString, "n"}}},
		{"'a''b' 'c\\d'", []tk{{tString, "a'b"}, {tString, `c\d`}}},
		{"(a[1]):b;.", []tk{{tPunct, "("}, {tIdent, "a"}, {tPunct, "["}, {tInt, "1"}, {tPunct, "]"}, {tPunct, ")"}, {tPunct, ":"}, {tIdent, "b"}, {tPunct, ";"}, {tPunct, "."}}},
		{"t.a 1..2", []tk{{tIdent, "t"}, {tPunct, "."}, {tIdent, "a"}, {tInt, "1"}, {tPunct, "."}, {tNum, ".2"}}},
	}
	for _, tt := range tests {
		toks, err := lex(tt.in)
		if err != nil {
			t.Errorf("lex(%q): %v", tt.in, err)
			continue
		}
		var got []tk
		for _, tok := range toks[:len(toks)-1] {
			got = append(got, tk{tok.kind, tok.text})
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("lex(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
