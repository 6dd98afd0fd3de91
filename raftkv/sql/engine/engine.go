// Package engine is cairn's SQL engine: sessions, the transaction state
// machine, name resolution and typing, the planner (index vs full scans,
// lookup / hash / nested-loop joins ordered by a simple cost model) and the
// executor, over the schema package's storage and kvtxn's optimistic
// serializable transactions. It implements pgwire.Engine.
//
// Users: "root" is a superuser that exists implicitly and has no password
// (it logs in with a TLS client certificate only); other roles are created
// with CREATE ROLE/USER … PASSWORD, stored as SCRAM secrets.
//
// COPY FROM STDIN runs in one transaction (all or nothing, like
// PostgreSQL); past kvtxn's write limits it fails 54000 naming the limit.
// Autocommit statements that fail with a serialization conflict are retried
// internally (up to Options.MaxRetries times, jittered backoff) as long as no
// row was sent to the client.
package engine

import (
	"context"
	"log/slog"
	"sync"

	"cairn.dev/cairn/raftkv/sql/ast"
	"cairn.dev/cairn/raftkv/sql/kvtxn"
	"cairn.dev/cairn/raftkv/sql/parser"
	"cairn.dev/cairn/raftkv/sql/pgwire"
	"cairn.dev/cairn/raftkv/sql/schema"
	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

// Options configure an Engine; zero values are the defaults.
type Options struct {
	// MaxRetries bounds the internal retries of an autocommit statement
	// that hit a serialization conflict (default 10).
	MaxRetries int
	// RowEstimate is the row count the planner assumes for every table
	// (default 1000): index lookups beat scans, hash joins beat nested loops.
	RowEstimate int
	// Logger receives internal errors; nil discards.
	Logger *slog.Logger
}

// Engine is the SQL engine shared by every session of a node.
type Engine struct {
	db   *kvtxn.DB
	opts Options

	mu  sync.Mutex
	cat *schema.Catalog // the last catalog loaded, by version

	exprMu    sync.Mutex
	exprCache map[string]ast.Expr // parsed DEFAULT / CHECK texts
}

// New returns an engine over db.
func New(db *kvtxn.DB, opts Options) *Engine {
	if opts.MaxRetries <= 0 {
		opts.MaxRetries = 10
	}
	if opts.RowEstimate <= 0 {
		opts.RowEstimate = 1000
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Engine{db: db, opts: opts, exprCache: map[string]ast.Expr{}}
}

var _ pgwire.Engine = (*Engine)(nil)

func (e *Engine) rowEstimate() float64 { return float64(e.opts.RowEstimate) }

// NewSession opens a session for an authenticated user. The user must be
// root or an existing role with LOGIN (28000 otherwise).
func (e *Engine) NewSession(ctx context.Context, user, database string) (pgwire.Session, error) {
	s, err := e.newSession(ctx, user, database)
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (e *Engine) newSession(ctx context.Context, user, database string) (*Session, error) {
	super := false
	if user != RootUser {
		txn := e.db.Begin(kvtxn.Serializable)
		r, ok, err := schema.GetRole(ctx, txn, user)
		txn.Rollback()
		if err != nil {
			return nil, mapErr(err)
		}
		if !ok {
			return nil, sqlerr.New(sqlerr.InvalidAuthorization, "role %q does not exist", user)
		}
		if !r.Login {
			return nil, sqlerr.New(sqlerr.InvalidAuthorization, "role %q is not permitted to log in", user)
		}
		super = r.Superuser
	}
	if database == "" {
		database = user
	}
	s := newSession(e, user, database)
	if user != RootUser && super {
		s.changed["is_superuser"] = "on"
	}
	return s, nil
}

// RootUser is the superuser that always exists (certificate login only).
const RootUser = "root"

// PasswordSecret returns the SCRAM secret of user (root has none).
func (e *Engine) PasswordSecret(ctx context.Context, user string) (string, bool, error) {
	if user == RootUser {
		return "", false, nil
	}
	txn := e.db.Begin(kvtxn.Serializable)
	defer txn.Rollback()
	s, ok, err := schema.RoleSecret(ctx, txn, user)
	if err != nil {
		return "", false, mapErr(err)
	}
	return s, ok && s != "", nil
}

// catalog returns the catalog txn sees, reusing the cached one when the
// version key is unchanged.
func (e *Engine) catalog(ctx context.Context, txn *kvtxn.Txn) (*schema.Catalog, error) {
	v, err := schema.Version(ctx, txn)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	c := e.cat
	e.mu.Unlock()
	if c != nil && c.Version() == v {
		return c, nil
	}
	c, err = schema.Load(ctx, txn)
	if err != nil {
		return nil, err
	}
	if c.Version() == v {
		e.mu.Lock()
		e.cat = c
		e.mu.Unlock()
	}
	return c, nil
}

// cachedCatalog returns the last catalog loaded (nil before the first).
func (e *Engine) cachedCatalog() *schema.Catalog {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.cat
}

// parseStored parses a stored DEFAULT/CHECK expression (cached by text).
func (e *Engine) parseStored(text string) (ast.Expr, error) {
	e.exprMu.Lock()
	x, ok := e.exprCache[text]
	e.exprMu.Unlock()
	if ok {
		return x, nil
	}
	x, err := parser.ParseExpr(text)
	if err != nil {
		return nil, err
	}
	e.exprMu.Lock()
	if len(e.exprCache) > 10000 {
		e.exprCache = map[string]ast.Expr{}
	}
	e.exprCache[text] = x
	e.exprMu.Unlock()
	return x, nil
}

// formatExpr prints an expression for EXPLAIN.
func formatExpr(e ast.Expr) string { return ast.Format(e) }
