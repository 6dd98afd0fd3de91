package engine

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"cairn.dev/cairn/raftkv/sql/ast"
	"cairn.dev/cairn/raftkv/sql/kvtxn"
	"cairn.dev/cairn/raftkv/sql/parser"
	"cairn.dev/cairn/raftkv/sql/pgwire"
	"cairn.dev/cairn/raftkv/sql/schema"
	"cairn.dev/cairn/raftkv/sql/sqlerr"
	"cairn.dev/cairn/raftkv/sql/value"
)

// Session is one client session. Its methods are called from one goroutine at a time.
type Session struct {
	e              *Engine
	user, database string
	settings       map[string]string
	changed        map[string]string // parameters to report to the client
	tx             *txnState         // the open transaction block, nil when idle
	failed         bool              // the transaction block failed: only ROLLBACK/COMMIT
	closed         bool
}

// txnState is one kvtxn transaction with what the engine keeps beside it.
type txnState struct {
	t        *kvtxn.Txn
	iso      kvtxn.Isolation
	explicit bool
	cat      *schema.Catalog // nil: load (again) before the next statement
	now      time.Time
	used     bool // a statement ran in it
	implicit bool // the implicit transaction of a multi-statement query string
	readOnly bool // BEGIN READ ONLY
}

var (
	_ pgwire.Session       = (*Session)(nil)
	_ pgwire.ParamReporter = (*Session)(nil)
)

func newSession(e *Engine, user, database string) *Session {
	s := &Session{e: e, user: user, database: database, settings: map[string]string{}, changed: map[string]string{}}
	for k, d := range paramDefaults {
		s.settings[k] = d.value
	}
	s.settings["session_authorization"] = user
	if user == RootUser {
		s.changed["is_superuser"] = "on"
	}
	return s
}

// isolation returns the session's default isolation level.
func (s *Session) isolation(level string) kvtxn.Isolation {
	if level == "" {
		level = s.settings["default_transaction_isolation"]
	}
	switch strings.ToLower(level) {
	case "read committed", "read uncommitted":
		return kvtxn.ReadCommitted
	}
	return kvtxn.Serializable
}

func (s *Session) begin(iso kvtxn.Isolation, explicit bool) *txnState {
	return &txnState{t: s.e.db.Begin(iso), iso: iso, explicit: explicit, now: time.Now().UTC()}
}

// TxStatus reports 'I', 'T' or 'E'.
func (s *Session) TxStatus() byte {
	switch {
	case s.failed:
		return 'E'
	case s.tx != nil && !s.tx.implicit:
		return 'T'
	}
	return 'I'
}

// dropImplicit rolls back an implicit transaction a batch left open (the
// client stopped it early).
func (s *Session) dropImplicit() {
	if s.tx != nil && s.tx.implicit {
		s.tx.t.Rollback()
		s.tx = nil
	}
}

// Close rolls back an open transaction.
func (s *Session) Close() {
	if s.tx != nil {
		s.tx.t.Rollback()
		s.tx = nil
	}
	s.closed = true
}

// ReportParams returns the parameters changed since the last call.
func (s *Session) ReportParams() map[string]string {
	if len(s.changed) == 0 {
		return nil
	}
	out := s.changed
	s.changed = map[string]string{}
	return out
}

// Prepare parses one statement and infers its parameter and result types.
func (s *Session) Prepare(ctx context.Context, sql string, paramOIDs []uint32) (pgwire.Statement, error) {
	s.dropImplicit()
	stmts, err := parser.Parse(sql)
	if err != nil {
		return nil, s.fail(err)
	}
	if s.failed && !(len(stmts) == 1 && isTxnEnd(stmts[0])) {
		return nil, errAborted()
	}
	if len(stmts) > 1 {
		return nil, s.fail(sqlerr.New(sqlerr.SyntaxError, "cannot insert multiple commands into a prepared statement"))
	}
	st := &Statement{s: s}
	if len(stmts) == 0 {
		return st, nil
	}
	st.stmt = stmts[0]
	for _, oid := range paramOIDs {
		t := value.Unknown
		if oid != 0 {
			var ok bool
			if t, ok = value.TypeFromOID(oid); !ok {
				return nil, sqlerr.New(sqlerr.UndefinedObject, "type with OID %d does not exist", oid)
			}
		}
		st.params = append(st.params, t)
	}
	if err := st.describe(ctx); err != nil {
		if !isTxnEnd(st.stmt) {
			return nil, s.fail(err)
		}
		return nil, err
	}
	return st, nil
}

