package cached

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/cached/resp"
	"cairn.dev/cairn/cached/ring"
	"cairn.dev/cairn/node/nodetest"
)

// forEachRESPIO runs f once for every resp_io this OS supports, with a
// config edit that selects it.
func forEachRESPIO(t *testing.T, f func(t *testing.T, tune func(*Config))) {
	runRESPIOs(t, f, false)
}

// forEachRESPIOStaying is forEachRESPIO, plus resp_io loop with connections
// that never leave their loop, so that every command for another node goes
// through a hand-off to a worker.
func forEachRESPIOStaying(t *testing.T, f func(t *testing.T, tune func(*Config))) {
	runRESPIOs(t, f, true)
}

func runRESPIOs(t *testing.T, f func(t *testing.T, tune func(*Config)), stay bool) {
	type variant struct {
		name string
		tune func(*Config)
	}
	vs := []variant{{respIOGoroutine, func(cfg *Config) { cfg.RESPIO = respIOGoroutine }}}
	if respLoopSupported {
		vs = append(vs, variant{respIOLoop, func(cfg *Config) { cfg.RESPIO = respIOLoop }})
		if stay {
			vs = append(vs, variant{"loop-stay", func(cfg *Config) { cfg.RESPIO, cfg.respStay = respIOLoop, true }})
		}
	}
	for _, v := range vs {
		t.Run(v.name, func(t *testing.T) { f(t, v.tune) })
	}
}

// requireNoRESPGoroutines fails if a goroutine of a RESP listener (a loop,
// a worker, a connection) is left once every node has stopped.
func requireNoRESPGoroutines(t *testing.T) {
	t.Helper()
	var left string
	nodetest.WaitFor(t, 10*time.Second, "the RESP goroutines to end", func() bool {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		left = ""
		for _, fn := range []string{"cached.(*respLoop)", "cached.(*respConn).serve", "cached.(*loopConn)", "cached.(*respServer)"} {
			if strings.Contains(stacks, fn) {
				left = fn
			}
		}
		return left == ""
	})
}

func TestRESPIODefault(t *testing.T) {
	want := respIOGoroutine
	if respLoopSupported {
		want = respIOLoop
	}
	require.Equal(t, want, DefaultConfig().RESPIO)
	c := newTestCluster(t, 1, func(cfg *Config) { cfg.RESPLoops = 3 })
	if respLoopSupported {
		require.Len(t, c.nodes[0].srv.resp.loops, 3)
	}
}

// Commands split anywhere across writes, one byte at a time and at every
// boundary of a pipeline, are answered in order.
func TestRESPSplitCommands(t *testing.T) { forEachRESPIO(t, testRESPSplitCommands) }

func testRESPSplitCommands(t *testing.T, tune func(*Config)) {
	c := newTestCluster(t, 1, tune)
	var in bytes.Buffer
	w := resp.NewWriter(&in)
	var want []string
	big := strings.Repeat("b", 40<<10) // larger than the read buffer
	for i := range 20 {
		v := strconv.Itoa(i)
		if i == 7 {
			v = big
		}
		w.CommandString("SET", "split"+strconv.Itoa(i), v)
		w.CommandString("GET", "split"+strconv.Itoa(i))
		want = append(want, "OK", strconv.Quote(v))
	}
	require.NoError(t, w.Flush())
	in.WriteString("PING\r\n") // inline, too
	want = append(want, "PONG")
	data := in.Bytes()

	// Each write is its own segment (TCP_NODELAY), so the server reads
	// pieces of commands.
	for _, piece := range []int{1, 5, 1000, 64 << 10} {
		t.Run(fmt.Sprintf("pieces of %d", piece), func(t *testing.T) {
			rc := dialRESP(t, c.nodes[0].srv.RESPAddr())
			done := make(chan error, 1)
			go func() {
				sizes := []int{piece, 1, 2}
				for off, i := 0, 0; off < len(data); i++ {
					end := min(off+sizes[i%len(sizes)], len(data))
					if _, err := rc.nc.Write(data[off:end]); err != nil {
						done <- err
						return
					}
					off = end
				}
				done <- nil
			}()
			for i, wantRep := range want {
				rep, err := rc.rd.ReadReply()
				require.NoError(t, err, "reply %d", i)
				require.Equal(t, wantRep, rep.String(), "reply %d", i)
			}
			require.NoError(t, <-done)
		})
	}
}

