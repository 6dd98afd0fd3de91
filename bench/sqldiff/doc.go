// Command sqldiff is a differential test of cairn's SQL against PostgreSQL:
// it runs the same statements on both over the PostgreSQL wire protocol and
// reports every difference in results or SQLSTATEs. bench/sql-diff.sh starts
// a throwaway PostgreSQL 15 and a cairn cluster and runs it:
//
//	go run ./bench/sqldiff --pg postgres://postgres@127.0.0.1:25432/sqldiff \
//	    --cairn "$(bin/cairn sql url)" [--seed N] [--random N] [--only-corpus]
//
// # What it runs
//
//  1. schema.sql (DROP TABLE IF EXISTS, then the e-commerce tables users,
//     addresses, categories, products, orders, order_items and their
//     indexes) on both; any difference stops the run.
//  2. The same generated rows on both (seeded; a few hundred per table,
//     NULLs in every nullable column), as multi-row INSERT … RETURNING id
//     in batches: SERIAL ids are each target's own and the loader maps
//     foreign keys through them, so ids that differ are reported once and
//     the rows still mean the same on both sides.
//  3. --random N queries from a seeded generator over the model (gen.go):
//     joins along foreign keys, typed predicates, grouping and aggregates,
//     subqueries; ORDER BY every output column (compared in order) or no
//     ORDER BY (compared as multisets). Query i depends only on (seed, i):
//     --seed S --random-index i reruns just that one (after the load).
//     With the extended protocol, every odd-numbered query sends its
//     constants as placeholders $1, $2, … with text parameters of
//     unspecified type, so the server must infer their types as it does
//     for pgx and libpq clients (the report lists the values).
//  4. queries.sql, the fixed corpus, in order on one session per target
//     (its header documents the @ordered, @rowcount, @error and @known
//     directives).
//
// # How results compare
//
// Values are compared as the servers print them in text format (the
// extended protocol asks for text results; --protocol simple uses Query):
// 25.00 and 25.0 differ, as do 1e+20 and 100000000000000000000. The
// column names, type OIDs and command tag are compared too. Errors agree
// when their SQLSTATEs do (messages are not compared). Both sessions set
// TimeZone=UTC at startup (--timezone), so timestamptz values print alike.
// Text ordering is the anchor database's collation: run PostgreSQL with
// the C collation (bench/sql-diff.sh does) to compare bytewise order.
//
// # Output
//
// Every difference is printed with its label (schema.sql:N, random #i or
// queries.sql:N), the seed, the reason, the statement and both results
// (cut to --show-rows rows of --show-width characters; for multisets,
// the rows found on one side only). A difference on a statement marked
// "-- @known REASON" is listed as known and does not fail the run; a known
// statement that agrees fails it (remove the directive). A corpus error case the anchor does
// not answer as written is reported as CORPUS (a bug in the corpus). The
// last line counts the statements that agreed, differed and failed on
// both with the same SQLSTATE. A client failure (timeout, broken
// connection; the connection is reopened) never agrees. Exit status: 0
// all agreed, 1 any unexpected difference or corpus problem, 2 the run itself failed (connection,
// files, flags).
package main
