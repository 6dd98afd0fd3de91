package pgwire

import (
	"encoding/binary"
	"fmt"
	"io"

	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

// Startup packet codes (the first int32 after the length).
const (
	codeCancel = 80877102
	codeSSL    = 80877103
	codeGSSENC = 80877104
	protocol30 = 3 << 16
	maxStartup = 10000 // PostgreSQL's MAX_STARTUP_PACKET_LENGTH
	minStartup = 8     // length + code
)

// SQLSTATEs of connection-level errors sqlerr does not name.
const (
	codeTooManyConnections = "53300"
	codeAdminShutdown      = "57P01"
)

// frame is one frontend message after the startup: its type byte and body
// (a fresh slice the decoded message may keep).
type frame struct {
	typ  byte
	body []byte
}

// readStartup reads one startup-phase packet (no type byte) exactly, so no
// byte after it is consumed before a TLS handshake.
func readStartup(r io.Reader) (code uint32, body []byte, err error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := int(int32(binary.BigEndian.Uint32(hdr[:])))
	if n < minStartup || n > maxStartup {
		return 0, nil, sqlerr.New(sqlerr.ProtocolViolation, "invalid length of startup packet: %d bytes (between %d and %d allowed)", n, minStartup, maxStartup)
	}
	buf := make([]byte, n-4)
	if _, err := io.ReadFull(r, buf); err != nil {
		return 0, nil, err
	}
	return binary.BigEndian.Uint32(buf), buf, nil
}

// readFrame reads one typed message whose body is at most max bytes.
func readFrame(r io.Reader, max int) (frame, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return frame{}, err
	}
	n := int64(int32(binary.BigEndian.Uint32(hdr[1:]))) - 4
	if n < 0 {
		return frame{}, sqlerr.New(sqlerr.ProtocolViolation, "invalid message length %d for message type %q", n+4, hdr[0])
	}
	if n > int64(max) {
		return frame{}, sqlerr.New(sqlerr.ProtocolViolation, "message of type %q is %d bytes, the limit (max_message_bytes) is %d", hdr[0], n, max)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return frame{}, err
	}
	return frame{typ: hdr[0], body: body}, nil
}

// parseStartupParams decodes the key/value pairs of a StartupMessage body
// after the protocol version.
func parseStartupParams(b []byte) (map[string]string, error) {
	params := map[string]string{}
	for {
		i := indexZero(b)
		if i < 0 {
			return nil, fmt.Errorf("startup packet: missing terminator")
		}
		if i == 0 {
			if len(b) != 1 {
				return nil, fmt.Errorf("startup packet: %d bytes after the terminator", len(b)-1)
			}
			return params, nil
		}
		key := string(b[:i])
		b = b[i+1:]
		j := indexZero(b)
		if j < 0 {
			return nil, fmt.Errorf("startup packet: missing value for %q", key)
		}
		params[key] = string(b[:j])
		b = b[j+1:]
	}
}

func indexZero(b []byte) int {
	for i, c := range b {
		if c == 0 {
			return i
		}
	}
	return -1
}