// PrepareAll parses every statement of a simple query; they are typed when run.
func (s *Session) PrepareAll(ctx context.Context, sql string) ([]pgwire.Statement, error) {
	s.dropImplicit()
	stmts, err := parser.Parse(sql)
	if err != nil {
		return nil, s.fail(err)
	}
	out := make([]pgwire.Statement, len(stmts))
	b := &batch{n: len(stmts), implicit: len(stmts) > 1}
	for i, x := range stmts {
		switch x.(type) {
		case *ast.Begin, *ast.Commit, *ast.Rollback, *ast.Savepoint, *ast.SetTransaction:
			b.implicit = false
		}
		out[i] = &Statement{s: s, stmt: x, batch: b, idx: i}
	}
	return out, nil
}

// batch is the statements of one simple-protocol query string. Like
// PostgreSQL, a batch of several statements without transaction control runs
// in one implicit transaction: an error rolls back the statements before it.
type batch struct {
	n        int
	implicit bool
}

// beginImplicit opens the implicit transaction of a batch at its first statement.
func (st *Statement) beginImplicit() {
	s := st.s
	if st.batch == nil || !st.batch.implicit || s.tx != nil || s.failed {
		return
	}
	s.tx = s.begin(s.isolation(""), false)
	s.tx.implicit = true
}

// finishImplicit ends a batch's implicit transaction: rolled back at an
// error, committed after the last statement.
func (st *Statement) finishImplicit(ctx context.Context, tag string, err error) (string, error) {
	s := st.s
	if s.tx == nil || !s.tx.implicit {
		return tag, err
	}
	if err != nil {
		s.tx.t.Rollback()
		s.tx = nil
		return tag, err
	}
	if st.idx == st.batch.n-1 {
		tx := s.tx
		s.tx = nil
		if err := tx.t.Commit(ctx); err != nil {
			return "", mapErr(err)
		}
	}
	return tag, nil
}

// Statement is a prepared statement.
type Statement struct {
	s         *Session
	stmt      ast.Statement
	params    []value.Type
	described bool
	batch     *batch // simple protocol: the query string's statements
	idx       int    // position in batch
	cols      []pgwire.Column
}

var _ pgwire.Statement = (*Statement)(nil)

// describe binds the statement once to learn its parameter and column types.
func (st *Statement) describe(ctx context.Context) error {
	if st.described || st.stmt == nil {
		return nil
	}
	s := st.s
	if s.failed {
		if isTxnEnd(st.stmt) {
			st.described = true
			return nil
		}
		return errAborted()
	}
	var b *binder
	var bs *boundStmt
	var err error
	tx := s.tx
	if tx == nil {
		// A prepared statement (extended protocol) outside a transaction
		// block is described against the cached catalog (no RPC); Execute
		// binds again in its own transaction and refuses a changed result
		// type, as PostgreSQL does. Simple-protocol statements, and any
		// statement that does not bind against the cached catalog (it may be
		// stale), read the catalog.
		cat := s.e.cachedCatalog()
		if st.batch == nil && cat != nil {
			b, bs, err = st.bindCat(cat)
		}
		if st.batch != nil || cat == nil || err != nil {
			tx = s.begin(s.isolation(""), false)
			defer tx.t.Rollback()
			b, bs, err = st.bind(ctx, tx)
		}
	} else {
		b, bs, err = st.bind(ctx, tx)
	}
	if err != nil {
		return mapErr(err)
	}
	st.params = b.params
	for i, t := range st.params {
		if t.Kind == value.KindUnknown {
			st.params[i] = value.Text
		}
	}
	st.cols = pgColumns(bs.cols)
	st.described = true
	return nil
}

// isTxnEnd reports whether a statement ends a transaction block.
func isTxnEnd(x ast.Statement) bool {
	switch x.(type) {
	case *ast.Commit, *ast.Rollback:
		return true
	}
	return false
}

func errAborted() error {
	return sqlerr.New(sqlerr.InFailedTransaction, "current transaction is aborted, commands ignored until end of transaction block")
}

// pgColumns converts result columns to RowDescription fields.
func pgColumns(cols []outCol) []pgwire.Column {
	if cols == nil {
		return nil
	}
	out := make([]pgwire.Column, len(cols))
	for i, c := range cols {
		out[i] = pgwire.Column{Name: c.name, TableOID: c.tableOID, Attr: c.attr, TypeOID: c.typ.OID(), TypeSize: c.typ.Size(), TypeMod: c.typ.Modifier()}
	}
	return out
}

