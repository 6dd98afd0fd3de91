package lockbench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strconv"
	"time"
)

// The Redis lock: SET name token NX PX ttl takes it, a script deletes it only
// if it still holds our token. There is no queue (waiters poll every
// RedisRetry) and no fencing token, and a single Redis node is a single point
// of failure: this is the unsafe baseline.
const redisUnlockScript = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`

type redisDriver struct {
	cfg Config
}

func newRedisDriver(cfg Config) Driver { return &redisDriver{cfg: cfg} }

func (d *redisDriver) Close() error { return nil }

func (d *redisDriver) NewLocker(ctx context.Context, i int) (Locker, error) {
	var dl net.Dialer
	conn, err := dl.DialContext(ctx, "tcp", d.cfg.Endpoints[0])
	if err != nil {
		return nil, err
	}
	return &redisLocker{
		conn: conn, r: bufio.NewReader(conn), w: bufio.NewWriter(conn), cfg: d.cfg,
		id:     fmt.Sprintf("%d-%d", i, time.Now().UnixNano()),
		tokens: map[string]string{},
		rng:    rand.New(rand.NewPCG(d.cfg.Seed, uint64(i))),
	}, nil
}

// redisLocker is one connection speaking RESP; used by one goroutine.
type redisLocker struct {
	conn   net.Conn
	r      *bufio.Reader
	w      *bufio.Writer
	cfg    Config
	id     string
	n      uint64
	tokens map[string]string
	rng    *rand.Rand
}

func (l *redisLocker) Lock(ctx context.Context, name string) (uint64, error) {
	l.n++
	tok := l.id + "-" + strconv.FormatUint(l.n, 10)
	ttl := strconv.FormatInt(l.cfg.TTL.Milliseconds(), 10)
	for {
		v, err := l.do(ctx, "SET", name, tok, "NX", "PX", ttl)
		if err != nil {
			return 0, err
		}
		if v != nil { // +OK; a nil bulk string means it is held
			l.tokens[name] = tok
			return 0, nil
		}
		d := l.cfg.RedisRetry/2 + time.Duration(l.rng.Int64N(int64(l.cfg.RedisRetry)+1))
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return 0, ctx.Err()
		case <-t.C:
		}
	}
}

func (l *redisLocker) Unlock(ctx context.Context, name string) error {
	tok, ok := l.tokens[name]
	if !ok {
		return ErrNotHeld
	}
	delete(l.tokens, name)
	v, err := l.do(ctx, "EVAL", redisUnlockScript, "1", name, tok)
	if err != nil {
		return err
	}
	if n, ok := v.(int64); !ok || n != 1 {
		return ErrNotHeld
	}
	return nil
}

func (l *redisLocker) Close(context.Context) error { return l.conn.Close() }

// do sends one command and reads its reply: a string for simple and bulk
// strings, int64 for integers, nil for a nil bulk string; a Redis error is
// returned as an error.
func (l *redisLocker) do(ctx context.Context, args ...string) (any, error) {
	if dl, ok := ctx.Deadline(); ok {
		_ = l.conn.SetDeadline(dl)
	} else {
		_ = l.conn.SetDeadline(time.Time{})
	}
	fmt.Fprintf(l.w, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(l.w, "$%d\r\n%s\r\n", len(a), a)
	}
	if err := l.w.Flush(); err != nil {
		return nil, fmt.Errorf("redis: %w", err)
	}
	return readRESP(l.r)
}

// readRESP reads one RESP2 reply.
func readRESP(r *bufio.Reader) (any, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, fmt.Errorf("redis: %w", err)
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return nil, fmt.Errorf("redis: malformed reply %q", line)
	}
	kind, body := line[0], line[1:len(line)-2]
	switch kind {
	case '+':
		return body, nil
	case '-':
		return nil, errors.New("redis: " + body)
	case ':':
		return strconv.ParseInt(body, 10, 64)
	case '$':
		n, err := strconv.Atoi(body)
		if err != nil {
			return nil, fmt.Errorf("redis: bad bulk length %q", body)
		}
		if n < 0 {
			return nil, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, fmt.Errorf("redis: %w", err)
		}
		return string(buf[:n]), nil
	case '*':
		n, err := strconv.Atoi(body)
		if err != nil {
			return nil, fmt.Errorf("redis: bad array length %q", body)
		}
		if n < 0 {
			return nil, nil
		}
		out := make([]any, n)
		for i := range out {
			if out[i], err = readRESP(r); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("redis: unknown reply type %q", kind)
}
