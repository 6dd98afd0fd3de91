// Package pgwire is cairn's PostgreSQL server: the frontend/backend protocol
// version 3 (startup, TLS, SCRAM-SHA-256 and client-certificate
// authentication, the simple and extended query protocols, COPY FROM STDIN in
// text, CSV and binary formats, CancelRequest) spoken over net.Listeners, so
// psql, pgx and database/sql reach cairn's SQL engine unchanged.
//
// The package knows nothing of SQL: an Engine (raftkv/sql/engine) opens a
// Session per connection and prepares Statements; pgwire turns messages into
// calls on them and their results and errors (*sqlerr.Error) into messages.
//
//	srv := pgwire.NewServer(pgwire.Config{TLS: tlsConf}, eng)
//	go srv.Serve(listener)
//	…
//	srv.Shutdown(ctx) // stop accepting, let running statements finish, close
//
// Message codecs come from github.com/jackc/pgx/v5/pgproto3; the framing,
// the state machines and the limits are this package's.
package pgwire
