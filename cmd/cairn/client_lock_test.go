package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"cairn.dev/cairn/cluster"
	"cairn.dev/cairn/lockd/client"
	"cairn.dev/cairn/lockd/lockdtest"
	lockdv1 "cairn.dev/cairn/proto/cairn/lockd/v1"
)

// lockdCLI runs cairn commands in-process against an in-process lockd cluster.
type lockdCLI struct {
	t       *testing.T
	cluster *lockdtest.Cluster
	eps     string
}

func newLockdCLI(t *testing.T, members int) *lockdCLI {
	c := lockdtest.New(t, members, nil)
	return &lockdCLI{t: t, cluster: c, eps: strings.Join(c.Endpoints(), ",")}
}

// cliResult is what one command run printed and returned.
type cliResult struct {
	stdout, stderr string
	err            error
}

func (r cliResult) code() int {
	if r.err == nil {
		return 0
	}
	return exitCode(r.err)
}

// run runs `cairn <args> --endpoints …` to completion.
func (l *lockdCLI) run(args ...string) cliResult {
	return l.runCtx(testCtx(l.t), nil, args...)
}

// runCtx runs the command under ctx; stdout goes to out if not nil.
func (l *lockdCLI) runCtx(ctx context.Context, out io.Writer, args ...string) cliResult {
	var stdout, stderr syncBuffer
	root := newRootCmd()
	root.SetArgs(withEndpoints(args, l.eps))
	if out == nil {
		out = &stdout
	}
	root.SetOut(out)
	root.SetErr(&stderr)
	root.SetIn(strings.NewReader(""))
	err := root.ExecuteContext(ctx)
	return cliResult{stdout: stdout.String(), stderr: stderr.String(), err: err}
}

// withEndpoints puts --endpoints before a "--" that starts a command to run.
func withEndpoints(args []string, eps string) []string {
	out := make([]string, 0, len(args)+2)
	for i, a := range args {
		if a == "--" {
			out = append(out, "--endpoints", eps)
			return append(out, args[i:]...)
		}
		out = append(out, a)
	}
	return append(out, "--endpoints", eps)
}

// start runs a long-lived command in the background; its stdout lines arrive
// on lines, and wait returns its result once it ends.
func (l *lockdCLI) start(ctx context.Context, args ...string) (lines <-chan string, wait func() cliResult) {
	pr, pw := io.Pipe()
	ch := make(chan string, 100)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			ch <- sc.Text()
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	done := make(chan cliResult, 1)
	go func() {
		r := l.runCtx(ctx, pw, args...)
		pw.Close()
		done <- r
	}()
	var once sync.Once
	var res cliResult
	return ch, func() cliResult {
		once.Do(func() {
			select {
			case res = <-done:
			case <-time.After(30 * time.Second):
				l.t.Fatalf("%v did not end", args)
			}
		})
		return res
	}
}

// nextLine returns the next stdout line of a started command.
func nextLine(t *testing.T, lines <-chan string) string {
	t.Helper()
	select {
	case s, ok := <-lines:
		require.True(t, ok, "the command ended without printing a line")
		return s
	case <-time.After(30 * time.Second):
		t.Fatal("no line printed within 30s")
		return ""
	}
}

