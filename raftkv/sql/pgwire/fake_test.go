package pgwire

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

// fakeEngine is a canned-statement engine: it exercises the protocol, not
// SQL. Statements are recognised by their text (see fakeSession.Prepare).
type fakeEngine struct {
	mu       sync.Mutex // protects the following fields
	secrets  map[string]string
	rows     [][]any // table t(a int8, b text): the rows COPY and INSERT added
	prepares int     // Prepare calls
	executed []string
	canceled int           // statements that saw their context end
	release  chan struct{} // "wait" statements block until it is closed
	started  chan string   // "wait"/"sleep" statements announce themselves
	sessions int           // sessions open
}

func newFakeEngine() *fakeEngine {
	return &fakeEngine{secrets: map[string]string{}, release: make(chan struct{}), started: make(chan string, 16)}
}

func (e *fakeEngine) NewSession(ctx context.Context, user, database string) (Session, error) {
	if database == "nodb" {
		return nil, sqlerr.New("3D000", "database %q does not exist", database)
	}
	e.mu.Lock()
	e.sessions++
	e.mu.Unlock()
	return &fakeSession{eng: e, tx: 'I', report: map[string]string{"is_superuser": "on"}}, nil
}

func (e *fakeEngine) PasswordSecret(ctx context.Context, user string) (string, bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.secrets[user]
	return s, ok, nil
}

func (e *fakeEngine) snapshot() (rows [][]any, prepares int, executed []string, canceled, sessions int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([][]any(nil), e.rows...), e.prepares, append([]string(nil), e.executed...), e.canceled, e.sessions
}

type fakeSession struct {
	eng    *fakeEngine
	tx     byte
	report map[string]string
}

const (
	oidInt4 = 23
	oidInt8 = 20
	oidText = 25
)

var (
	reCopy   = regexp.MustCompile(`(?i)^copy "?t"?(?: \(.*\))? from stdin(.*?);?$`)
	reSelect = regexp.MustCompile(`(?i)^select (?:\*|"a", "b") from "?t"?$`)
	reSeries = regexp.MustCompile(`(?i)^select generate_series\(1, (\$1|\s*'?\d+'?\s*)\)$`)
	reInterp = regexp.MustCompile(`(?i)^select\s+'?(-?\d+)'?\s*::int8,\s+'(.*)'\s*::text$`)
	reSetApp = regexp.MustCompile(`(?i)^set application_name = '(.*)'$`)
)

