package parser

import (
	"reflect"
	"testing"
)

func TestSplit(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{" ; ;\n", nil},
		{"SELECT 1", []string{"SELECT 1"}},
		{"SELECT 1; SELECT 2;", []string{"SELECT 1", "SELECT 2"}},
		{"SELECT ';'; SELECT 2", []string{"SELECT ';'", "SELECT 2"}},
		{"SELECT 'it''s;'; x", []string{"SELECT 'it''s;'", "x"}},
		{`SELECT E'\';'; x`, []string{`SELECT E'\';'`, "x"}},
		{`SELECT '\'; x`, []string{`SELECT '\'`, "x"}},
		{`SELECT ";"; x`, []string{`SELECT ";"`, "x"}},
		{"SELECT 1 -- a; comment\n; x", []string{"SELECT 1 -- a; comment", "x"}},
		{"SELECT /* a /* ; */ ; */ 1; x", []string{"SELECT /* a /* ; */ ; */ 1", "x"}},
		{"DO $$ BEGIN; END $$; x", []string{"DO $$ BEGIN; END $$", "x"}},
		{"DO $f$ $$;$$ $f$; x", []string{"DO $f$ $$;$$ $f$", "x"}},
		{"SELECT $1; SELECT a$b; x", []string{"SELECT $1", "SELECT a$b", "x"}},
		{"-- only a comment\n; /* and another */ ; SELECT 1", []string{"SELECT 1"}},
		{"SELECT 'unterminated; x", []string{"SELECT 'unterminated; x"}},
		{"SELECT 1 /* unterminated ; x", []string{"SELECT 1 /* unterminated ; x"}},
	}
	for _, tt := range tests {
		if got := Split(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Split(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestSplitAgreesWithParse checks that the texts Split cuts from the corpus
// parse to the same statements as the whole script.
func TestSplitAgreesWithParse(t *testing.T) {
	script := "BEGIN; INSERT INTO t VALUES ('a;b', $$c;d$$); /* x; */ SELECT 1; COMMIT"
	all, err := Parse(script)
	if err != nil {
		t.Fatal(err)
	}
	parts := Split(script)
	if len(parts) != len(all) {
		t.Fatalf("Split gives %d statements, Parse %d", len(parts), len(all))
	}
	for i, part := range parts {
		one := mustParseOne(t, part)
		stripPos(one)
		stripPos(all[i])
		if !reflect.DeepEqual(one, all[i]) {
			t.Errorf("statement %d: %q parses differently alone", i, part)
		}
	}
}
