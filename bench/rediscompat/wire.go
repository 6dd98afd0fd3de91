package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// replyTimeout bounds the wait for one reply.
const replyTimeout = 5 * time.Second

// conn is one RESP connection to a target.
type conn struct {
	addr string
	nc   net.Conn
	br   *bufio.Reader
}

func dial(addr string) (*conn, error) {
	nc, err := net.DialTimeout("tcp", addr, replyTimeout)
	if err != nil {
		return nil, err
	}
	return &conn{addr: addr, nc: nc, br: bufio.NewReader(nc)}, nil
}

func (c *conn) close() { _ = c.nc.Close() }

// command sends args as a RESP array and returns the raw reply.
func (c *conn) command(args []string) (string, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	return c.send(b.Bytes())
}

// send writes p and reads one reply.
func (c *conn) send(p []byte) (string, error) {
	if err := c.nc.SetDeadline(time.Now().Add(replyTimeout)); err != nil {
		return "", err
	}
	if _, err := c.nc.Write(p); err != nil {
		return "", err
	}
	var out bytes.Buffer
	if err := readReply(c.br, &out, 0); err != nil {
		if out.Len() == 0 && errors.Is(err, io.EOF) {
			return "<connection closed>", nil
		}
		return "", err
	}
	return out.String(), nil
}

// readReply copies one RESP2 reply from br to out, byte for byte.
func readReply(br *bufio.Reader, out *bytes.Buffer, depth int) error {
	if depth > 64 {
		return errors.New("reply nested too deep")
	}
	line, err := br.ReadBytes('\n')
	out.Write(line)
	if err != nil {
		return err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return fmt.Errorf("malformed reply line %q", line)
	}
	head := string(line[1 : len(line)-2])
	switch line[0] {
	case '+', '-', ':':
		return nil
	case '$':
		n, err := strconv.Atoi(head)
		if err != nil {
			return fmt.Errorf("bad bulk length %q", head)
		}
		if n < 0 {
			return nil
		}
		_, err = io.CopyN(out, br, int64(n)+2)
		return err
	case '*':
		n, err := strconv.Atoi(head)
		if err != nil {
			return fmt.Errorf("bad array length %q", head)
		}
		for range max(n, 0) {
			if err := readReply(br, out, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("unknown reply type %q", line[0])
}
