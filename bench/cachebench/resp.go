package cachebench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"cairn.dev/cairn/cached/resp"
)

// respConn is one client's Redis-protocol connection, for TargetRESP: it
// speaks plain GET, MGET and SET (PX for TTLs) to one server, so the same
// workload runs against cached's RESP port and against redis-server. It is
// owned by one client goroutine.
type respConn struct {
	conn net.Conn
	r    *resp.Reader
	w    *resp.Writer
}

func dialRESP(ctx context.Context, addr string) (*respConn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return &respConn{conn: conn, r: resp.NewReader(conn), w: resp.NewWriter(conn)}, nil
}

func (c *respConn) do(ctx context.Context, args ...string) (resp.Reply, error) {
	if dl, ok := ctx.Deadline(); ok {
		_ = c.conn.SetDeadline(dl)
	} else {
		_ = c.conn.SetDeadline(time.Time{})
	}
	c.w.CommandString(args...)
	if err := c.w.Flush(); err != nil {
		return resp.Reply{}, err
	}
	rep, err := c.r.ReadReply()
	if err != nil {
		return rep, err
	}
	if rep.Kind == resp.KindError {
		return rep, errors.New(rep.Str)
	}
	return rep, nil
}

func (c *respConn) get(ctx context.Context, key string) (bool, error) {
	rep, err := c.do(ctx, "GET", key)
	return err == nil && rep.Kind == resp.KindBulk, err
}

func (c *respConn) mget(ctx context.Context, keys []string) (map[string]bool, error) {
	rep, err := c.do(ctx, append([]string{"MGET"}, keys...)...)
	if err != nil {
		return nil, err
	}
	if rep.Kind != resp.KindArray || len(rep.Elems) != len(keys) {
		return nil, fmt.Errorf("MGET: unexpected reply %s", rep)
	}
	out := make(map[string]bool, len(keys))
	for i, e := range rep.Elems {
		if e.Kind == resp.KindBulk {
			out[keys[i]] = true
		}
	}
	return out, nil
}

func (c *respConn) set(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	args := []string{"SET", key, string(val)}
	if ttl > 0 {
		args = append(args, "PX", strconv.FormatInt(ttl.Milliseconds(), 10))
	}
	_, err := c.do(ctx, args...)
	return err
}

func (c *respConn) close() { c.conn.Close() }