// ParamOIDs returns the parameter types.
func (st *Statement) ParamOIDs() []uint32 {
	out := make([]uint32, len(st.params))
	for i, t := range st.params {
		out[i] = finalType(t).OID()
	}
	return out
}

// Columns describes the result rows (nil for none, or when binding fails:
// Execute then reports the error).
func (st *Statement) Columns() []pgwire.Column {
	if !st.described {
		if err := st.describe(context.Background()); err != nil {
			return nil
		}
	}
	return st.cols
}

// CopyIn reports COPY … FROM STDIN.
func (st *Statement) CopyIn() (int, pgwire.CopyFormat, bool) {
	c, ok := st.stmt.(*ast.Copy)
	if !ok || c.To {
		return 0, pgwire.CopyFormat{}, false
	}
	f, err := copyFormat(c)
	if err != nil {
		return 0, f, false
	}
	n := len(c.Columns)
	if n == 0 {
		tx := st.s.tx
		if tx == nil || st.s.failed {
			tx = st.s.begin(kvtxn.Serializable, false)
			defer tx.t.Rollback()
		}
		cat, err := st.s.e.catalog(context.Background(), tx.t)
		if err != nil {
			return 0, f, false
		}
		t, err := cat.Table(c.Table.Name)
		if err != nil {
			return 0, f, false
		}
		for _, col := range t.Columns {
			if !col.Hidden {
				n++
			}
		}
	}
	return n, f, true
}

// Execute runs the statement.
func (st *Statement) Execute(ctx context.Context, params []pgwire.Param, resultFormats []int16, emit func([][]byte) error) (string, error) {
	if st.stmt == nil {
		return "", nil
	}
	s := st.s
	if ms := s.settings["statement_timeout"]; ms != "0" && ms != "" {
		if d, err := parseDurationMS(ms); err == nil && d > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, d)
			defer cancel()
		}
	}
	st.beginImplicit()
	tag, err := st.execute(ctx, params, resultFormats, emit)
	tag, err = st.finishImplicit(ctx, tag, err)
	if err != nil && errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
		return tag, sqlerr.New(sqlerr.QueryCanceled, "canceling statement due to statement timeout")
	}
	if err != nil && ctx.Err() == nil && sqlerr.Code(err) == sqlerr.Internal {
		s.e.opts.Logger.Warn("sql: internal error", "user", s.user, "statement", fmt.Sprintf("%T", st.stmt), "err", err)
	}
	return tag, err
}

func (st *Statement) execute(ctx context.Context, params []pgwire.Param, resultFormats []int16, emit func([][]byte) error) (string, error) {
	s := st.s
	switch x := st.stmt.(type) {
	case *ast.Begin:
		return s.execBegin(x)
	case *ast.Commit:
		return s.execCommit(ctx)
	case *ast.Rollback:
		if x.Savepoint != "" {
			return "", s.fail(sqlerr.New(sqlerr.FeatureNotSupported, "ROLLBACK TO SAVEPOINT is not supported"))
		}
		if s.tx != nil {
			s.tx.t.Rollback()
		}
		s.tx, s.failed = nil, false
		return "ROLLBACK", nil
	}
	if s.failed {
		return "", errAborted()
	}
	switch x := st.stmt.(type) {
	case *ast.Savepoint:
		name := "SAVEPOINT"
		if x.Release {
			name = "RELEASE SAVEPOINT"
		}
		return "", s.fail(sqlerr.New(sqlerr.FeatureNotSupported, "%s is not supported", name))
	case *ast.SetTransaction:
		return s.execSetTransaction(x)
	case *ast.Set:
		if err := s.execSet(x); err != nil {
			return "", s.fail(err)
		}
		if x.Reset {
			return "RESET", nil
		}
		return "SET", nil
	case *ast.Show:
		if err := st.describe(ctx); err != nil {
			return "", s.fail(err)
		}
		if strings.ToLower(x.Name) == "all" {
			for _, r := range s.showAll() {
				vals := []value.Value{value.NewText(r[0]), value.NewText(r[1]), value.NewText(r[2])}
				if err := emitRow(emit, vals, []outCol{{typ: value.Text}, {typ: value.Text}, {typ: value.Text}}, resultFormats); err != nil {
					return "", err
				}
			}
			return "SHOW", nil
		}
		v, err := s.show(x.Name)
		if err != nil {
			return "", s.fail(err)
		}
		if err := emitRow(emit, []value.Value{value.NewText(v)}, []outCol{{typ: value.Text}}, resultFormats); err != nil {
			return "", err
		}
		return "SHOW", nil
	case *ast.Unsupported:
		switch x.Name {
		case "VACUUM", "ANALYZE":
			// Nothing to reclaim or gather on raftkv: a no-op, so scripts
			// (pgbench -i) that end with them run unchanged.
			return x.Name, nil
		}
		return "", s.fail(sqlerr.New(sqlerr.FeatureNotSupported, "%s is not supported", x.Name).At(int32(x.Pos)))
	}
	if !st.described {
		if err := st.describe(ctx); err != nil {
			return "", s.fail(err)
		}
	}
	vals, err := st.decodeParams(params)
	if err != nil {
		return "", s.fail(err)
	}
	if s.tx != nil && s.tx.readOnly && writes(st.stmt) {
		return "", s.fail(sqlerr.New("25006", "cannot execute %s in a read-only transaction", stmtName(st.stmt)))
	}
	if s.tx != nil {
		tx := s.tx
		tx.t.StartStatement()
		tx.used = true
		tag, err := st.run(ctx, tx, vals, resultFormats, emit, nil)
		if err != nil {
			return tag, s.fail(mapErr(err))
		}
		return tag, nil
	}
	for attempt := 0; ; attempt++ {
		tx := s.begin(s.isolation(""), false)
		sent := 0
		tag, err := st.run(ctx, tx, vals, resultFormats, emit, &sent)
		if err == nil {
			err = tx.t.Commit(ctx)
		} else {
			tx.t.Rollback()
		}
		if err != nil && errors.Is(err, kvtxn.ErrConflict) && sent == 0 && attempt < s.e.opts.MaxRetries && ctx.Err() == nil {
			backoff := time.Duration(1<<min(attempt, 6)) * time.Millisecond
			backoff += time.Duration(rand.Int64N(int64(backoff)))
			select {
			case <-time.After(backoff):
				continue
			case <-ctx.Done():
			}
		}
		if err != nil {
			return "", mapErr(err)
		}
		return tag, nil
	}
}

