package pgwire

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

func queryMsg(q string) *pgproto3.Query { return &pgproto3.Query{String: q} }
func syncMsg() *pgproto3.Sync           { return &pgproto3.Sync{} }
func flushMsg() *pgproto3.Flush         { return &pgproto3.Flush{} }
func execMsg(portal string, max uint32) *pgproto3.Execute {
	return &pgproto3.Execute{Portal: portal, MaxRows: max}
}
func describePortal(name string) *pgproto3.Describe {
	return &pgproto3.Describe{ObjectType: 'P', Name: name}
}
func describeStmt(name string) *pgproto3.Describe {
	return &pgproto3.Describe{ObjectType: 'S', Name: name}
}
func bindMsg(portal, stmt string, params [][]byte, paramFormats, resultFormats []int16) *pgproto3.Bind {
	return &pgproto3.Bind{DestinationPortal: portal, PreparedStatement: stmt, Parameters: params, ParameterFormatCodes: paramFormats, ResultFormatCodes: resultFormats}
}

// sendCancel sends a CancelRequest on a new connection and waits for the
// server to close it.
func sendCancel(addr string, pid uint32, secret []byte) error {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer nc.Close()
	buf, err := (&pgproto3.CancelRequest{ProcessID: pid, SecretKey: secret}).Encode(nil)
	if err != nil {
		return err
	}
	if _, err := nc.Write(buf); err != nil {
		return err
	}
	_ = nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	var b [1]byte
	_, _ = nc.Read(b[:]) // EOF once the server handled it
	return nil
}

func TestPortalSuspension(t *testing.T) {
	ts := startServer(t, Config{})
	r := ts.raw(t)
	r.send(&pgproto3.Parse{Name: "s", Query: "select generate_series(1, 5)"},
		bindMsg("p", "s", nil, nil, nil), execMsg("p", 2), execMsg("p", 2), execMsg("p", 2), execMsg("p", 2), syncMsg())
	r.expect("ParseComplete", "BindComplete",
		`DataRow "1"`, `DataRow "2"`, "PortalSuspended",
		`DataRow "3"`, `DataRow "4"`, "PortalSuspended",
		`DataRow "5"`, "CommandComplete SELECT 5",
		"CommandComplete SELECT 5", // a finished portal is not run again
		"ReadyForQuery I")
	// The portal was dropped at Sync (no transaction block).
	r.send(execMsg("p", 0), syncMsg())
	r.expect("ErrorResponse ERROR 34000", "ReadyForQuery I")
	// Exactly the limit: all rows, then CommandComplete.
	r.send(bindMsg("", "s", nil, nil, []int16{1}), execMsg("", 5), syncMsg())
	r.expect("BindComplete", `DataRow "\x00\x00\x00\x00\x00\x00\x00\x01"`, `DataRow "\x00\x00\x00\x00\x00\x00\x00\x02"`,
		`DataRow "\x00\x00\x00\x00\x00\x00\x00\x03"`, `DataRow "\x00\x00\x00\x00\x00\x00\x00\x04"`, `DataRow "\x00\x00\x00\x00\x00\x00\x00\x05"`,
		"CommandComplete SELECT 5", "ReadyForQuery I")
	// Portals survive Sync inside a transaction block.
	r.send(queryMsg("begin"))
	r.expect("CommandComplete BEGIN", "ReadyForQuery T")
	r.send(bindMsg("q", "s", nil, nil, nil), execMsg("q", 4), syncMsg())
	r.expect("BindComplete", `DataRow "1"`, `DataRow "2"`, `DataRow "3"`, `DataRow "4"`, "PortalSuspended", "ReadyForQuery T")
	r.send(execMsg("q", 4), syncMsg())
	r.expect(`DataRow "5"`, "CommandComplete SELECT 5", "ReadyForQuery T")
}

func TestPipelineWithoutSync(t *testing.T) {
	ts := startServer(t, Config{})
	r := ts.raw(t)
	// Two statements, no Sync: nothing arrives until Flush.
	r.send(&pgproto3.Parse{Name: "a", Query: "select $1::int8, $2::text", ParameterOIDs: []uint32{20, 25}},
		describeStmt("a"),
		bindMsg("", "a", [][]byte{[]byte("12"), nil}, nil, nil), execMsg("", 0),
		&pgproto3.Parse{Query: "select 1"}, bindMsg("", "", nil, nil, nil), describePortal(""), execMsg("", 0))
	_ = r.conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if _, err := r.fe.Receive(); err == nil {
		t.Fatal("the server flushed before Flush or Sync")
	}
	_ = r.conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	r.send(flushMsg())
	r.expect("ParseComplete", "ParameterDescription [20 25]", "RowDescription int8:20:0 text:25:0",
		"BindComplete", `DataRow "12" NULL`, "CommandComplete SELECT 1",
		"ParseComplete", "BindComplete", "RowDescription ?column?:23:0", `DataRow "1"`, "CommandComplete SELECT 1")
	r.send(syncMsg())
	r.expect("ReadyForQuery I")
}

