package lbbench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Limits of a TCPConfig.
const (
	MaxTCPConns = 1024
	MaxChunk    = 16 << 20
)

// TCPConfig configures RunTCP.
type TCPConfig struct {
	// Addr is the host:port of the proxy's TCP frontend (or of a sink).
	Addr string
	// Conns is the number of connections, each sending back to back
	// (1..MaxTCPConns).
	Conns int
	// Duration is how long each connection sends.
	Duration time.Duration
	// Chunk is the size of each write (1..MaxChunk bytes); default 64 KiB.
	Chunk int
	// ReplyTimeout bounds the wait for a sink's count after the
	// half-close; default 10s.
	ReplyTimeout time.Duration
}

// DefaultTCPConfig returns a TCPConfig with the defaults and no Addr.
func DefaultTCPConfig() TCPConfig {
	return TCPConfig{Conns: 4, Duration: 10 * time.Second, Chunk: 64 << 10, ReplyTimeout: 10 * time.Second}
}

// Validate reports every bad field.
func (c TCPConfig) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("lbbench: addr %q: want host:port", c.Addr))
	}
	if c.Conns < 1 || c.Conns > MaxTCPConns {
		errs = append(errs, fmt.Errorf("lbbench: conns is %d, want 1..%d", c.Conns, MaxTCPConns))
	}
	if c.Duration <= 0 || c.Duration > time.Hour {
		errs = append(errs, fmt.Errorf("lbbench: duration is %v, want (0, 1h]", c.Duration))
	}
	if c.Chunk < 1 || c.Chunk > MaxChunk {
		errs = append(errs, fmt.Errorf("lbbench: chunk is %d bytes, want 1..%d", c.Chunk, MaxChunk))
	}
	if c.ReplyTimeout <= 0 {
		errs = append(errs, fmt.Errorf("lbbench: reply_timeout is %v, want > 0", c.ReplyTimeout))
	}
	return errors.Join(errs...)
}

// TCPResult is the outcome of RunTCP.
type TCPResult struct {
	Addr  string `json:"addr"`
	Conns int    `json:"conns"`
	// Sent is the bytes written; Acked the bytes the sinks said they
	// received (connections that failed acknowledge nothing).
	Sent  int64 `json:"sent"`
	Acked int64 `json:"acked"`
	// Seconds is the sending time, from the first connect to the last
	// half-close.
	Seconds float64 `json:"seconds"`
	// Gbps is Acked in gigabits (10^9 bits) per Seconds.
	Gbps float64 `json:"gbps"`
	// Failed counts connections that failed; FirstError is one of their
	// errors.
	Failed     int    `json:"failed"`
	FirstError string `json:"first_error,omitempty"`
}

// RunTCP opens cfg.Conns connections to cfg.Addr, sends on each for
// cfg.Duration, half-closes, and reads each sink's count. It returns early
// when ctx ends (the result then covers what was sent until then). The
// error is non-nil when every connection failed.
func RunTCP(ctx context.Context, cfg TCPConfig) (TCPResult, error) {
	if err := cfg.Validate(); err != nil {
		return TCPResult{}, err
	}
	res := TCPResult{Addr: cfg.Addr, Conns: cfg.Conns}
	buf := make([]byte, cfg.Chunk) // shared: only read by the writers
	for i := range buf {
		buf[i] = byte(i)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex // guards res's counters while the connections run
		last time.Time  // guarded by mu: the latest half-close
	)
	start := time.Now()
	end := start.Add(cfg.Duration)
	for range cfg.Conns {
		wg.Go(func() {
			sent, acked, closedAt, err := sendOne(ctx, cfg, buf, end)
			mu.Lock()
			defer mu.Unlock()
			res.Sent += sent
			res.Acked += acked
			if closedAt.After(last) {
				last = closedAt
			}
			if err != nil {
				res.Failed++
				if res.FirstError == "" {
					res.FirstError = err.Error()
				}
			}
		})
	}
	wg.Wait()
	if last.After(start) {
		res.Seconds = last.Sub(start).Seconds()
		res.Gbps = float64(res.Acked) * 8 / res.Seconds / 1e9
	}
	if res.Failed == cfg.Conns {
		return res, fmt.Errorf("lbbench: every connection failed: %s", res.FirstError)
	}
	return res, nil
}

// sendOne is one connection of RunTCP: the bytes it sent, those the sink
// acknowledged, when it half-closed, and what went wrong.
func sendOne(ctx context.Context, cfg TCPConfig, buf []byte, end time.Time) (sent, acked int64, closedAt time.Time, err error) {
	d := net.Dialer{Timeout: 5 * time.Second}
	c, err := d.DialContext(ctx, "tcp", cfg.Addr)
	if err != nil {
		return 0, 0, time.Time{}, err
	}
	defer c.Close()
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return 0, 0, time.Time{}, fmt.Errorf("lbbench: %s: not a TCP connection", cfg.Addr)
	}
	// The write deadline ends a write blocked by a stalled proxy at the end.
	_ = c.SetWriteDeadline(end)
	for time.Now().Before(end) && ctx.Err() == nil {
		n, werr := c.Write(buf)
		sent += int64(n)
		if werr != nil {
			if errors.Is(werr, context.DeadlineExceeded) || isTimeout(werr) {
				break
			}
			return sent, 0, time.Now(), werr
		}
	}
	closedAt = time.Now()
	if err := tc.CloseWrite(); err != nil {
		return sent, 0, closedAt, err
	}
	_ = c.SetReadDeadline(time.Now().Add(cfg.ReplyTimeout))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return sent, 0, closedAt, fmt.Errorf("lbbench: no count from the sink: %w", err)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(line), 10, 64)
	if err != nil || n < 0 || n > sent {
		return sent, 0, closedAt, fmt.Errorf("lbbench: the sink counted %q bytes of %d sent", strings.TrimSpace(line), sent)
	}
	return sent, n, closedAt, nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
