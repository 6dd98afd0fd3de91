package anchors

import (
	"bufio"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"cairn.dev/cairn/bench/searchbench"
)

//go:embed xapian_helper.py
var xapianHelper []byte

// XapianConfig says how a Xapian target runs.
type XapianConfig struct {
	// Dir is the target's own directory: the database and the helper
	// script go there.
	Dir string
	// Python is a python3 with Xapian's bindings (Debian's python3-xapian
	// installs them for /usr/bin/python3).
	Python string
	// TCPServer is xapian-tcpsrv; when set, queries go through it on
	// 127.0.0.1:Port (the client-server setup Xapian ships), else the query
	// helpers open the database directly.
	TCPServer string
	Port      int
}

// Xapian is Xapian 1.4 through its Python bindings (a helper script,
// xapian_helper.py, that this target writes to Dir and talks to over
// pipes, one JSON line per document or query; xapian-tcpsrv logs to
// Dir/xapian-tcpsrv.log): one indexing process (Xapian
// has one writer; Index calls take turns), committed by Refresh, after
// which xapian-tcpsrv serves the database and every concurrent client gets
// a query process of its own connected to it. Latencies therefore include
// a pipe round trip to Python and Python's own time, as the other
// servers' include a network round trip. No fuzzy matching in Xapian 1.4
// (only spelling suggestions, from data indexing would have to collect).
type Xapian struct {
	cfg    XapianConfig
	db     string
	script string

	mu  sync.Mutex // protects idx (one batch at a time)
	idx *helper

	srv *exec.Cmd // xapian-tcpsrv, after Refresh

	pool chan *helper // idle query helpers

	allMu sync.Mutex // protects all
	all   []*helper  // every query helper started
}

// helper is one running helper process.
type helper struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

func (x *Xapian) start(args ...string) (*helper, error) {
	cmd := exec.Command(x.cfg.Python, append([]string{x.script}, args...)...)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("xapian: starting %s: %w", x.cfg.Python, err)
	}
	return &helper{cmd: cmd, in: in, out: bufio.NewReader(out)}, nil
}

// call writes lines and reads one answer line.
func (h *helper) call(lines ...[]byte) (string, error) {
	for _, l := range lines {
		if _, err := h.in.Write(append(l, '\n')); err != nil {
			return "", err
		}
	}
	s, err := h.out.ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("xapian helper: %w", err)
	}
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, "error: "); ok {
		return "", queryError{errors.New(rest)}
	}
	return s, nil
}

// queryError is an error the helper answered: the helper still works.
type queryError struct{ error }

func (h *helper) stop() {
	h.in.Close()
	_ = h.cmd.Wait()
}

// NewXapian writes the helper, starts the indexing process and checks that
// the bindings load.
func NewXapian(cfg XapianConfig) (*Xapian, error) {
	if cfg.Python == "" {
		cfg.Python = "/usr/bin/python3"
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, err
	}
	x := &Xapian{cfg: cfg, db: filepath.Join(cfg.Dir, "db"), script: filepath.Join(cfg.Dir, "xapian_helper.py"), pool: make(chan *helper, 1024)}
	if err := os.WriteFile(x.script, xapianHelper, 0o644); err != nil {
		return nil, err
	}
	idx, err := x.start("index", x.db)
	if err != nil {
		return nil, err
	}
	if _, err := idx.call([]byte(".")); err != nil {
		idx.stop()
		return nil, fmt.Errorf("xapian: the indexing helper did not start (is python3-xapian installed for %s?): %w", cfg.Python, err)
	}
	x.idx = idx
	return x, nil
}

// Name is "xapian".
func (x *Xapian) Name() string { return "xapian" }

// Supports every kind but fuzzy.
func (x *Xapian) Supports(k searchbench.Kind) bool { return k != searchbench.KindFuzzy }

// Index sends the documents as one batch to the indexing process.
func (x *Xapian) Index(_ context.Context, docs []searchbench.Doc) error {
	lines := make([][]byte, 0, len(docs)+1)
	for _, d := range docs {
		b, err := json.Marshal(d)
		if err != nil {
			return err
		}
		lines = append(lines, b)
	}
	lines = append(lines, []byte("."))
	x.mu.Lock()
	defer x.mu.Unlock()
	_, err := x.idx.call(lines...)
	return err
}

// Refresh commits, then starts xapian-tcpsrv on the database (when
// configured) and waits until it accepts connections.
func (x *Xapian) Refresh(ctx context.Context) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if _, err := x.idx.call([]byte("commit")); err != nil {
		return err
	}
	if x.cfg.TCPServer == "" || x.srv != nil {
		return nil
	}
	addr := "127.0.0.1:" + strconv.Itoa(x.cfg.Port)
	logf, err := os.Create(filepath.Join(x.cfg.Dir, "xapian-tcpsrv.log"))
	if err != nil {
		return err
	}
	defer logf.Close() // the child has its own copy
	x.srv = exec.Command(x.cfg.TCPServer, "--interface", "127.0.0.1", "--port", strconv.Itoa(x.cfg.Port), x.db)
	x.srv.Stdout, x.srv.Stderr = logf, logf
	if err := x.srv.Start(); err != nil {
		x.srv = nil
		return fmt.Errorf("xapian: starting %s: %w", x.cfg.TCPServer, err)
	}
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("xapian-tcpsrv on %s: %w", addr, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Search runs the query on an idle query process, starting one when none
// is idle.
func (x *Xapian) Search(_ context.Context, q searchbench.Query) (int64, error) {
	var h *helper
	select {
	case h = <-x.pool:
	default:
		where := x.db
		if x.cfg.TCPServer != "" {
			where = "127.0.0.1:" + strconv.Itoa(x.cfg.Port)
		}
		var err error
		if h, err = x.start("query", where); err != nil {
			return 0, err
		}
		x.allMu.Lock()
		x.all = append(x.all, h)
		x.allMu.Unlock()
	}
	b, err := json.Marshal(q)
	if err != nil {
		return 0, err
	}
	s, err := h.call(b)
	var qe queryError
	if err == nil || errors.As(err, &qe) {
		select {
		case x.pool <- h:
		default:
		}
	}
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(s, 10, 64)
}

// Finish stops the query processes, xapian-tcpsrv and the indexing
// process (which closes the database), and measures the database.
func (x *Xapian) Finish(context.Context) (int64, error) {
	x.allMu.Lock()
	for _, h := range x.all {
		h.stop()
	}
	x.all = nil
	x.allMu.Unlock()
	if x.srv != nil {
		_ = x.srv.Process.Kill()
		_ = x.srv.Wait()
		x.srv = nil
	}
	x.mu.Lock()
	x.idx.stop()
	x.mu.Unlock()
	return searchbench.DirSize(x.db)
}