func TestExtendedErrorSkipsToSync(t *testing.T) {
	ts := startServer(t, Config{})
	r := ts.raw(t)
	r.send(&pgproto3.Parse{Query: "no such statement"}, bindMsg("", "", nil, nil, nil), execMsg("", 0),
		queryMsg("insert"), syncMsg(),
		&pgproto3.Parse{Query: "select 1"}, bindMsg("", "", nil, nil, nil), execMsg("", 0), syncMsg())
	r.expect("ErrorResponse ERROR 42601", "ReadyForQuery I",
		"ParseComplete", "BindComplete", `DataRow "1"`, "CommandComplete SELECT 1", "ReadyForQuery I")
	if rows, _, _, _, _ := ts.eng.snapshot(); len(rows) != 0 {
		t.Fatalf("a Query between an error and Sync ran")
	}
	// An execution error also skips to Sync.
	r.send(&pgproto3.Parse{Query: "boom"}, bindMsg("", "", nil, nil, nil), execMsg("", 0), execMsg("", 0), syncMsg())
	r.expect("ParseComplete", "BindComplete", "ErrorResponse ERROR 23505", "ReadyForQuery I")
}

func TestExtendedNamesAndErrors(t *testing.T) {
	ts := startServer(t, Config{})
	r := ts.raw(t)
	cases := []struct {
		name string
		msgs []pgproto3.FrontendMessage
		want []string
	}{
		{"named statement twice", []pgproto3.FrontendMessage{&pgproto3.Parse{Name: "x", Query: "select 1"}, &pgproto3.Parse{Name: "x", Query: "select 1"}},
			[]string{"ParseComplete", "ErrorResponse ERROR 42P05"}},
		{"unnamed replaced silently", []pgproto3.FrontendMessage{&pgproto3.Parse{Query: "select 1"}, &pgproto3.Parse{Query: "insert"}, describeStmt("")},
			[]string{"ParseComplete", "ParseComplete", "ParameterDescription []", "NoData"}},
		{"closed name reusable", []pgproto3.FrontendMessage{&pgproto3.Close{ObjectType: 'S', Name: "x"}, &pgproto3.Parse{Name: "x", Query: "insert"}, &pgproto3.Close{ObjectType: 'S', Name: "nope"}},
			[]string{"CloseComplete", "ParseComplete", "CloseComplete"}},
		{"named portal twice", []pgproto3.FrontendMessage{bindMsg("p", "x", nil, nil, nil), bindMsg("p", "x", nil, nil, nil)},
			[]string{"BindComplete", "ErrorResponse ERROR 42P03"}},
		{"unknown statement", []pgproto3.FrontendMessage{bindMsg("", "nope", nil, nil, nil)},
			[]string{"ErrorResponse ERROR 26000"}},
		{"unknown portal", []pgproto3.FrontendMessage{describePortal("nope")},
			[]string{"ErrorResponse ERROR 34000"}},
		{"wrong parameter count", []pgproto3.FrontendMessage{&pgproto3.Parse{Query: "select $1::int8, $2::text"}, bindMsg("", "", [][]byte{[]byte("1")}, nil, nil)},
			[]string{"ParseComplete", "ErrorResponse ERROR 08P01"}},
		{"wrong result format count", []pgproto3.FrontendMessage{&pgproto3.Parse{Query: "select $1::int8, $2::text"}, bindMsg("", "", [][]byte{[]byte("1"), []byte("a")}, nil, []int16{0, 1, 0})},
			[]string{"ParseComplete", "ErrorResponse ERROR 08P01"}},
		{"bad format code", []pgproto3.FrontendMessage{&pgproto3.Parse{Query: "select 1"}, bindMsg("", "", nil, nil, []int16{2})},
			[]string{"ParseComplete", "ErrorResponse ERROR 22023"}},
		{"bad text parameter", []pgproto3.FrontendMessage{&pgproto3.Parse{Query: "select $1::int8, $2::text"}, bindMsg("", "", [][]byte{[]byte("x"), []byte("a")}, nil, nil), execMsg("", 0)},
			[]string{"ParseComplete", "BindComplete", "ErrorResponse ERROR 22P02"}},
		{"one format for all parameters", []pgproto3.FrontendMessage{&pgproto3.Parse{Query: "select generate_series(1, $1)"}, bindMsg("", "", [][]byte{{0, 0, 0, 0, 0, 0, 0, 1}}, []int16{1}, nil), execMsg("", 0)},
			[]string{"ParseComplete", "BindComplete", `DataRow "1"`, "CommandComplete SELECT 1"}},
		{"empty statement", []pgproto3.FrontendMessage{&pgproto3.Parse{Query: " "}, bindMsg("", "", nil, nil, nil), describePortal(""), execMsg("", 0)},
			[]string{"ParseComplete", "BindComplete", "NoData", "EmptyQueryResponse"}},
		{"comment-only statement", []pgproto3.FrontendMessage{&pgproto3.Parse{Query: "-- nothing"}, bindMsg("", "", nil, nil, nil), execMsg("", 0)},
			[]string{"ParseComplete", "BindComplete", "EmptyQueryResponse"}},
		{"copy describes as no data", []pgproto3.FrontendMessage{&pgproto3.Parse{Query: "copy t from stdin"}, describeStmt("")},
			[]string{"ParseComplete", "ParameterDescription []", "NoData"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r.t = t
			r.send(append(tc.msgs, syncMsg())...)
			r.expect(append(tc.want, "ReadyForQuery I")...)
		})
	}
}

func TestFunctionCallUnsupported(t *testing.T) {
	ts := startServer(t, Config{})
	r := ts.raw(t)
	r.send(&pgproto3.FunctionCall{Function: 1}, syncMsg())
	r.expect("ErrorResponse ERROR 0A000", "ReadyForQuery I")
	r.send(&pgproto3.Terminate{})
	if _, err := r.fe.Receive(); err == nil || !strings.Contains(err.Error(), "EOF") {
		t.Fatalf("after Terminate: %v, want EOF", err)
	}
}