// goClient returns a Go client of the cluster, for holding locks behind the CLI's back.
func (l *lockdCLI) goClient() *client.Client {
	c, err := client.New(client.Config{Endpoints: l.cluster.Endpoints()})
	require.NoError(l.t, err)
	l.t.Cleanup(func() { c.Close() })
	return c
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// syncBuffer is a bytes.Buffer safe for a command's writer goroutines.
type syncBuffer struct {
	mu sync.Mutex // protects b
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// envField returns the value of key=value in a line of `key=value` words.
func envField(t *testing.T, line, key string) string {
	t.Helper()
	for _, f := range strings.Fields(line) {
		if v, ok := strings.CutPrefix(f, key+"="); ok {
			return v
		}
	}
	t.Fatalf("no %s= in %q", key, line)
	return ""
}

func positive(t *testing.T, s string) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	require.NoError(t, err, "%q is not a number", s)
	require.Positive(t, n)
	return n
}

func TestLockAcquireRunsCommand(t *testing.T) {
	l := newLockdCLI(t, 3)

	r := l.run("lock", "acquire", "inventory:item:123", "--owner", "web-1", "--ttl", "30s", "--",
		"sh", "-c", "echo token=$CAIRN_LOCK_TOKEN name=$CAIRN_LOCK_NAME session=$CAIRN_LOCK_SESSION")
	require.NoError(t, r.err, r.stderr)
	positive(t, envField(t, r.stdout, "token"))
	positive(t, envField(t, r.stdout, "session"))
	require.Equal(t, "inventory:item:123", envField(t, r.stdout, "name"))

	// Released on exit: free again, and a later grant has a higher token.
	r2 := l.run("lock", "try", "inventory:item:123", "--", "sh", "-c", "echo token=$CAIRN_LOCK_TOKEN")
	require.NoError(t, r2.err, r2.stderr)
	require.Greater(t, positive(t, envField(t, r2.stdout, "token")), positive(t, envField(t, r.stdout, "token")))

	// The command's exit status is cairn's; the lock is released all the same.
	r = l.run("lock", "acquire", "inventory:item:123", "--", "sh", "-c", "exit 3")
	require.Equal(t, 3, r.code(), "%v", r.err)
	r = l.run("lock", "acquire", "inventory:item:123", "--", "/nonexistent/cairn-test-command")
	require.Equal(t, 127, r.code(), "%v", r.err)
	r = l.run("lock", "describe", "inventory:item:123", "-o", "json")
	require.NoError(t, r.err)
	var v lockView
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &v), r.stdout)
	require.Empty(t, v.Holders, "released after the command")
}

// Two concurrent acquires of one lock run their commands one after the other.
func TestLockAcquireSerialises(t *testing.T) {
	l := newLockdCLI(t, 3)
	log := filepath.Join(t.TempDir(), "log")
	script := fmt.Sprintf(`echo start $CAIRN_LOCK_TOKEN >> %[1]s; sleep 0.5; echo end $CAIRN_LOCK_TOKEN >> %[1]s`, log)
	var wg sync.WaitGroup
	results := make([]cliResult, 2)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = l.run("lock", "acquire", "L", "--wait", "10s", "--", "sh", "-c", script)
		}()
	}
	wg.Wait()
	for _, r := range results {
		require.NoError(t, r.err, r.stderr)
	}
	b, err := os.ReadFile(log)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	require.Len(t, lines, 4, string(b))
	var tokens []uint64
	for i, line := range lines {
		f := strings.Fields(line)
		require.Len(t, f, 2, line)
		require.Equal(t, []string{"start", "end"}[i%2], f[0], "the commands overlapped:\n%s", b)
		tokens = append(tokens, positive(t, f[1]))
	}
	require.Equal(t, tokens[0], tokens[1], string(b))
	require.Equal(t, tokens[2], tokens[3], string(b))
	require.Greater(t, tokens[2], tokens[0], "tokens grow from one holder to the next")
}

