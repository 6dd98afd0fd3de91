package engine

import (
	"cairn.dev/cairn/raftkv/sql/pgwire"
	"context"
	"fmt"
	"testing"
	"time"
)

// TestDifferencesFoundBySQLDiff holds the differences bench/sql-diff.sh
// found between cairn and PostgreSQL 15, each answered as PostgreSQL does.
func TestDifferencesFoundBySQLDiff(t *testing.T) {
	t.Parallel()
	ts := newTestEngine(t).testSession(t)
	ts.exec("CREATE TABLE addr (id INT PRIMARY KEY, zip CHAR(5), status VARCHAR(20))")
	ts.exec("INSERT INTO addr VALUES (1, '123', 'new'), (2, NULL, 'paid')")
	// COALESCE of char(5) and an untyped literal is unbounded bpchar: no truncation.
	ts.wantRows("SELECT COALESCE(zip, 'Ada Lovelace') FROM addr ORDER BY id", "123  \nAda Lovelace")
	// length() of char(n) ignores the padding; octet_length does not.
	ts.wantRows("SELECT length(zip), octet_length(zip), length('a '::char(3)) FROM addr WHERE id = 1", "3|5|1")
	// A text function takes char(n) as text, without the padding.
	ts.wantRows("SELECT upper(zip), zip || '|', substring(zip, 3, 5), replace(zip, '1', 'x') FROM addr WHERE id = 1", "123|123||3|x23")
	ts.wantRows("START TRANSACTION", "")
	if tag := ts.exec("COMMIT").tag; tag != "COMMIT" {
		t.Fatalf("COMMIT tag %q", tag)
	}
	for _, c := range []struct {
		sql, typ string
	}{
		{"SELECT min(zip) FROM addr", "bpchar"},
		{"SELECT status FROM addr UNION SELECT 'other'", "varchar"},
		{"SELECT COALESCE(zip, 'x') FROM addr", "bpchar"},
	} {
		if got := ts.columnType(c.sql); got != c.typ {
			t.Errorf("%s: column type %s, want %s", c.sql, got, c.typ)
		}
	}
	ts.wantRows("SELECT status FROM addr UNION SELECT 'other' ORDER BY 1", "new\nother\npaid")
	// A parameter beside a char(5) column: described and executed alike.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := ts.s.Prepare(ctx, "SELECT COALESCE(zip, $1) FROM addr ORDER BY id", nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	_, err = st.Execute(ctx, []pgwire.Param{{Data: []byte("pro Max")}}, []int16{0}, func(vals [][]byte) error {
		got = append(got, string(vals[0]))
		return nil
	})
	if err != nil || len(got) != 2 || got[1] != "pro Max" {
		t.Fatalf("COALESCE(zip, $1) = %q, %v; want [\"123  \" \"pro Max\"]", got, err)
	}
	r := ts.query("START TRANSACTION")
	if r.err != nil || r.tag != "START TRANSACTION" {
		t.Fatalf("START TRANSACTION: tag %q, %v", r.tag, r.err)
	}
	ts.exec("ROLLBACK")
}

// columnType is the PostgreSQL name of the first result column's type of
// sql, as RowDescription reports it.
func (ts *tsess) columnType(sql string) string {
	ts.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := ts.s.Prepare(ctx, sql, nil)
	if err != nil {
		ts.t.Fatalf("%s: %v", sql, err)
	}
	switch oid := st.Columns()[0].TypeOID; oid {
	case 25:
		return "text"
	case 1042:
		return "bpchar"
	case 1043:
		return "varchar"
	default:
		return fmt.Sprintf("oid %d", oid)
	}
}
