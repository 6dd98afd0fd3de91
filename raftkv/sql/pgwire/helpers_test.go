package pgwire

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"cairn.dev/cairn/node/nodetest"
	"cairn.dev/cairn/node/pki"
)

const testPassword = "s3cret-pässword"

// testServer is a Server of a fakeEngine on a loopback port.
type testServer struct {
	srv  *Server
	eng  *fakeEngine
	addr string
	done chan error // Serve's result
}

// startServer starts a server; cfg's Logger is set to the test's. The user
// "alice" has the password testPassword.
func startServer(t *testing.T, cfg Config) *testServer {
	t.Helper()
	eng := newFakeEngine()
	sec, err := NewSCRAMSecret(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	eng.secrets["alice"] = sec
	cfg.Logger = nodetest.Logger(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{srv: NewServer(cfg, eng), eng: eng, addr: l.Addr().String(), done: make(chan error, 1)}
	go func() { ts.done <- ts.srv.Serve(l) }()
	t.Cleanup(func() {
		_ = ts.srv.Close()
		if err := <-ts.done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	return ts
}

// url returns a connection string for user with password (sslmode disable).
func (ts *testServer) url(user, password string) string {
	return fmt.Sprintf("postgres://%s:%s@%s/db?sslmode=disable&application_name=test", user, password, ts.addr)
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// connect opens a pgx connection as alice.
func (ts *testServer) connect(t *testing.T) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(testCtx(t), ts.url("alice", testPassword))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

// raw opens a connection as alice and hijacks it: the test then speaks the
// protocol message by message.
func (ts *testServer) raw(t *testing.T) *rawConn {
	t.Helper()
	pc, err := pgconn.Connect(testCtx(t), ts.url("alice", testPassword))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	h, err := pc.Hijack()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Conn.Close() })
	_ = h.Conn.SetDeadline(time.Now().Add(20 * time.Second))
	return &rawConn{t: t, conn: h.Conn, fe: h.Frontend, pid: h.PID, secret: h.SecretKey, params: h.ParameterStatuses}
}

type rawConn struct {
	t      *testing.T
	conn   net.Conn
	fe     *pgproto3.Frontend
	pid    uint32
	secret []byte
	params map[string]string
}

func (r *rawConn) send(msgs ...pgproto3.FrontendMessage) {
	r.t.Helper()
	for _, m := range msgs {
		r.fe.Send(m)
	}
	if err := r.fe.Flush(); err != nil {
		r.t.Fatalf("send: %v", err)
	}
}

// recv returns the next backend message as a short string: its type name
// and the interesting fields.
func (r *rawConn) recv() string {
	r.t.Helper()
	m, err := r.fe.Receive()
	if err != nil {
		r.t.Fatalf("receive: %v", err)
	}
	return describeMsg(m)
}

// expect receives len(want) messages and compares them with want.
func (r *rawConn) expect(want ...string) {
	r.t.Helper()
	for i, w := range want {
		if got := r.recv(); got != w {
			r.t.Fatalf("message %d: got %s, want %s", i, got, w)
		}
	}
}

func describeMsg(m pgproto3.BackendMessage) string {
	switch m := m.(type) {
	case *pgproto3.DataRow:
		s := "DataRow"
		for _, v := range m.Values {
			if v == nil {
				s += " NULL"
			} else {
				s += fmt.Sprintf(" %q", v)
			}
		}
		return s
	case *pgproto3.CommandComplete:
		return "CommandComplete " + string(m.CommandTag)
	case *pgproto3.ErrorResponse:
		return "ErrorResponse " + m.Severity + " " + m.Code
	case *pgproto3.ReadyForQuery:
		return "ReadyForQuery " + string(m.TxStatus)
	case *pgproto3.RowDescription:
		s := "RowDescription"
		for _, f := range m.Fields {
			s += fmt.Sprintf(" %s:%d:%d", f.Name, f.DataTypeOID, f.Format)
		}
		return s
	case *pgproto3.ParameterDescription:
		return fmt.Sprintf("ParameterDescription %v", m.ParameterOIDs)
	case *pgproto3.ParameterStatus:
		return "ParameterStatus " + m.Name + "=" + m.Value
	case *pgproto3.CopyInResponse:
		return fmt.Sprintf("CopyInResponse %d %v", m.OverallFormat, m.ColumnFormatCodes)
	}
	return fmt.Sprintf("%T", m)[len("*pgproto3."):]
}

// testPKI is a CA with a server certificate for 127.0.0.1 and client
// certificates.
type testPKI struct {
	ca   *pki.CA
	pool *x509.CertPool
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	ca, err := pki.NewCA("pgwire test CA")
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	return &testPKI{ca: ca, pool: pool}
}

func (p *testPKI) cert(t *testing.T, role pki.Role, name string, hosts []string) tls.Certificate {
	t.Helper()
	c, k, err := p.ca.Issue(role, name, hosts)
	if err != nil {
		t.Fatal(err)
	}
	kp, err := tls.X509KeyPair(c, k)
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

// serverTLS is the server side: client certificates verified if given.
func (p *testPKI) serverTLS(t *testing.T) *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{p.cert(t, pki.RoleNode, "server", []string{"127.0.0.1"})},
		ClientCAs:    p.pool,
		ClientAuth:   tls.VerifyClientCertIfGiven,
		MinVersion:   tls.VersionTLS12,
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// pgCode returns err's SQLSTATE as pgx reports it, "" when none.
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}