func TestLockNotAcquired(t *testing.T) {
	l := newLockdCLI(t, 1)
	ctx := testCtx(t)
	c := l.goClient()
	s, err := c.NewSession(ctx, 10*time.Second)
	require.NoError(t, err)
	_, err = s.Acquire(ctx, "held", []byte("holder-x"))
	require.NoError(t, err)

	r := l.run("lock", "try", "held", "--", "true")
	require.Equal(t, exitConflict, r.code(), "%v", r.err)
	require.ErrorContains(t, r.err, "holder-x")
	require.ErrorContains(t, r.err, fmt.Sprintf("session %d", s.ID()))

	r = l.run("lock", "acquire", "held", "--wait", "300ms")
	require.Equal(t, exitConflict, r.code(), "%v", r.err)
	require.ErrorContains(t, r.err, "within 300ms")
	require.ErrorContains(t, r.err, "holder-x")
	require.Empty(t, r.stdout)

	// A shared acquire is refused by a writer too; readers share.
	r = l.run("lock", "acquire", "held", "--wait", "0", "--mode", "shared")
	require.Equal(t, exitConflict, r.code(), "%v", r.err)
	require.NoError(t, s.Release(ctx, "held"))
	_, err = s.Acquire(ctx, "held", []byte("reader"), client.WithMode(client.Shared))
	require.NoError(t, err)
	r = l.run("lock", "try", "held", "--mode", "shared", "--", "true")
	require.NoError(t, r.err, r.stderr)

	// The waiting acquire left no trace: nobody waits.
	li, err := c.Describe(ctx, "held")
	require.NoError(t, err)
	require.Empty(t, li.GetWaiters())
}

// Without a command, acquire prints the token and holds until its context ends
// (as on SIGINT), then releases.
func TestLockHoldAndRelease(t *testing.T) {
	l := newLockdCLI(t, 1)
	ctx, cancel := context.WithCancel(testCtx(t))
	lines, wait := l.start(ctx, "lock", "acquire", "jobs/nightly", "--owner", "cron-1", "-o", "json")
	var got struct {
		Name    string `json:"name"`
		Token   uint64 `json:"token"`
		Session uint64 `json:"session"`
		Owner   string `json:"owner"`
	}
	line := nextLine(t, lines)
	require.NoError(t, json.Unmarshal([]byte(line), &got), line)
	require.Equal(t, "jobs/nightly", got.Name)
	require.Equal(t, "cron-1", got.Owner)
	require.Positive(t, got.Token)
	require.Positive(t, got.Session)

	r := l.run("lock", "describe", "jobs/nightly")
	require.NoError(t, r.err)
	require.Contains(t, r.stdout, fmt.Sprintf("holder: session %d, owner \"cron-1\", token %d", got.Session, got.Token))

	cancel()
	res := wait()
	require.NoError(t, res.err, res.stderr)
	r = l.run("lock", "describe", "jobs/nightly")
	require.NoError(t, r.err)
	require.Contains(t, r.stdout, "holder: none")
}

func TestLockReleaseBySession(t *testing.T) {
	l := newLockdCLI(t, 1)
	ctx := testCtx(t)
	c := l.goClient()
	holder, err := c.NewSession(ctx, 10*time.Second)
	require.NoError(t, err)
	other, err := c.NewSession(ctx, 10*time.Second)
	require.NoError(t, err)
	_, err = holder.Acquire(ctx, "stuck", []byte("web-9"))
	require.NoError(t, err)

	r := l.run("lock", "release", "stuck", "--session", strconv.FormatUint(other.ID(), 10))
	require.Equal(t, 1, r.code())
	require.ErrorContains(t, r.err, "permission denied")
	require.ErrorContains(t, r.err, fmt.Sprintf("session %d does not hold lock \"stuck\"", other.ID()))

	r = l.run("lock", "release", "stuck", "--session", "999999")
	require.ErrorContains(t, r.err, "session 999999 not found")

	r = l.run("lock", "release", "stuck", "--session", strconv.FormatUint(holder.ID(), 10))
	require.NoError(t, r.err)
	require.Contains(t, r.stdout, "released lock \"stuck\"")
	select {
	case <-holder.Done():
		t.Fatal("the holder's session ended with the release")
	default:
	}

	r = l.run("lock", "release", "stuck", "--session", strconv.FormatUint(holder.ID(), 10))
	require.ErrorContains(t, r.err, "not held by anyone")
}