// A client that pipelines more replies than the socket buffers hold and
// reads none for a while gets them all, in order, once it reads; the server
// stops running its commands meanwhile, and answers other clients.
func TestRESPUnreadReplies(t *testing.T) { forEachRESPIO(t, testRESPUnreadReplies) }

func testRESPUnreadReplies(t *testing.T, tune func(*Config)) {
	c := newTestCluster(t, 1, tune)
	addr := c.nodes[0].srv.RESPAddr()
	rc := dialRESP(t, addr)
	val := strings.Repeat("v", 16<<10)
	require.Equal(t, "OK", rc.do("SET", "big", val))
	const n = 3000 // 48 MiB of replies
	sent := make(chan error, 1)
	go func() {
		w := resp.NewWriter(rc.nc)
		for i := range n {
			w.CommandString("GET", "big")
			if i%100 == 99 {
				w.CommandString("INCR", "count")
			}
		}
		sent <- w.Flush()
	}()
	other := dialRESP(t, addr)
	nodetest.WaitFor(t, 10*time.Second, "the pipeline to start", func() bool {
		return other.do("GET", "count") != "(nil)"
	})
	for range 20 {
		require.Equal(t, "PONG", other.do("PING"))
	}
	// 48 MiB do not fit in the sockets' buffers: the server cannot have run
	// the whole pipeline.
	count, err := strconv.Unquote(other.do("GET", "count"))
	require.NoError(t, err)
	require.Less(t, count, strconv.Itoa(n/100), "count %s", count)
	br := bufio.NewReaderSize(rc.nc, 1<<20)
	rd := resp.NewReader(br)
	for i := range n {
		rep, err := rd.ReadReply()
		require.NoError(t, err, "reply %d", i)
		require.Equal(t, resp.KindBulk, rep.Kind, "reply %d", i)
		require.Len(t, rep.Str, len(val), "reply %d", i)
		if i%100 == 99 {
			rep, err := rd.ReadReply()
			require.NoError(t, err)
			require.Equal(t, fmt.Sprintf("(integer) %d", i/100+1), rep.String())
		}
	}
	require.NoError(t, <-sent)
	rc.rd = rd
	require.Equal(t, "PONG", rc.do("PING"))
}

// Many clients at once each see their own commands applied in order; INFO
// counts them, and the count drops as they leave.
func TestRESPManyConnections(t *testing.T) { forEachRESPIO(t, testRESPManyConnections) }

