package parser

import (
	"os"
	"testing"
)

// TestRoundTripCorpus parses every statement of testdata/corpus.sql, formats
// it with ast.Format and checks the text parses back to an equal tree.
func TestRoundTripCorpus(t *testing.T) {
	data, err := os.ReadFile("testdata/corpus.sql")
	if err != nil {
		t.Fatal(err)
	}
	stmts := Split(string(data))
	if len(stmts) < 150 {
		t.Fatalf("corpus has %d statements, want at least 150", len(stmts))
	}
	for _, sql := range stmts {
		st, err := ParseOne(sql)
		if err != nil {
			t.Errorf("ParseOne(%q): %v", sql, err)
			continue
		}
		roundTrip(t, sql, st)
	}
}
