// Package schema is the catalog and storage layer of cairn's SQL engine: table,
// index and sequence descriptors kept in raftkv, DDL (CREATE/DROP/ALTER TABLE,
// CREATE/DROP INDEX, TRUNCATE), roles, and the row and index storage that
// INSERT, UPDATE and DELETE go through, with PostgreSQL's constraint checks
// (NOT NULL, CHECK, PRIMARY KEY/UNIQUE, FOREIGN KEY with RESTRICT/NO ACTION,
// CASCADE and SET NULL) and the error codes, messages and details PostgreSQL
// gives for them.
//
// Every read and write goes through a *kvtxn.Txn, so DDL is transactional
// (CREATE TABLE then ROLLBACK leaves nothing) and serializable: every DDL
// statement rewrites the catalog version key, and every transaction that
// loads the catalog reads it, so a DDL statement conflicts with every
// concurrent transaction that used the catalog it changed. The only writes
// made outside the caller's transaction are sequence increments (NextVal),
// which PostgreSQL does not roll back either.
//
// # Key layout
//
// All keys live under /cairn/sql/:
//
//	c/version                  catalog version: 8-byte counter + 8 random bytes, rewritten by every DDL
//	c/nextid                   the next table id (uint32 big-endian)
//	c/t/<table name>           table descriptor (JSON, columns named by id)
//	c/s/<sequence name>        sequence descriptor (JSON)
//	s/<counter id>             a sequence's last value (int64 big-endian), written outside user transactions
//	r/<role name>              role (JSON: login, superuser, SCRAM secret)
//	t/<table id><index id><key> rows and index entries (ids uint32 big-endian)
//
// The primary index has id 1: its key is the primary key columns in
// value.AppendKey form and its value the other columns in value.EncodeRow
// form, tagged by column id (so ADD and DROP COLUMN rewrite no rows).
// A unique index entry with no NULL column is key = index columns, value =
// the primary key bytes; a non-unique entry, and a unique entry with a NULL
// (NULLs never conflict, as in PostgreSQL), is key = index columns + primary
// key bytes, value empty. A table without a PRIMARY KEY gets a hidden
// "rowid" column filled from a sequence as its primary key.
//
// # Isolation
//
// Constraint checks are reads of the caller's transaction. Under
// SERIALIZABLE every one is validated at commit, so racing writes become
// serialization failures (40001), never duplicates or dangling references.
// Under READ COMMITTED only locked keys are validated: the keys a PRIMARY
// KEY or UNIQUE check found absent and the parent keys a FOREIGN KEY check
// found present are locked (LockForUpdate), so uniqueness and the existence
// of a new row's parent hold; but the search for referencing rows when a
// parent is deleted is a range read that READ COMMITTED cannot lock, so a
// child inserted concurrently with its parent's deletion can survive it.
//
// # Using it
//
// The engine loads a Catalog in each transaction (Load, or Version to reuse a
// cached one: a Catalog is immutable and safe to share), runs DDL through the
// functions named after the statements, and reloads the catalog after DDL
// (DDL functions never modify the Catalog they are given). Rows are Row
// values in table column order, hidden rowid included; the engine fills
// defaults (Evaluator.EvalDefault) and leaves the hidden rowid NULL for
// Insert to fill. Insert, Update and DeleteRows (Delete for one row) keep
// the indexes and check the constraints, reading every constraint before
// writing, so a failed call leaves nothing behind; DeleteRows should get all
// the rows of one DELETE statement, as foreign key actions run after them.
// Scan and Lookup read through the primary key or any index.
//
// Sequences: NextVal(ctx, db, cat, name) increments in its own transaction
// on db (not rolled back, gaps possible); it takes the catalog instead of
// the caller's transaction so a sequence created by an uncommitted CREATE
// TABLE works. Roles: CreateRole and AlterRole take a SecretFunc
// (pgwire.NewSCRAMSecret) so this package does not import pgwire.
package schema