func testRESPManyConnections(t *testing.T, tune func(*Config)) {
	c := newTestCluster(t, 1, func(cfg *Config) { tune(cfg); cfg.RESPLoops = 2 })
	srv := c.nodes[0].srv
	const clients, rounds = 200, 20
	conns := make([]*respClient, clients)
	for i := range conns {
		conns[i] = dialRESP(t, srv.RESPAddr())
	}
	nodetest.WaitFor(t, 10*time.Second, "every client to be counted", func() bool { return srv.resp.clients() == clients })
	require.Contains(t, conns[0].do("INFO", "clients"), fmt.Sprintf("connected_clients:%d", clients))
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i, rc := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := "many-" + strconv.Itoa(i)
			w := resp.NewWriter(rc.nc)
			for r := range rounds {
				w.CommandString("INCR", k)
				w.CommandString("APPEND", k+"-s", "x")
				if err := w.Flush(); err != nil {
					errs <- err
					return
				}
				for j, want := range []string{fmt.Sprintf("(integer) %d", r+1), fmt.Sprintf("(integer) %d", r+1)} {
					rep, err := rc.rd.ReadReply()
					if err != nil || rep.String() != want {
						errs <- fmt.Errorf("client %d round %d reply %d: %v, %v; want %s", i, r, j, rep, err, want)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	before := srv.metrics.commands.Load()
	require.GreaterOrEqual(t, before, int64(clients*rounds*2))
	for _, rc := range conns[:clients/2] {
		require.NoError(t, rc.nc.Close())
	}
	nodetest.WaitFor(t, 10*time.Second, "half the clients to be gone", func() bool { return srv.resp.clients() == clients/2 })
	require.EqualValues(t, clients/2, srv.metrics.respConns.Load())
	require.EqualValues(t, clients, srv.metrics.respTotal.Load())
}

// A client that shuts down its sending side still gets the replies to what
// it sent, then the server closes.
func TestRESPHalfClose(t *testing.T) { forEachRESPIO(t, testRESPHalfClose) }

func testRESPHalfClose(t *testing.T, tune func(*Config)) {
	c := newTestCluster(t, 1, tune)
	rc := dialRESP(t, c.nodes[0].srv.RESPAddr())
	_, err := rc.nc.Write([]byte("SET h 1\r\nGET h\r\n*2\r\n$3\r\nGET\r\n$1\r\nh"))
	require.NoError(t, err)
	require.NoError(t, rc.nc.(*net.TCPConn).CloseWrite())
	out, err := io.ReadAll(rc.nc)
	require.NoError(t, err)
	require.Equal(t, "+OK\r\n$1\r\n1\r\n", string(out), "the partial command at the end is dropped")
	nodetest.WaitFor(t, 10*time.Second, "the connection to close", func() bool { return c.nodes[0].srv.resp.clients() == 0 })
}

// ghostPeer adds to node's ring a member whose address accepts connections
// and never answers, and returns a key it owns: a command on that key waits
// until its deadline or its connection's end.
func ghostPeer(t *testing.T, nd *testNode) string {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var mu sync.Mutex
	var held []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			nc, err := lis.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, nc)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = lis.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, nc := range held {
			_ = nc.Close()
		}
	})
	ghost := ring.Member{ID: "ghost", Addr: lis.Addr().String()}
	nd.srv.SetPeers([]ring.Member{nd.srv.Self(), ghost})
	r := nd.srv.currentView().ring
	for i := 0; ; i++ {
		k := "ghost-" + strconv.Itoa(i)
		if m, _ := r.Owner(k); m.ID == ghost.ID {
			return k
		}
	}
}

// A command waiting for another node holds up neither other connections nor
// the commands of its own connection queued behind it, which are answered in
// order; Close does not wait for the other node.
func TestRESPForwardedWaitAndClose(t *testing.T) {
	forEachRESPIOStaying(t, testRESPForwardedWaitAndClose)
}

func testRESPForwardedWaitAndClose(t *testing.T, tune func(*Config)) {
	c := newTestCluster(t, 1, func(cfg *Config) {
		tune(cfg)
		cfg.ForwardTimeout = time.Minute
		cfg.Server.ShutdownTimeout = time.Second
	})
	nd := c.nodes[0]
	key := ghostPeer(t, nd)
	waiting := dialRESP(t, nd.srv.RESPAddr())
	waiting.wr.CommandString("SET", "local", "1")
	waiting.wr.CommandString("SET", key, "x")
	waiting.wr.CommandString("GET", "local")
	require.NoError(t, waiting.wr.Flush())

	others := make([]*respClient, 5)
	for i := range others {
		others[i] = dialRESP(t, nd.srv.RESPAddr())
		require.Equal(t, "PONG", others[i].do("PING"))
		// The waiting connection's first SET is applied soon, but in its
		// own goroutine: poll for it.
		nodetest.WaitFor(t, 10*time.Second, "the pipelined SET local to apply", func() bool {
			return others[i].do("GET", "local") == `"1"`
		})
	}
	// Close while the SET waits for the ghost.
	start := time.Now()
	nd.srv.Close()
	require.NoError(t, <-nd.done)
	nd.stopped = true
	require.Less(t, time.Since(start), 20*time.Second)
	// The SET failed as its connection ended; the replies that were written
	// before the connection closed are in order.
	var got []string
	for {
		rep, err := waiting.rd.ReadReply()
		if err != nil {
			break
		}
		got = append(got, rep.String())
	}
	want := []string{"OK", "(error) ERR", `"1"`}
	require.LessOrEqual(t, len(got), len(want))
	for i := range got {
		require.True(t, strings.HasPrefix(got[i], want[i]), "reply %d: %s", i, got[i])
	}
	for _, rc := range others {
		_, err := rc.rd.ReadReply()
		require.Error(t, err)
	}
	requireNoRESPGoroutines(t)
}