// writes reports whether a statement writes (refused in READ ONLY transactions).
func writes(x ast.Statement) bool {
	switch x := x.(type) {
	case *ast.Select:
		return x.ForUpdate != nil
	case *ast.Explain, *ast.Show, *ast.Set:
		return false
	}
	return true
}

// stmtName names a statement kind for messages.
func stmtName(x ast.Statement) string {
	switch x.(type) {
	case *ast.Insert:
		return "INSERT"
	case *ast.Update:
		return "UPDATE"
	case *ast.Delete:
		return "DELETE"
	case *ast.Select:
		return "SELECT FOR UPDATE"
	case *ast.Copy:
		return "COPY FROM"
	case *ast.CreateTable:
		return "CREATE TABLE"
	case *ast.DropTable:
		return "DROP TABLE"
	}
	return "this statement"
}

// fail marks an open transaction block failed and returns err.
func (s *Session) fail(err error) error {
	if s.tx != nil && s.tx.explicit {
		s.failed = true
		s.tx.t.Rollback()
	}
	return err
}

func (s *Session) execBegin(x *ast.Begin) (string, error) {
	if s.failed {
		return "", errAborted()
	}
	tag := "BEGIN"
	if x.Start {
		tag = "START TRANSACTION"
	}
	if s.tx != nil {
		return tag, nil // PostgreSQL warns "there is already a transaction in progress"
	}
	s.tx = s.begin(s.isolation(strings.ToLower(x.Isolation)), true)
	if x.ReadOnly != nil {
		s.tx.readOnly = *x.ReadOnly
	}
	return tag, nil
}

func (s *Session) execCommit(ctx context.Context) (string, error) {
	tx := s.tx
	if tx == nil {
		return "COMMIT", nil // PostgreSQL warns "there is no transaction in progress"
	}
	s.tx = nil
	if s.failed {
		s.failed = false
		return "ROLLBACK", nil
	}
	if err := tx.t.Commit(ctx); err != nil {
		return "", mapErr(err)
	}
	return "COMMIT", nil
}

func (s *Session) execSetTransaction(x *ast.SetTransaction) (string, error) {
	if x.Session {
		if x.Isolation != "" {
			s.settings["default_transaction_isolation"] = strings.ToLower(x.Isolation)
		}
		return "SET", nil
	}
	if s.tx == nil {
		return "SET", nil // PostgreSQL warns: SET TRANSACTION can only be used in transaction blocks
	}
	if x.Isolation != "" {
		if s.tx.used {
			return "", s.fail(sqlerr.New(sqlerr.ActiveTransaction, "SET TRANSACTION ISOLATION LEVEL must be called before any query"))
		}
		s.tx.t.Rollback()
		s.tx = s.begin(s.isolation(strings.ToLower(x.Isolation)), true)
	}
	return "SET", nil
}

