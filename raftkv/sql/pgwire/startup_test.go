package pgwire

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgproto3"
)

// dialRaw opens a plain TCP connection with a deadline.
func dialRaw(t *testing.T, addr string) net.Conn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	return nc
}

func startupPacket(version uint32, params map[string]string) []byte {
	b := binary.BigEndian.AppendUint32(nil, 0)
	b = binary.BigEndian.AppendUint32(b, version)
	for k, v := range params {
		b = append(append(append(append(b, k...), 0), v...), 0)
	}
	b = append(b, 0)
	binary.BigEndian.PutUint32(b, uint32(len(b)))
	return b
}

// readBackend reads backend messages until an ErrorResponse or
// ReadyForQuery, returning their descriptions.
func readBackend(t *testing.T, nc net.Conn) []string {
	t.Helper()
	fe := pgproto3.NewFrontend(nc, nc)
	var out []string
	for {
		m, err := fe.Receive()
		if err != nil {
			t.Fatalf("receive after %v: %v", out, err)
		}
		out = append(out, describeMsg(m))
		switch m.(type) {
		case *pgproto3.ErrorResponse, *pgproto3.ReadyForQuery, *pgproto3.AuthenticationSASL:
			return out
		}
	}
}

func TestStartupNegotiation(t *testing.T) {
	ts := startServer(t, Config{})
	t.Run("SSLRequest and GSSENCRequest answered N", func(t *testing.T) {
		nc := dialRaw(t, ts.addr)
		for _, code := range []uint32{codeSSL, codeGSSENC} {
			pkt := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, 8), code)
			if _, err := nc.Write(pkt); err != nil {
				t.Fatal(err)
			}
			var b [1]byte
			if _, err := io.ReadFull(nc, b[:]); err != nil || b[0] != 'N' {
				t.Fatalf("code %d: answer %q %v", code, b[0], err)
			}
		}
		// Then the StartupMessage proceeds as usual.
		if _, err := nc.Write(startupPacket(protocol30, map[string]string{"user": "alice"})); err != nil {
			t.Fatal(err)
		}
		if got := readBackend(t, nc); got[len(got)-1] != "AuthenticationSASL" {
			t.Fatalf("got %v", got)
		}
	})
	cases := []struct {
		name   string
		packet []byte
		want   []string
	}{
		{"protocol 2.0", startupPacket(2<<16, map[string]string{"user": "alice"}), []string{"ErrorResponse FATAL 08P01"}},
		{"protocol 4.0", startupPacket(4<<16, map[string]string{"user": "alice"}), []string{"ErrorResponse FATAL 08P01"}},
		{"protocol 3.2 negotiates 3.0", startupPacket(3<<16|2, map[string]string{"user": "alice", "_pq_.x": "1"}), []string{"NegotiateProtocolVersion", "AuthenticationSASL"}},
		{"no user", startupPacket(protocol30, map[string]string{"database": "x"}), []string{"ErrorResponse FATAL 28000"}},
		{"bad packet length", []byte{0, 1, 0, 0, 0, 3, 0, 0}, []string{"ErrorResponse FATAL 08P01"}},
		{"unterminated parameters", append([]byte{0, 0, 0, 12, 0, 3, 0, 0}, 'u', 's', 'e', 'r'), []string{"ErrorResponse FATAL 08P01"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			nc := dialRaw(t, ts.addr)
			if _, err := nc.Write(tc.packet); err != nil {
				t.Fatal(err)
			}
			got := readBackend(t, nc)
			if strings.Join(got, ", ") != strings.Join(tc.want, ", ") {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestMaxConns(t *testing.T) {
	ts := startServer(t, Config{MaxConns: 2})
	a := ts.connect(t)
	b := ts.connect(t)
	_, err := pgx.Connect(testCtx(t), ts.url("alice", testPassword))
	if pgCode(err) != "53300" {
		t.Fatalf("third connection: %v, want 53300", err)
	}
	// A closed session frees its slot.
	if err := a.Close(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the slot to be free", func() bool {
		c, err := pgx.Connect(testCtx(t), ts.url("alice", testPassword))
		if err != nil {
			return false
		}
		_ = c.Close(testCtx(t))
		return true
	})
	_ = b
}

func TestMessageSizeLimit(t *testing.T) {
	ts := startServer(t, Config{MaxMessageBytes: 1024})
	r := ts.raw(t)
	r.send(queryMsg("select 1"))
	r.expect("RowDescription ?column?:23:0", `DataRow "1"`, "CommandComplete SELECT 1", "ReadyForQuery I")
	r.send(queryMsg(strings.Repeat(" ", 2000)))
	r.expect("ErrorResponse FATAL 08P01")
	if _, err := r.fe.Receive(); err == nil {
		t.Fatal("the connection stayed open after a message past the limit")
	}
}

func TestIdleConnectionsStayOpen(t *testing.T) {
	ts := startServer(t, Config{StartupTimeout: 50 * time.Millisecond})
	c := ts.connect(t)
	// A client that never finishes its startup is dropped after StartupTimeout…
	nc := dialRaw(t, ts.addr)
	var b [1]byte
	if _, err := nc.Read(b[:]); !errors.Is(err, io.EOF) {
		t.Fatalf("silent client: read %v, want EOF when the startup times out", err)
	}
	// …but a session idle for longer is still usable: the timeout bounds only the startup.
	var one int32
	if err := c.QueryRow(testCtx(t), "select 1").Scan(&one); err != nil {
		t.Fatal(err)
	}
}

func TestShutdownGraceful(t *testing.T) {
	ts := startServer(t, Config{})
	idle := ts.raw(t)
	busy := ts.raw(t)
	busy.send(queryMsg("wait"))
	<-ts.eng.started
	done := make(chan error, 1)
	go func() { done <- ts.srv.Shutdown(context.Background()) }()
	// The idle session is closed at once, with 57P01.
	idle.expect("ErrorResponse FATAL 57P01")
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned %v while a statement ran", err)
	default:
	}
	// New connections are refused.
	waitFor(t, "the listener to close", func() bool {
		nc, err := net.Dial("tcp", ts.addr)
		if err == nil {
			_ = nc.Close()
		}
		return err != nil
	})
	// The running statement finishes and its result is delivered.
	close(ts.eng.release)
	busy.expect("CommandComplete WAIT", "ReadyForQuery I", "ErrorResponse FATAL 57P01")
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if _, _, _, _, sessions := ts.eng.snapshot(); sessions != 0 {
		t.Fatalf("%d sessions left open", sessions)
	}
}

func TestShutdownDeadline(t *testing.T) {
	ts := startServer(t, Config{})
	busy := ts.raw(t)
	busy.send(queryMsg("sleep"))
	<-ts.eng.started
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := ts.srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: %v, want DeadlineExceeded", err)
	}
	if _, _, _, canceled, sessions := ts.eng.snapshot(); canceled != 1 || sessions != 0 {
		t.Fatalf("after a hard stop: %d statements cancelled, %d sessions open; want 1, 0", canceled, sessions)
	}
}

func TestPgxProtocol32FallsBackTo30(t *testing.T) {
	ts := startServer(t, Config{})
	c, err := pgx.Connect(testCtx(t), ts.url("alice", testPassword)+"&max_protocol_version=3.2")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(testCtx(t))
	var one int32
	if err := c.QueryRow(testCtx(t), "select 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("select 1: %d %v", one, err)
	}
}

func TestPortalBufferLimit(t *testing.T) {
	ts := startServer(t, Config{MaxPortalBytes: 200})
	r := ts.raw(t)
	r.send(&pgproto3.Parse{Query: "select generate_series(1, 100)"}, bindMsg("", "", nil, nil, nil), execMsg("", 1), syncMsg())
	r.expect("ParseComplete", "BindComplete", "ErrorResponse ERROR 54000", "ReadyForQuery I")
	// Without a row limit nothing is buffered.
	r.send(&pgproto3.Parse{Query: "select generate_series(1, 100)"}, bindMsg("", "", nil, nil, nil), execMsg("", 0), syncMsg())
	r.expect("ParseComplete", "BindComplete")
	for range 100 {
		r.recv()
	}
	r.expect("CommandComplete SELECT 100", "ReadyForQuery I")
}