// Commands for other nodes interleaved with local ones, sent one at a time
// and pipelined from many connections, keep their order per connection.
func TestRESPForwardedInterleaved(t *testing.T) {
	forEachRESPIOStaying(t, testRESPForwardedInterleaved)
}

func testRESPForwardedInterleaved(t *testing.T, tune func(*Config)) {
	c := newTestCluster(t, 3, tune)
	addr := c.nodes[0].srv.RESPAddr()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		local, remote := c.keyOwnedBy(0, fmt.Sprintf("il%d-", i)), c.keyOwnedBy(1+i%2, fmt.Sprintf("ir%d-", i))
		rc := dialRESP(t, addr)
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := 0
			for r := range 30 {
				var want []string
				for range 1 + r%5 { // 1 (no pipeline) to 5 commands
					n++
					rc.wr.CommandString("INCR", local)
					rc.wr.CommandString("INCR", remote)
					rc.wr.CommandString("GET", local)
					want = append(want, fmt.Sprintf("(integer) %d", n), fmt.Sprintf("(integer) %d", n), strconv.Quote(strconv.Itoa(n)))
				}
				if err := rc.wr.Flush(); err != nil {
					errs <- err
					return
				}
				for k, w := range want {
					rep, err := rc.rd.ReadReply()
					if err != nil || rep.String() != w {
						errs <- fmt.Errorf("client %d round %d reply %d: %v, %v; want %s", i, r, k, rep, err, w)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	require.Positive(t, c.nodes[0].srv.metrics.forwarded.Load())
}

// The replies to the complete commands a client sent are written even when
// the rest of its input is half a command: a client may wait for them
// before it sends the rest.
func TestRESPRepliesBeforeHalfCommand(t *testing.T) {
	forEachRESPIOStaying(t, testRESPRepliesBeforeHalfCommand)
}

func testRESPRepliesBeforeHalfCommand(t *testing.T, tune func(*Config)) {
	c := newTestCluster(t, 3, tune)
	local, remote := c.keyOwnedBy(0, "hc-"), c.keyOwnedBy(2, "hc-")
	rc := dialRESP(t, c.nodes[0].srv.RESPAddr())
	require.NoError(t, rc.nc.SetDeadline(time.Now().Add(10*time.Second)))
	var get bytes.Buffer
	w := resp.NewWriter(&get)
	w.CommandString("GET", local)
	require.NoError(t, w.Flush())
	half := get.Len() / 2
	for i := range 10 {
		in := fmt.Sprintf("INCR %s\r\nSET %s %d\r\n", remote, local, i)
		if i%2 == 1 {
			in = fmt.Sprintf("SET %s %d\r\nINCR %s\r\n", local, i, remote)
		}
		_, err := rc.nc.Write(append([]byte(in), get.Bytes()[:half]...))
		require.NoError(t, err)
		want := []string{fmt.Sprintf("(integer) %d", i+1), "OK"}
		if i%2 == 1 {
			want[0], want[1] = want[1], want[0]
		}
		for _, w := range want {
			rep, err := rc.rd.ReadReply()
			require.NoError(t, err, "round %d", i)
			require.Equal(t, w, rep.String(), "round %d", i)
		}
		_, err = rc.nc.Write(get.Bytes()[half:])
		require.NoError(t, err)
		rep, err := rc.rd.ReadReply()
		require.NoError(t, err)
		require.Equal(t, strconv.Quote(strconv.Itoa(i)), rep.String())
	}
}