// decodeParams parses the bound parameter values by their types.
func (st *Statement) decodeParams(params []pgwire.Param) ([]value.Value, error) {
	if len(params) != len(st.params) && len(params) > 0 {
		return nil, sqlerr.New(sqlerr.ProtocolViolation, "bind message supplies %d parameters, but prepared statement requires %d", len(params), len(st.params))
	}
	out := make([]value.Value, len(st.params))
	for i, t := range st.params {
		t = finalType(t)
		if i >= len(params) || params[i].Null {
			out[i] = value.NullOf(t)
			continue
		}
		var v value.Value
		var err error
		if params[i].Format == 1 {
			v, err = value.ParseBinary(t, params[i].Data)
		} else {
			v, err = value.ParseText(t, params[i].Data)
		}
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// run binds and executes the statement in tx; sent counts the rows sent.
func (st *Statement) run(ctx context.Context, tx *txnState, params []value.Value, formats []int16, emit func([][]byte) error, sent *int) (string, error) {
	_, bs, err := st.bind(ctx, tx)
	if err != nil {
		return "", err
	}
	if st.described && !sameColumns(st.cols, pgColumns(bs.cols)) {
		return "", sqlerr.New(sqlerr.FeatureNotSupported, "cached plan must not change result type")
	}
	ec := &execCtx{ctx: ctx, sess: st.s, tx: tx, params: params, cache: map[any]any{}}
	return bs.run(ec, func(r row) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if sent != nil {
			*sent++
		}
		return emitRow(emit, r, bs.cols, formats)
	})
}

// bind binds the statement against tx's catalog.
func (st *Statement) bind(ctx context.Context, tx *txnState) (*binder, *boundStmt, error) {
	if tx.cat == nil {
		cat, err := st.s.e.catalog(ctx, tx.t)
		if err != nil {
			return nil, nil, err
		}
		tx.cat = cat
	}
	return st.bindCat(tx.cat)
}

// bindCat binds the statement against cat.
func (st *Statement) bindCat(cat *schema.Catalog) (*binder, *boundStmt, error) {
	b := &binder{sess: st.s, cat: cat, params: append([]value.Type(nil), st.params...)}
	bs, err := b.bindStatement(st.stmt)
	if err != nil {
		return nil, nil, err
	}
	return b, bs, nil
}

// sameColumns reports whether two row descriptions have the same shape.
func sameColumns(a, b []pgwire.Column) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].TypeOID != b[i].TypeOID {
			return false
		}
	}
	return true
}

// emitRow encodes a row in the requested formats.
func emitRow(emit func([][]byte) error, r row, cols []outCol, formats []int16) error {
	out := make([][]byte, len(cols))
	for i, c := range cols {
		v := r[i]
		if v.Null {
			continue
		}
		if v.Type != c.typ {
			var err error
			if v, err = castValue(v, c.typ); err != nil {
				return err
			}
		}
		if i < len(formats) && formats[i] == 1 {
			b, err := value.AppendBinary(nil, v)
			if err != nil {
				return err
			}
			out[i] = b
		} else {
			out[i] = value.AppendText([]byte{}, v)
		}
	}
	return emit(out)
}

// mapErr turns kvtxn and context errors into SQL errors.
func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, kvtxn.ErrConflict):
		return sqlerr.Wrap(sqlerr.SerializationFailure, err, "could not serialize access due to read/write dependencies among transactions").
			WithHint("The transaction might succeed if retried.")
	case errors.Is(err, kvtxn.ErrAmbiguous):
		return sqlerr.Wrap(sqlerr.StatementCompletionUnknown, err, "the outcome of the transaction commit is unknown")
	case errors.Is(err, kvtxn.ErrTooLarge):
		var se *sqlerr.Error
		if errors.As(err, &se) {
			return err
		}
		return sqlerr.Wrap(sqlerr.ProgramLimitExceeded, err, "transaction too large: %v", err)
	}
	return err
}

// parseDurationMS reads a statement_timeout value (ms, or with a unit).
func parseDurationMS(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if d, err := time.ParseDuration(s); err == nil {
		return d, nil
	}
	var n int64
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, errInvalidParam("invalid value for parameter \"statement_timeout\": %q", s)
		}
		n = n*10 + int64(c-'0')
	}
	return time.Duration(n) * time.Millisecond, nil
}
