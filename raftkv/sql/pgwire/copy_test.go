package pgwire

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgproto3"
)

func TestCopyFromPgxBinary(t *testing.T) {
	ts := startServer(t, Config{})
	c := ts.connect(t)
	src := [][]any{{int64(1), "one"}, {int64(2), nil}, {nil, ""}, {int64(-9), "tab\there"}}
	n, err := c.CopyFrom(testCtx(t), pgx.Identifier{"t"}, []string{"a", "b"}, pgx.CopyFromRows(src))
	if err != nil {
		t.Fatal(err)
	}
	if n != 4 {
		t.Fatalf("copied %d rows, want 4", n)
	}
	rows, _, _, _, _ := ts.eng.snapshot()
	if !reflect.DeepEqual(rows, src) {
		t.Fatalf("rows %v, want %v", rows, src)
	}
	// And they read back.
	rs, err := c.Query(testCtx(t), "select * from t")
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rs, func(row pgx.CollectableRow) ([]any, error) { return row.Values() })
	if err != nil || !reflect.DeepEqual(got, src) {
		t.Fatalf("read back %v %v", got, err)
	}
}

func TestCopyFromText(t *testing.T) {
	cases := []struct {
		name string
		sql  string
		data string
		want [][]any
		code string
	}{
		{"text", "copy t from stdin", "1\tone\n2\t\\N\n\\N\ta\\tb\\\\c\\nd\\101\\x41\n", [][]any{{int64(1), "one"}, {int64(2), nil}, {nil, "a\tb\\c\ndAA"}}, ""},
		{"text crlf and end marker", "copy t from stdin", "1\tx\r\n\\.\nignored\n", [][]any{{int64(1), "x"}}, ""},
		{"text header and delimiter", "copy t from stdin with (delimiter '|', header)", "a|b\n3|x\\|y\n", [][]any{{int64(3), "x|y"}}, ""},
		{"text missing column", "copy t from stdin", "1\n", nil, "22P04"},
		{"text extra column", "copy t from stdin", "1\ta\tb\n", nil, "22P04"},
		{"text bad value", "copy t from stdin", "x\ta\n", nil, "22P02"},
		{"csv", "copy t from stdin csv", "1,plain\n2,\"quoted, with \"\"quotes\"\"\"\n3,\n4,\"\"\n5,\"multi\nline\"\n", [][]any{{int64(1), "plain"}, {int64(2), `quoted, with "quotes"`}, {int64(3), nil}, {int64(4), ""}, {int64(5), "multi\nline"}}, ""},
		{"csv header no final newline", "copy t from stdin (format csv, header)", "a,b\n7,x", [][]any{{int64(7), "x"}}, ""},
		{"csv unterminated quote", "copy t from stdin csv", "1,\"abc\n", nil, "22P04"},
	}
	ts := startServer(t, Config{})
	c := ts.connect(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts.eng.mu.Lock()
			ts.eng.rows = nil
			ts.eng.mu.Unlock()
			// Feed the data in 3-byte CopyData messages to cross every boundary.
			tag, err := c.PgConn().CopyFrom(testCtx(t), &chunkReader{s: tc.data, n: 3}, tc.sql)
			if tc.code != "" {
				if pgCode(err) != tc.code {
					t.Fatalf("got %v, want SQLSTATE %s", err, tc.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			rows, _, _, _, _ := ts.eng.snapshot()
			if !reflect.DeepEqual(rows, tc.want) {
				t.Fatalf("rows %q, want %q", rows, tc.want)
			}
			if tag.RowsAffected() != int64(len(tc.want)) {
				t.Fatalf("tag %q", tag)
			}
		})
	}
	// The connection survived every error.
	var one int32
	if err := c.QueryRow(testCtx(t), "select 1").Scan(&one); err != nil {
		t.Fatal(err)
	}
}

// chunkReader returns s n bytes at a time.
type chunkReader struct {
	s   string
	n   int
	err error // returned instead of io.EOF at the end
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if r.s == "" {
		if r.err != nil {
			return 0, r.err
		}
		return 0, io.EOF
	}
	k := min(r.n, len(p), len(r.s))
	copy(p, r.s[:k])
	r.s = r.s[k:]
	return k, nil
}

func TestCopyFail(t *testing.T) {
	ts := startServer(t, Config{})
	c := ts.connect(t)
	// pgconn sends CopyFail when the reader fails.
	_, err := c.PgConn().CopyFrom(testCtx(t), &chunkReader{s: "1\ta\n", n: 2, err: errors.New("source broke")}, "copy t from stdin")
	if pgCode(err) != "57014" || !strings.Contains(err.Error(), "source broke") {
		t.Fatalf("got %v, want 57014 naming the client's reason", err)
	}
	if rows, _, _, _, _ := ts.eng.snapshot(); len(rows) != 0 {
		t.Fatalf("a failed COPY stored %v", rows)
	}
}

func TestCopyRawProtocol(t *testing.T) {
	ts := startServer(t, Config{})
	r := ts.raw(t)
	// Simple protocol: CopyInResponse, data, CopyDone, then the rest of the query string.
	r.send(queryMsg("copy t from stdin csv; select * from t"))
	r.expect("CopyInResponse 0 [0 0]")
	r.send(&pgproto3.CopyData{Data: []byte("1,a\n2,")}, &pgproto3.Flush{}, &pgproto3.CopyData{Data: []byte("b\n")}, &pgproto3.CopyDone{})
	r.expect("CommandComplete COPY 2", "RowDescription a:20:0 b:25:0", `DataRow "1" "a"`, `DataRow "2" "b"`, "CommandComplete SELECT 2", "ReadyForQuery I")
	// An error mid-stream: ErrorResponse and ReadyForQuery at once; the rest of the stream is dropped.
	r.send(queryMsg("copy t from stdin"))
	r.expect("CopyInResponse 0 [0 0]")
	r.send(&pgproto3.CopyData{Data: []byte("1\n")})
	r.expect("ErrorResponse ERROR 22P04", "ReadyForQuery I")
	r.send(&pgproto3.CopyData{Data: []byte("2\tb\n")}, &pgproto3.CopyDone{}, queryMsg("select 1"))
	r.expect("RowDescription ?column?:23:0", `DataRow "1"`, "CommandComplete SELECT 1", "ReadyForQuery I")
	// Binary, in the extended protocol.
	data := append([]byte("PGCOPY\n\xff\r\n\x00"), 0, 0, 0, 0, 0, 0, 0, 0)
	data = append(data, 0, 2, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 9, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
	r.send(&pgproto3.Parse{Query: "copy t from stdin binary"}, bindMsg("", "", nil, nil, nil), execMsg("", 0))
	r.expect("ParseComplete", "BindComplete", "CopyInResponse 1 [1 1]")
	r.send(&pgproto3.CopyData{Data: data}, &pgproto3.CopyDone{}, syncMsg())
	r.expect("CommandComplete COPY 1", "ReadyForQuery I")
	rows, _, _, _, _ := ts.eng.snapshot()
	if last := rows[len(rows)-1]; !reflect.DeepEqual(last, []any{int64(9), nil}) {
		t.Fatalf("binary row %v", last)
	}
	// An unexpected message during COPY is an error.
	r.send(queryMsg("copy t from stdin"))
	r.expect("CopyInResponse 0 [0 0]")
	r.send(queryMsg("select 1"))
	r.expect("ErrorResponse ERROR 08P01", "ReadyForQuery I")
}