func TestLockList(t *testing.T) {
	l := newLockdCLI(t, 1)
	ctx := testCtx(t)
	c := l.goClient()
	s, err := c.NewSession(ctx, 10*time.Second)
	require.NoError(t, err)
	for _, name := range []string{"a/1", "a/2", "b/1"} {
		_, err := s.Acquire(ctx, name, []byte("owner-"+name))
		require.NoError(t, err)
	}

	r := l.run("lock", "list", "--prefix", "a/", "--output", "json")
	require.NoError(t, r.err, r.stderr)
	var got struct {
		Locks []lockView `json:"locks"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &got), r.stdout)
	require.Len(t, got.Locks, 2)
	for i, name := range []string{"a/1", "a/2"} {
		v := got.Locks[i]
		require.Equal(t, name, v.Name)
		require.Len(t, v.Holders, 1)
		require.Equal(t, "owner-"+name, v.Holders[0].Owner)
		require.Equal(t, s.ID(), v.Holders[0].Session)
		require.Equal(t, "exclusive", v.Holders[0].Mode)
		require.Positive(t, v.Holders[0].Token)
	}

	r = l.run("lock", "list")
	require.NoError(t, r.err)
	require.Contains(t, r.stdout, "NAME")
	for _, name := range []string{"a/1", "a/2", "b/1"} {
		require.Contains(t, r.stdout, "owner-"+name)
	}

	r = l.run("lock", "list", "--prefix", "zzz", "-o", "json")
	require.NoError(t, r.err)
	require.JSONEq(t, `{"locks":[]}`, r.stdout)
}

// A session lost while the command runs: cairn says so and stops the command.
func TestLockSessionLostStopsCommand(t *testing.T) {
	l := newLockdCLI(t, 1)
	lines, wait := l.start(testCtx(t), "lock", "acquire", "L", "--ttl", "1s", "--",
		"sh", "-c", "echo session=$CAIRN_LOCK_SESSION; exec sleep 60")
	id := positive(t, envField(t, nextLine(t, lines), "session"))

	// End the session behind cairn's back, as an expiry would.
	conn, err := grpc.NewClient(l.cluster.Endpoints()[0], grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	_, err = lockdv1.NewSessionServiceClient(conn).CloseSession(testCtx(t), &lockdv1.CloseSessionRequest{SessionId: id})
	require.NoError(t, err)

	r := wait()
	require.Equal(t, exitLost, r.code(), "%v", r.err)
	require.Contains(t, r.stderr, `lock "L" lost`)
	require.Contains(t, r.stderr, "sending SIGTERM to sh")
	require.ErrorContains(t, r.err, "status 143", "sleep was terminated by SIGTERM")
}

func TestLockdCLIBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"lock", "acquire", "L", "--mode", "weird"}, "--mode"},
		{[]string{"lock", "acquire", "L", "--ttl", "0s"}, "--ttl"},
		{[]string{"lock", "acquire", "L", "--ttl", "soon"}, "--ttl"},
		{[]string{"lock", "acquire", "L", "--wait", "-1s"}, "--wait"},
		{[]string{"lock", "acquire", "L", "--lock-delay", "-1s"}, "--lock-delay"},
		{[]string{"lock", "acquire", "L", "--bogus"}, "--bogus"},
		{[]string{"lock", "try", "L", "--wait", "1s"}, "--wait"},
		{[]string{"sem", "try", "S", "--permits", "2", "--wait", "1s"}, "--wait"},
		{[]string{"election", "campaign", "", "v"}, "<election>"},
		{[]string{"election", "campaign", "svc", "v", "--file", "x"}, "--file"},
		{[]string{"lock", "acquire"}, "arg"},
		{[]string{"lock", "acquire", "L", "sleep", "1"}, "--"},
		{[]string{"lock", "acquire", "--", "sleep", "1"}, "<name>"},
		{[]string{"lock", "list", "--output", "yaml"}, "--output"},
		{[]string{"lock", "list", "--timeout", "0s"}, "--timeout"},
		{[]string{"lock", "release", "L"}, "--session"},
		{[]string{"lock", "release", "L", "--session", "x"}, "--session"},
		{[]string{"lock", "describe"}, "arg"},
		{[]string{"sem", "acquire", "S"}, "--permits"},
		{[]string{"sem", "acquire", "S", "--permits", "-1"}, "--permits"},
		{[]string{"sem", "release", "S", "--session", "0"}, "--session"},
		{[]string{"election", "campaign", "svc"}, "arg"},
		{[]string{"election", "campaign", "svc", "v", "--ttl", "-1s"}, "--ttl"},
		{[]string{"election", "resign", "svc"}, "--session"},
		{[]string{"lock", "list", "--endpoints", "nohostport"}, "host:port"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			root := newRootCmd()
			args := tc.args
			if !strings.Contains(strings.Join(args, " "), "--endpoints") {
				args = withEndpoints(args, "127.0.0.1:1")
			}
			root.SetArgs(args)
			root.SetOut(io.Discard)
			root.SetErr(io.Discard)
			err := root.Execute()
			require.ErrorContains(t, err, tc.wantErr)
			require.Equal(t, exitUsage, exitCode(err), "%v", err)
		})
	}
}

// Values that only lockd can judge (its TTL bounds) are usage errors too.
func TestLockdCLIServerRejectsFlag(t *testing.T) {
	l := newLockdCLI(t, 1)
	r := l.run("lock", "acquire", "L", "--ttl", "50ms", "--", "true")
	require.Equal(t, exitUsage, r.code(), "%v", r.err)
	require.ErrorContains(t, r.err, "--ttl")
	r = l.run("lock", "acquire", "L", "--lock-delay", "2h", "--", "true")
	require.Equal(t, exitUsage, r.code(), "%v", r.err)
	require.ErrorContains(t, r.err, "lock_delay")
}

func TestServiceEndpoints(t *testing.T) {
	dir := t.TempDir()
	st := &cluster.State{Dir: dir, Nodes: []cluster.NodeState{
		{Name: "raftkv-1", Service: "raftkv", GRPCAddr: "127.0.0.1:18000"},
		{Name: "lockd-1", Service: "lockd", GRPCAddr: "127.0.0.1:18100"},
		{Name: "lockd-2", Service: "lockd", GRPCAddr: "127.0.0.1:18102"},
	}}
	require.NoError(t, st.Save())
	eps, err := serviceEndpoints(nil, dir, "lockd")
	require.NoError(t, err)
	require.Equal(t, []string{"127.0.0.1:18100", "127.0.0.1:18102"}, eps)
	eps, err = serviceEndpoints([]string{" a:1", "", "b:2"}, dir, "lockd")
	require.NoError(t, err)
	require.Equal(t, []string{"a:1", "b:2"}, eps)
	_, err = serviceEndpoints(nil, dir, "queued")
	require.ErrorContains(t, err, "no queued nodes")
	_, err = serviceEndpoints(nil, t.TempDir(), "lockd")
	require.ErrorIs(t, err, cluster.ErrNoCluster)

	// The commands find the cluster through --cluster-dir.
	root := newRootCmd()
	root.SetArgs([]string{"lock", "list", "--cluster-dir", t.TempDir()})
	root.SetOut(io.Discard)
	err = root.Execute()
	require.ErrorIs(t, err, cluster.ErrNoCluster)
	require.Equal(t, exitUnavailable, exitCode(err), "no cluster to talk to")
}

// A lock released from elsewhere is lost for the command running under it.
func TestLockReleasedElsewhereStopsCommand(t *testing.T) {
	l := newLockdCLI(t, 1)
	lines, wait := l.start(testCtx(t), "lock", "acquire", "L", "--ttl", "1s", "--",
		"sh", "-c", "echo session=$CAIRN_LOCK_SESSION; exec sleep 60")
	id := envField(t, nextLine(t, lines), "session")
	r := l.run("lock", "release", "L", "--session", id)
	require.NoError(t, r.err, r.stderr)
	res := wait()
	require.Equal(t, exitLost, res.code(), "%v", res.err)
	require.Contains(t, res.stderr, `lock "L" lost (released by another client)`)
}
