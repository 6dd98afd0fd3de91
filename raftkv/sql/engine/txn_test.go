package engine

import (
	"context"
	"strings"
	"testing"

	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

func TestFailedTransaction(t *testing.T) {
	t.Parallel()
	s := newTestEngine(t).testSession(t)
	s.exec(`CREATE TABLE t (id INT PRIMARY KEY)`)
	s.exec(`BEGIN`)
	if s.s.TxStatus() != 'T' {
		t.Fatalf("status %c", s.s.TxStatus())
	}
	s.exec(`INSERT INTO t VALUES (1)`)
	s.wantCode(`INSERT INTO t VALUES (1)`, "23505")
	if s.s.TxStatus() != 'E' {
		t.Fatalf("status %c after error", s.s.TxStatus())
	}
	e := s.wantCode(`SELECT 1`, "25P02")
	if e != nil && e.Message != "current transaction is aborted, commands ignored until end of transaction block" {
		t.Errorf("message %q", e.Message)
	}
	if r := s.exec(`COMMIT`); r.tag != "ROLLBACK" {
		t.Errorf("commit of a failed txn: tag %q", r.tag)
	}
	if s.s.TxStatus() != 'I' {
		t.Fatalf("status %c after rollback", s.s.TxStatus())
	}
	s.wantRows(`SELECT count(*) FROM t`, "0")
	s.exec(`BEGIN; INSERT INTO t VALUES (2); ROLLBACK`)
	s.wantRows(`SELECT count(*) FROM t`, "0")
	s.exec(`BEGIN; INSERT INTO t VALUES (3); END`)
	s.wantRows(`SELECT id FROM t`, "3")
	s.exec(`BEGIN`)
	s.wantCode(`SAVEPOINT a`, "0A000")
	s.exec(`ROLLBACK`)
}

func TestTransactionalDDL(t *testing.T) {
	t.Parallel()
	s := newTestEngine(t).testSession(t)
	s.exec(`BEGIN; CREATE TABLE d (id INT PRIMARY KEY); INSERT INTO d VALUES (1)`)
	s.wantRows(`SELECT id FROM d`, "1")
	s.exec(`ROLLBACK`)
	s.wantCode(`SELECT * FROM d`, "42P01")
	s.exec(`BEGIN; CREATE TABLE d (id INT PRIMARY KEY); INSERT INTO d VALUES (1); COMMIT`)
	s.wantRows(`SELECT id FROM d`, "1")
	s.exec(`ALTER TABLE d ADD COLUMN note TEXT DEFAULT 'x'`)
	s.wantRows(`SELECT id, note FROM d`, "1|x")
	s.exec(`CREATE INDEX d_note ON d (note)`)
	s.exec(`DROP TABLE d`)
	s.wantCode(`SELECT * FROM d`, "42P01")
}

// TestLastItemRace: two sessions buy the last item; one wins, the other
// gets 40001 (or sees no stock and updates 0 rows).
func TestLastItemRace(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t)
	a, b := e.testSession(t), e.testSession(t)
	a.exec(`CREATE TABLE stock (id INT PRIMARY KEY, n INT NOT NULL CHECK (n >= 0))`)
	a.exec(`INSERT INTO stock VALUES (1, 1)`)
	a.exec(`BEGIN`)
	b.exec(`BEGIN`)
	a.wantRows(`SELECT n FROM stock WHERE id = 1`, "1")
	b.wantRows(`SELECT n FROM stock WHERE id = 1`, "1")
	a.exec(`UPDATE stock SET n = n - 1 WHERE id = 1 AND n > 0`)
	b.exec(`UPDATE stock SET n = n - 1 WHERE id = 1 AND n > 0`)
	a.exec(`COMMIT`)
	e2 := b.wantCode(`COMMIT`, sqlerr.SerializationFailure)
	if e2 != nil && (!strings.Contains(e2.Message, "could not serialize access") || e2.Hint != "The transaction might succeed if retried.") {
		t.Errorf("40001 text: %q hint %q", e2.Message, e2.Hint)
	}
	a.wantRows(`SELECT n FROM stock WHERE id = 1`, "0")
	// autocommit statements retry internally and see the new state: 0 rows.
	if r := b.exec(`UPDATE stock SET n = n - 1 WHERE id = 1 AND n > 0`); r.tag != "UPDATE 0" {
		t.Errorf("tag %q", r.tag)
	}
}

