package pgwire

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"
)

// FuzzConnMessages feeds arbitrary frontend messages to an authenticated
// connection's dispatch loop: no panic, no hang.
func FuzzConnMessages(f *testing.F) {
	seed := func(msgs ...pgproto3.FrontendMessage) []byte {
		var b []byte
		for _, m := range msgs {
			b, _ = m.Encode(b)
		}
		return b
	}
	f.Add(seed(&pgproto3.Parse{Name: "a", Query: "select $1::int8, $2::text"}, bindMsg("p", "a", [][]byte{[]byte("1"), nil}, []int16{0}, []int16{1}),
		describePortal("p"), execMsg("p", 1), execMsg("p", 0), syncMsg()))
	f.Add(seed(queryMsg("copy t from stdin csv"), &pgproto3.CopyData{Data: []byte("1,\"a\n")}, &pgproto3.CopyDone{}, queryMsg("select * from t")))
	f.Add(seed(queryMsg("copy t from stdin binary"), &pgproto3.CopyData{Data: []byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02")}, &pgproto3.CopyFail{Message: "x"}))
	f.Add(seed(&pgproto3.Close{ObjectType: 'S', Name: "a"}, &pgproto3.Describe{ObjectType: 'X'}, &pgproto3.Terminate{}))
	f.Fuzz(func(t *testing.T, data []byte) {
		eng := newFakeEngine()
		srv := NewServer(Config{}, eng)
		a, b := net.Pipe()
		defer a.Close()
		defer b.Close()
		c := newConn(srv, a)
		c.cancel() // statements that wait for their context return at once
		sess, err := eng.NewSession(context.Background(), "alice", "db")
		if err != nil {
			t.Fatal(err)
		}
		c.sess = sess
		c.w = bufio.NewWriter(io.Discard)
		c.msgs = make(chan frame, 64)
		r := bytes.NewReader(data)
		for len(c.msgs) < cap(c.msgs) {
			fr, err := readFrame(r, 1<<16)
			if err != nil {
				c.readErr = err
				break
			}
			c.msgs <- fr
		}
		close(c.msgs)
		c.loop()
	})
}

// FuzzStartupParams checks the StartupMessage parameter decoder.
func FuzzStartupParams(f *testing.F) {
	f.Add([]byte("user\x00alice\x00database\x00db\x00\x00"))
	f.Add([]byte("user\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		params, err := parseStartupParams(b)
		if err == nil && params == nil {
			t.Fatal("nil params without an error")
		}
	})
}
