package pgwire

import (
	"bufio"
	"crypto/tls"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

// startup runs the startup phase: SSL/GSS negotiation, CancelRequest, the
// StartupMessage, MaxConns, authentication, the session and the greeting.
// It returns the reader for the rest of the connection; false: close it.
func (c *conn) startup() (*bufio.Reader, bool) {
	_ = c.nc.SetDeadline(time.Now().Add(c.srv.cfg.StartupTimeout))
	stop := c.closeOnShutdown()
	defer stop()
	c.w = bufio.NewWriterSize(c.nc, 32<<10)
	isTLS := false
	var params map[string]string
	for params == nil {
		code, body, err := readStartup(c.nc)
		if err != nil {
			var se *sqlerr.Error
			if errors.As(err, &se) {
				c.sendFatal(se)
			}
			return nil, false
		}
		switch code {
		case codeSSL:
			if c.srv.cfg.TLS == nil || isTLS {
				if _, err := c.nc.Write([]byte{'N'}); err != nil {
					return nil, false
				}
				continue
			}
			if _, err := c.nc.Write([]byte{'S'}); err != nil {
				return nil, false
			}
			tc := tls.Server(c.nc, c.srv.cfg.TLS)
			if err := tc.HandshakeContext(c.ctx); err != nil {
				c.srv.log.Debug("pgwire: TLS handshake", "err", err, "remote", c.nc.RemoteAddr())
				return nil, false
			}
			c.nc = tc
			c.w = bufio.NewWriterSize(c.nc, 32<<10)
			isTLS = true
		case codeGSSENC:
			if _, err := c.nc.Write([]byte{'N'}); err != nil {
				return nil, false
			}
		case codeCancel:
			var m pgproto3.CancelRequest
			if err := m.Decode(body); err == nil {
				c.srv.cancel(m.ProcessID, m.SecretKey)
			}
			return nil, false
		default:
			major, minor := code>>16, code&0xffff
			if major != 3 {
				c.sendFatal(sqlerr.New(sqlerr.ProtocolViolation, "unsupported frontend protocol %d.%d: server supports 3.0 to 3.0", major, minor))
				return nil, false
			}
			p, err := parseStartupParams(body[4:])
			if err != nil {
				c.sendFatal(sqlerr.New(sqlerr.ProtocolViolation, "invalid startup packet: %v", err))
				return nil, false
			}
			if minor > 0 {
				// Newer 3.x clients learn we speak 3.0 and which _pq_ options we ignored.
				var unknown []string
				for k := range p {
					if strings.HasPrefix(k, "_pq_.") {
						unknown = append(unknown, k)
					}
				}
				c.send(&pgproto3.NegotiateProtocolVersion{NewestMinorProtocol: 0, UnrecognizedOptions: unknown})
			}
			params = p
		}
	}

	user := params["user"]
	if user == "" {
		c.sendFatal(sqlerr.New(sqlerr.InvalidAuthorization, "no PostgreSQL user name specified in startup packet"))
		return nil, false
	}
	db := params["database"]
	if db == "" {
		db = user
	}
	c.user = user
	if c.srv.cfg.RequireTLS && !isTLS {
		c.sendFatal(sqlerr.New(sqlerr.InvalidAuthorization, "connection for user %q requires TLS (sslmode=require)", user))
		return nil, false
	}
	if !c.srv.admit(c) {
		c.sendFatal(sqlerr.New(codeTooManyConnections, "sorry, too many clients already").WithDetail("max_conns is %d", c.srv.cfg.MaxConns))
		return nil, false
	}
	br := bufio.NewReaderSize(c.nc, 32<<10)
	if err := c.authenticate(br, user); err != nil {
		c.sendFatal(c.classify(err))
		return nil, false
	}
	sess, err := c.srv.eng.NewSession(c.ctx, user, db)
	if err != nil {
		c.sendFatal(c.classify(err))
		return nil, false
	}
	c.sess = sess
	_ = c.nc.SetDeadline(time.Time{})
	c.srv.log.Debug("pgwire: session started", "user", user, "database", db, "pid", c.pid, "tls", isTLS, "remote", c.raw.RemoteAddr())

	c.send(&pgproto3.AuthenticationOk{})
	appName := params["application_name"]
	for _, p := range [][2]string{
		{"server_version", c.srv.cfg.ServerVersion},
		{"server_encoding", "UTF8"},
		{"client_encoding", "UTF8"},
		{"DateStyle", "ISO, MDY"},
		{"IntervalStyle", "postgres"},
		{"TimeZone", "UTC"},
		{"integer_datetimes", "on"},
		{"standard_conforming_strings", "on"},
		{"is_superuser", "off"},
		{"session_authorization", user},
		{"application_name", appName},
	} {
		c.send(&pgproto3.ParameterStatus{Name: p[0], Value: p[1]})
	}
	c.reportParams()
	c.send(&pgproto3.BackendKeyData{ProcessID: c.pid, SecretKey: c.secret[:]})
	c.sync()
	if c.werr != nil {
		return nil, false
	}
	return br, true
}

// closeOnShutdown closes c's connection if the server shuts down during the
// startup phase (no statement runs then); stop ends the watch.
func (c *conn) closeOnShutdown() (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		select {
		case <-c.srv.closing:
			c.kill()
		case <-done:
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

// readAuth reads one message during authentication: a password-type ('p')
// message, or the client giving up.
func (c *conn) readAuth(r io.Reader) ([]byte, error) {
	f, err := readFrame(r, maxStartup)
	if err != nil {
		var se *sqlerr.Error
		if errors.As(err, &se) {
			return nil, se
		}
		return nil, err
	}
	if f.typ != 'p' {
		return nil, sqlerr.New(sqlerr.ProtocolViolation, "expected SASL response, got message type %d", f.typ)
	}
	return f.body, nil
}