// TestBankTransfer: a transfer is all or nothing.
func TestBankTransfer(t *testing.T) {
	t.Parallel()
	s := newTestEngine(t).testSession(t)
	s.exec(`CREATE TABLE acct (id INT PRIMARY KEY, bal NUMERIC(12,2) NOT NULL CHECK (bal >= 0))`)
	s.exec(`INSERT INTO acct VALUES (1, 100), (2, 0)`)
	s.exec(`BEGIN; UPDATE acct SET bal = bal + 150 WHERE id = 2`)
	s.wantCode(`UPDATE acct SET bal = bal - 150 WHERE id = 1`, "23514")
	s.exec(`COMMIT`)
	s.wantRows(`SELECT id, bal FROM acct ORDER BY id`, "1|100.00\n2|0.00")
	s.exec(`BEGIN; UPDATE acct SET bal = bal - 60 WHERE id = 1; UPDATE acct SET bal = bal + 60 WHERE id = 2; COMMIT`)
	s.wantRows(`SELECT sum(bal) FROM acct`, "100.00")
	s.wantRows(`SELECT id, bal FROM acct ORDER BY id`, "1|40.00\n2|60.00")
}

// TestWriteSkew: the on-call doctors anomaly is prevented under SERIALIZABLE.
func TestWriteSkew(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t)
	a, b := e.testSession(t), e.testSession(t)
	a.exec(`CREATE TABLE oncall (name TEXT PRIMARY KEY, on_call BOOL NOT NULL)`)
	a.exec(`INSERT INTO oncall VALUES ('alice', true), ('bob', true)`)
	a.exec(`BEGIN ISOLATION LEVEL SERIALIZABLE`)
	b.exec(`BEGIN`)
	a.wantRows(`SELECT count(*) FROM oncall WHERE on_call`, "2")
	b.wantRows(`SELECT count(*) FROM oncall WHERE on_call`, "2")
	a.exec(`UPDATE oncall SET on_call = false WHERE name = 'alice'`)
	b.exec(`UPDATE oncall SET on_call = false WHERE name = 'bob'`)
	a.exec(`COMMIT`)
	b.wantCode(`COMMIT`, "40001")
	a.wantRows(`SELECT count(*) FROM oncall WHERE on_call`, "1")
}

// TestReadCommitted: each statement sees the latest committed data; no write-skew protection.
func TestReadCommitted(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t)
	a, b := e.testSession(t), e.testSession(t)
	a.exec(`CREATE TABLE kv (k INT PRIMARY KEY, v INT)`)
	a.exec(`INSERT INTO kv VALUES (1, 1)`)
	a.exec(`BEGIN ISOLATION LEVEL READ COMMITTED`)
	a.wantRows(`SHOW transaction_isolation`, "read committed")
	a.wantRows(`SELECT v FROM kv WHERE k = 1`, "1")
	b.exec(`UPDATE kv SET v = 2 WHERE k = 1`)
	a.wantRows(`SELECT v FROM kv WHERE k = 1`, "2")
	a.exec(`INSERT INTO kv VALUES (2, 2)`)
	a.exec(`COMMIT`)
	// serializable sees a snapshot
	a.exec(`BEGIN`)
	a.wantRows(`SELECT v FROM kv WHERE k = 1`, "2")
	b.exec(`UPDATE kv SET v = 3 WHERE k = 1`)
	a.wantRows(`SELECT v FROM kv WHERE k = 1`, "2")
	a.exec(`COMMIT`) // read-only: commits
}