func (s *fakeSession) PrepareAll(ctx context.Context, sql string) ([]Statement, error) {
	var out []Statement
	for _, part := range strings.Split(sql, ";") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		st, err := s.Prepare(ctx, part, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

func (s *fakeSession) Prepare(ctx context.Context, sql string, oids []uint32) (Statement, error) {
	s.eng.mu.Lock()
	s.eng.prepares++
	s.eng.mu.Unlock()
	q := strings.TrimSpace(sql)
	st := &fakeStmt{s: s, sql: q}
	lq := strings.ToLower(q)
	switch {
	case lq == "select 1":
		st.cols = []Column{{Name: "?column?", TypeOID: oidInt4, TypeSize: 4, TypeMod: -1}}
		st.run = func(context.Context, []any) ([][]any, string, error) { return [][]any{{int64(1)}}, "SELECT 1", nil }
	case lq == "select null::int8, 'x'::text":
		st.cols = []Column{{Name: "int8", TypeOID: oidInt8, TypeSize: 8, TypeMod: -1}, {Name: "text", TypeOID: oidText, TypeSize: -1, TypeMod: -1}}
		st.run = func(context.Context, []any) ([][]any, string, error) { return [][]any{{nil, "x"}}, "SELECT 1", nil }
	case lq == "select $1::int8, $2::text":
		st.params = []uint32{oidInt8, oidText}
		st.cols = []Column{{Name: "int8", TypeOID: oidInt8, TypeSize: 8, TypeMod: -1}, {Name: "text", TypeOID: oidText, TypeSize: -1, TypeMod: -1}}
		st.run = func(_ context.Context, p []any) ([][]any, string, error) {
			return [][]any{{p[0], p[1]}}, "SELECT 1", nil
		}
	case reInterp.MatchString(q):
		// pgx's simple protocol interpolates the parameters.
		m := reInterp.FindStringSubmatch(q)
		n, _ := strconv.ParseInt(m[1], 10, 64)
		st.cols = []Column{{Name: "int8", TypeOID: oidInt8, TypeSize: 8, TypeMod: -1}, {Name: "text", TypeOID: oidText, TypeSize: -1, TypeMod: -1}}
		st.run = func(context.Context, []any) ([][]any, string, error) { return [][]any{{n, m[2]}}, "SELECT 1", nil }
	case reSeries.MatchString(q):
		arg := reSeries.FindStringSubmatch(q)[1]
		if arg == "$1" {
			st.params = []uint32{oidInt8}
		}
		st.cols = []Column{{Name: "generate_series", TypeOID: oidInt8, TypeSize: 8, TypeMod: -1}}
		st.run = func(_ context.Context, p []any) ([][]any, string, error) {
			n := int64(0)
			if arg == "$1" {
				n, _ = p[0].(int64)
			} else {
				n, _ = strconv.ParseInt(strings.Trim(arg, " '"), 10, 64)
			}
			var rows [][]any
			for i := int64(1); i <= n; i++ {
				rows = append(rows, []any{i})
			}
			return rows, fmt.Sprintf("SELECT %d", n), nil
		}
	case reSelect.MatchString(q):
		st.cols = []Column{{Name: "a", TableOID: 16384, Attr: 1, TypeOID: oidInt8, TypeSize: 8, TypeMod: -1}, {Name: "b", TableOID: 16384, Attr: 2, TypeOID: oidText, TypeSize: -1, TypeMod: -1}}
		st.run = func(context.Context, []any) ([][]any, string, error) {
			s.eng.mu.Lock()
			defer s.eng.mu.Unlock()
			return append([][]any(nil), s.eng.rows...), fmt.Sprintf("SELECT %d", len(s.eng.rows)), nil
		}
	case lq == "insert":
		st.run = func(context.Context, []any) ([][]any, string, error) {
			s.eng.mu.Lock()
			defer s.eng.mu.Unlock()
			s.eng.rows = append(s.eng.rows, []any{int64(len(s.eng.rows) + 1), "inserted"})
			return nil, "INSERT 0 1", nil
		}
	case lq == "begin":
		st.run = func(context.Context, []any) ([][]any, string, error) { s.tx = 'T'; return nil, "BEGIN", nil }
	case lq == "commit":
		st.run = func(context.Context, []any) ([][]any, string, error) { s.tx = 'I'; return nil, "COMMIT", nil }
	case lq == "rollback":
		st.run = func(context.Context, []any) ([][]any, string, error) { s.tx = 'I'; return nil, "ROLLBACK", nil }
	case lq == "boom":
		st.run = func(context.Context, []any) ([][]any, string, error) {
			if s.tx == 'T' {
				s.tx = 'E'
			}
			return nil, "", sqlerr.New(sqlerr.UniqueViolation, "duplicate key value violates unique constraint \"t_pkey\"").
				WithDetail("Key (a)=(1) already exists.").WithHint("pick another key").At(3)
		}
	case lq == "internal":
		st.run = func(context.Context, []any) ([][]any, string, error) { return nil, "", errors.New("disk on fire") }
	case lq == "sleep":
		// Runs until its context ends (cancel, connection drop, hard shutdown).
		st.run = func(ctx context.Context, _ []any) ([][]any, string, error) { return nil, "", st.wait(ctx, nil) }
	case lq == "wait":
		// Runs until the test releases it (graceful shutdown).
		st.run = func(ctx context.Context, _ []any) ([][]any, string, error) {
			if err := st.wait(ctx, s.eng.release); err != nil {
				return nil, "", err
			}
			return nil, "WAIT", nil
		}
	case reSetApp.MatchString(q):
		name := reSetApp.FindStringSubmatch(q)[1]
		st.run = func(context.Context, []any) ([][]any, string, error) {
			s.report["application_name"] = name
			return nil, "SET", nil
		}
	case strings.HasPrefix(lq, "--"):
		st.run = func(context.Context, []any) ([][]any, string, error) { return nil, "", nil }
	case reCopy.MatchString(q):
		opts := strings.ToLower(reCopy.FindStringSubmatch(q)[1])
		st.copy = true
		switch {
		case strings.Contains(opts, "binary"):
			st.format.Kind = CopyBinary
		case strings.Contains(opts, "csv"):
			st.format.Kind = CopyCSV
		}
		st.format.Header = strings.Contains(opts, "header")
		if strings.Contains(opts, "delimiter '|'") {
			st.format.Delimiter = '|'
		}
	default:
		return nil, sqlerr.New(sqlerr.SyntaxError, "fake engine: unknown statement %q", q).At(1)
	}
	if oids != nil {
		for i, o := range oids {
			if i < len(st.params) && o != 0 && o != st.params[i] {
				return nil, sqlerr.New(sqlerr.DatatypeMismatch, "parameter $%d: want type %d, got %d", i+1, st.params[i], o)
			}
		}
	}
	return st, nil
}

func (s *fakeSession) TxStatus() byte { return s.tx }

func (s *fakeSession) Close() {
	s.eng.mu.Lock()
	s.eng.sessions--
	s.eng.mu.Unlock()
}

func (s *fakeSession) ReportParams() map[string]string {
	r := s.report
	s.report = map[string]string{}
	return r
}

type fakeStmt struct {
	s      *fakeSession
	sql    string
	params []uint32
	cols   []Column
	run    func(ctx context.Context, params []any) ([][]any, string, error)
	copy   bool
	format CopyFormat
}

func (st *fakeStmt) ParamOIDs() []uint32 { return st.params }
func (st *fakeStmt) Columns() []Column   { return st.cols }
func (st *fakeStmt) CopyIn() (int, CopyFormat, bool) {
	return 2, st.format, st.copy
}

// wait blocks until release is closed (nil: never) or ctx ends.
func (st *fakeStmt) wait(ctx context.Context, release chan struct{}) error {
	select {
	case st.s.eng.started <- st.sql:
	default: // nobody listens (fuzzing)
	}
	select {
	case <-release:
		return nil
	case <-ctx.Done():
		st.s.eng.mu.Lock()
		st.s.eng.canceled++
		st.s.eng.mu.Unlock()
		return ctx.Err()
	}
}

func (st *fakeStmt) Execute(ctx context.Context, params []Param, resultFormats []int16, row func([][]byte) error) (string, error) {
	st.s.eng.mu.Lock()
	st.s.eng.executed = append(st.s.eng.executed, st.sql)
	st.s.eng.mu.Unlock()
	if len(params) != len(st.params) {
		return "", fmt.Errorf("fake: %d params, want %d", len(params), len(st.params))
	}
	if len(resultFormats) != len(st.cols) {
		return "", fmt.Errorf("fake: %d result formats, want %d", len(resultFormats), len(st.cols))
	}
	args := make([]any, len(params))
	for i, p := range params {
		v, err := decodeFake(st.params[i], p.Format, p.Data, p.Null)
		if err != nil {
			return "", err
		}
		args[i] = v
	}
	rows, tag, err := st.run(ctx, args)
	if err != nil {
		return "", err
	}
	vals := make([][]byte, len(st.cols))
	for _, r := range rows {
		for i, v := range r {
			vals[i] = encodeFake(st.cols[i].TypeOID, resultFormats[i], v)
		}
		if err := row(vals); err != nil {
			return "", err
		}
	}
	return tag, nil
}

func (st *fakeStmt) CopyFrom(ctx context.Context, format CopyFormat, next func() ([]*string, error)) (string, error) {
	if format != st.format {
		return "", fmt.Errorf("fake: CopyFrom format %+v, CopyIn said %+v", format, st.format)
	}
	var rows [][]any
	for {
		r, err := next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", err
		}
		row := make([]any, 2)
		for i, f := range r {
			if f == nil {
				continue
			}
			pf := int16(0)
			if format.Kind == CopyBinary {
				pf = 1
			}
			oid := uint32(oidInt8)
			if i == 1 {
				oid = oidText
			}
			v, err := decodeFake(oid, pf, []byte(*f), false)
			if err != nil {
				return "", err
			}
			row[i] = v
		}
		rows = append(rows, row)
	}
	st.s.eng.mu.Lock()
	st.s.eng.rows = append(st.s.eng.rows, rows...)
	st.s.eng.mu.Unlock()
	return fmt.Sprintf("COPY %d", len(rows)), nil
}

func decodeFake(oid uint32, format int16, data []byte, null bool) (any, error) {
	if null {
		return nil, nil
	}
	switch oid {
	case oidInt8, oidInt4:
		if format == 1 {
			switch len(data) {
			case 8:
				return int64(binary.BigEndian.Uint64(data)), nil
			case 4:
				return int64(int32(binary.BigEndian.Uint32(data))), nil
			}
			return nil, sqlerr.New(sqlerr.ProtocolViolation, "insufficient data left in message")
		}
		n, err := strconv.ParseInt(string(data), 10, 64)
		if err != nil {
			return nil, sqlerr.New(sqlerr.InvalidTextRepresentation, "invalid input syntax for type bigint: %q", data)
		}
		return n, nil
	}
	return string(data), nil
}

func encodeFake(oid uint32, format int16, v any) []byte {
	switch x := v.(type) {
	case nil:
		return nil
	case int64:
		if format == 1 {
			if oid == oidInt4 {
				return binary.BigEndian.AppendUint32(nil, uint32(int32(x)))
			}
			return binary.BigEndian.AppendUint64(nil, uint64(x))
		}
		return strconv.AppendInt(nil, x, 10)
	case string:
		return []byte(x)
	}
	return []byte(fmt.Sprint(v))
}
