package pgwire

import (
	"crypto/tls"
	"io"

	"github.com/jackc/pgx/v5/pgproto3"

	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

// authenticate proves the client is user: by a TLS client certificate the
// tls.Config verified (its CommonName must be user, or Config.CertUser
// decides), else by SCRAM-SHA-256
// against the engine's secret. Failures are *sqlerr.Errors (28000, 28P01,
// 08P01) the caller sends as FATAL.
func (c *conn) authenticate(r io.Reader, user string) error {
	if tc, ok := c.nc.(*tls.Conn); ok {
		cs := tc.ConnectionState()
		if len(cs.VerifiedChains) > 0 && len(cs.PeerCertificates) > 0 {
			cert := cs.PeerCertificates[0]
			cn := cert.Subject.CommonName
			allowed := cn == user
			if c.srv.cfg.CertUser != nil {
				allowed = c.srv.cfg.CertUser(cert, user)
			}
			if !allowed {
				return sqlerr.New(sqlerr.InvalidAuthorization, "certificate authentication failed for user %q", user).
					WithDetail("The client certificate's common name is %q.", cn)
			}
			return nil
		}
	}
	return c.scram(r, user)
}

// scram runs the SASL exchange. An unknown user (or an unusable secret)
// goes through the same exchange against a mock secret and fails at the
// proof, so the client cannot tell which users exist.
func (c *conn) scram(r io.Reader, user string) error {
	secretStr, found, err := c.srv.eng.PasswordSecret(c.ctx, user)
	if err != nil {
		return err
	}
	srv := &scramServer{}
	if found {
		if sec, perr := parseSCRAMSecret(secretStr); perr == nil {
			srv.secret, srv.valid = sec, true
		} else {
			c.srv.log.Warn("pgwire: unusable password secret", "user", user, "err", perr)
		}
	}
	if srv.secret == nil {
		srv.secret = mockSCRAMSecret(c.srv.mockKey, user)
	}
	failed := sqlerr.New(sqlerr.InvalidPassword, "password authentication failed for user %q", user)

	c.send(&pgproto3.AuthenticationSASL{AuthMechanisms: []string{scramMechanism}})
	c.flush()
	body, err := c.readAuth(r)
	if err != nil {
		return err
	}
	var initial pgproto3.SASLInitialResponse
	if err := initial.Decode(body); err != nil {
		return sqlerr.New(sqlerr.ProtocolViolation, "invalid SASL initial response: %v", err)
	}
	if initial.AuthMechanism != scramMechanism {
		return sqlerr.New(sqlerr.ProtocolViolation, "client selected an invalid SASL authentication mechanism %q", initial.AuthMechanism)
	}
	serverFirst, err := srv.first(initial.Data)
	if err != nil {
		return sqlerr.New(sqlerr.ProtocolViolation, "%v", err)
	}
	c.send(&pgproto3.AuthenticationSASLContinue{Data: serverFirst})
	c.flush()
	body, err = c.readAuth(r)
	if err != nil {
		return err
	}
	var resp pgproto3.SASLResponse
	if err := resp.Decode(body); err != nil {
		return sqlerr.New(sqlerr.ProtocolViolation, "invalid SASL response: %v", err)
	}
	serverFinal, ok, err := srv.final(resp.Data)
	if err != nil {
		return sqlerr.New(sqlerr.ProtocolViolation, "%v", err)
	}
	if !ok {
		return failed
	}
	c.send(&pgproto3.AuthenticationSASLFinal{Data: serverFinal})
	return c.werr
}