func TestSelectForUpdate(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t)
	a, b := e.testSession(t), e.testSession(t)
	a.exec(`CREATE TABLE q (id INT PRIMARY KEY, v INT)`)
	a.exec(`INSERT INTO q VALUES (1, 0)`)
	a.exec(`BEGIN ISOLATION LEVEL READ COMMITTED`)
	a.wantRows(`SELECT v FROM q WHERE id = 1 FOR UPDATE`, "0")
	b.exec(`UPDATE q SET v = 5 WHERE id = 1`)
	a.exec(`UPDATE q SET v = 1 WHERE id = 1`)
	a.wantCode(`COMMIT`, "40001")
	a.wantRows(`SELECT v FROM q`, "5")
}

// TestReadCommittedNoLostUpdate: concurrent READ COMMITTED increments of one
// row never lose an update: the later commit fails 40001 instead.
func TestReadCommittedNoLostUpdate(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t)
	a, b := e.testSession(t), e.testSession(t)
	a.exec(`CREATE TABLE n (id INT PRIMARY KEY, v INT)`)
	a.exec(`INSERT INTO n VALUES (1, 0)`)
	a.exec(`BEGIN ISOLATION LEVEL READ COMMITTED`)
	b.exec(`BEGIN ISOLATION LEVEL READ COMMITTED`)
	a.exec(`UPDATE n SET v = v + 1 WHERE id = 1`)
	b.exec(`UPDATE n SET v = v + 1 WHERE id = 1`)
	a.exec(`COMMIT`)
	b.wantCode(`COMMIT`, "40001")
	a.wantRows(`SELECT v FROM n`, "1")
	// two READ COMMITTED inserts of one key: one wins
	a.exec(`BEGIN ISOLATION LEVEL READ COMMITTED`)
	b.exec(`BEGIN ISOLATION LEVEL READ COMMITTED`)
	a.exec(`INSERT INTO n VALUES (2, 1)`)
	b.exec(`INSERT INTO n VALUES (2, 2)`)
	a.exec(`COMMIT`)
	b.wantCode(`COMMIT`, "40001")
	a.wantRows(`SELECT v FROM n WHERE id = 2`, "1")
}

// TestImplicitBatchTransaction: the statements of one query string are one
// transaction unless they hold transaction control.
func TestImplicitBatchTransaction(t *testing.T) {
	t.Parallel()
	s := newTestEngine(t).testSession(t)
	s.exec(`CREATE TABLE b (id INT PRIMARY KEY)`)
	s.wantCode(`INSERT INTO b VALUES (1); INSERT INTO b VALUES (1)`, "23505")
	if s.s.TxStatus() != 'I' {
		t.Fatalf("status %c", s.s.TxStatus())
	}
	s.wantRows(`SELECT count(*) FROM b`, "0")
	s.exec(`INSERT INTO b VALUES (1); INSERT INTO b VALUES (2); SET application_name = 'x'`)
	s.wantRows(`SELECT count(*) FROM b`, "2")
	s.exec(`CREATE TABLE b2 (id INT); INSERT INTO b2 VALUES (1); SELECT * FROM b2`)
	s.wantRows(`SELECT count(*) FROM b2`, "1")
}

// TestExtendedProtocolFailedTxn: Prepare errors fail a transaction block;
// only COMMIT/ROLLBACK prepare afterwards.
func TestExtendedProtocolFailedTxn(t *testing.T) {
	t.Parallel()
	s := newTestEngine(t).testSession(t)
	ctx := context.Background()
	s.exec(`BEGIN`)
	if _, err := s.s.Prepare(ctx, `SELECT * FROM missing`, nil); sqlerr.Code(err) != sqlerr.UndefinedTable {
		t.Fatalf("prepare: %v", err)
	}
	if s.s.TxStatus() != 'E' {
		t.Fatalf("status %c", s.s.TxStatus())
	}
	if _, err := s.s.Prepare(ctx, `SELECT 1`, nil); sqlerr.Code(err) != sqlerr.InFailedTransaction {
		t.Fatalf("prepare in failed txn: %v", err)
	}
	st, err := s.s.Prepare(ctx, `ROLLBACK`, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tag, err := st.Execute(ctx, nil, nil, nil); tag != "ROLLBACK" || err != nil {
		t.Fatalf("rollback: %q %v", tag, err)
	}
	if s.s.TxStatus() != 'I' {
		t.Fatalf("status %c", s.s.TxStatus())
	}
}
