package cluster

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/cluster/faultproxy"
)

func TestProxyPorts(t *testing.T) {
	for _, tc := range []struct {
		service  string
		from, to int
		want     int
	}{
		{"raftkv", 1, 2, 7051},
		{"raftkv", 2, 1, 7060},
		{"raftkv", 5, 4, 7093},
		{"lockd", 1, 3, 7152},
	} {
		got, err := ProxyPort(7000, tc.service, tc.from, tc.to)
		require.NoError(t, err)
		require.Equal(t, tc.want, got, "%s %d→%d", tc.service, tc.from, tc.to)
	}
	for _, bad := range [][2]int{{1, 1}, {0, 2}, {1, 6}, {6, 1}} {
		_, err := ProxyPort(7000, "raftkv", bad[0], bad[1])
		require.Error(t, err, "%v", bad)
	}
	_, err := ProxyPort(7000, "nope", 1, 2)
	require.ErrorIs(t, err, ErrUnknownService)
	_, err = ProxyPort(65500, "raftkv", 1, 2)
	require.Error(t, err)
	require.Equal(t, 7099, ControlPort(7000))

	// No proxy port collides with a node port or the control port, for 5 nodes
	// of every service.
	used := map[int]string{ControlPort(7000): "control"}
	for _, svc := range portOrder {
		for i := 1; i <= MaxProxiedNodes; i++ {
			g, a, err := NodePorts(7000, svc, i)
			require.NoError(t, err)
			for _, p := range []int{g, a} {
				require.NotContains(t, used, p)
				used[p] = svc
			}
			for j := 1; j <= MaxProxiedNodes; j++ {
				if i == j {
					continue
				}
				p, err := ProxyPort(7000, svc, i, j)
				require.NoError(t, err)
				require.NotContains(t, used, p, "%s %d→%d", svc, i, j)
				used[p] = svc
			}
		}
	}
}

func TestLayoutProxy(t *testing.T) {
	opts := Options{Dir: "/c", Binary: "/bin/cairn", BasePort: 7000, Services: []string{"raftkv"}}
	nodes, err := Layout(opts)
	require.NoError(t, err)
	links, err := LayoutProxy(opts, nodes)
	require.NoError(t, err)
	require.Len(t, links, 6)
	require.Equal(t, Link{From: "raftkv-1", To: "raftkv-2", Listen: "127.0.0.1:7051", Target: "127.0.0.1:7002"}, links[0])
	require.Equal(t, "raftkv-3>raftkv-2", links[5].Key())
	require.Equal(t, []string{"--dial-overrides", "127.0.0.1:7000=127.0.0.1:7060,127.0.0.1:7004=127.0.0.1:7062"},
		nodes[1].Args[len(nodes[1].Args)-2:])

	opts.NoFaultProxy = true
	nodes, err = Layout(opts)
	require.NoError(t, err)
	links, err = LayoutProxy(opts, nodes)
	require.NoError(t, err)
	require.Nil(t, links)
	require.NotContains(t, nodes[0].Args, "--dial-overrides")

	opts = Options{Dir: "/c", Binary: "/bin/cairn", Nodes: 6, Services: []string{"raftkv"}}
	nodes, err = Layout(opts)
	require.NoError(t, err)
	_, err = LayoutProxy(opts, nodes)
	require.ErrorContains(t, err, "--no-fault-proxy")
}

func TestRaftJoinArgs(t *testing.T) {
	args := []string{"raftkv", "--id", "raftkv-2", "--peers", "a=1,b=2", "--data-dir", "/d"}
	got := raftJoinArgs(args)
	require.Equal(t, []string{"raftkv", "--id", "raftkv-2", "--peers", "", "--data-dir", "/d"}, got)
	require.Equal(t, "a=1,b=2", args[4], "the recorded args are not changed")
}

// faultState is a state with two services of three nodes and their links.
func faultState(t *testing.T) *State {
	t.Helper()
	opts := Options{Dir: "/c", Binary: "/bin/cairn", BasePort: 7000, Services: []string{"raftkv", "lockd"}}
	nodes, err := Layout(opts)
	require.NoError(t, err)
	links, err := LayoutProxy(opts, nodes)
	require.NoError(t, err)
	require.Len(t, links, 12)
	return &State{Dir: "/c", BasePort: 7000, Nodes: nodes,
		Proxy: newProxyState("/c", "/bin/cairn", 7000, 1, links)}
}

func TestResolvePartition(t *testing.T) {
	s := faultState(t)
	now := time.Now()
	f, err := resolvePartition(s, []string{"raftkv-1"}, nil, false, now)
	require.NoError(t, err)
	require.Equal(t, []string{"raftkv-2", "raftkv-3"}, f.From, "from defaults to the other nodes of the service")
	require.Equal(t, "partition raftkv-1 <-> raftkv-2,raftkv-3", f.String())

	f, err = resolvePartition(s, []string{"raftkv-1", "raftkv-1"}, []string{"raftkv-3"}, true, now)
	require.NoError(t, err)
	require.Equal(t, []string{"raftkv-1"}, f.Nodes)
	require.Equal(t, "partition raftkv-1 -> raftkv-3", f.String())

	_, err = resolvePartition(s, []string{"raftkv-9"}, nil, false, now)
	require.ErrorIs(t, err, ErrUnknownNode)
	require.ErrorContains(t, err, "raftkv-1, raftkv-2, raftkv-3")
	_, err = resolvePartition(s, []string{"raftkv-1"}, []string{"raftkv-1"}, false, now)
	require.ErrorContains(t, err, "both sides")
	_, err = resolvePartition(s, []string{"raftkv-1"}, []string{"lockd-2"}, false, now)
	require.ErrorContains(t, err, "share no link")
	_, err = resolvePartition(s, nil, nil, false, now)
	require.Error(t, err)
}

func TestLinkFaults(t *testing.T) {
	s := faultState(t)
	s.Faults = []Fault{
		{Kind: FaultPartition, Nodes: []string{"raftkv-1"}, From: []string{"raftkv-2"}},
		{Kind: FaultPartition, Nodes: []string{"raftkv-3"}, From: []string{"raftkv-2"}, OneWay: true},
		{Kind: FaultDelay, Nodes: []string{"raftkv-1"}, Delay: 100 * time.Millisecond, Jitter: 10 * time.Millisecond},
		{Kind: FaultDelay, Nodes: []string{"raftkv-3"}, Delay: 50 * time.Millisecond},
		{Kind: FaultDrop, Nodes: []string{"raftkv-1"}, Percent: 10},
		{Kind: FaultDrop, Nodes: []string{"raftkv-3"}, Percent: 30},
		{Kind: FaultBandwidth, Nodes: []string{"raftkv-1"}, BytesPerSec: 1000},
		{Kind: FaultBandwidth, Nodes: []string{"raftkv-3"}, BytesPerSec: 500},
		{Kind: FaultPause, Nodes: []string{"raftkv-2"}},
		{Kind: FaultDelay, Nodes: []string{"lockd-1"}, Delay: time.Second},
	}
	lf := linkFaults(s)
	require.Len(t, lf, 12)
	want := map[string]faultproxy.Faults{
		"raftkv-1>raftkv-2": {BlackholeUp: true, BlackholeDown: true, Delay: 100 * time.Millisecond, Jitter: 10 * time.Millisecond, DropPercent: 10, BandwidthBytesPerSec: 1000},
		"raftkv-2>raftkv-1": {BlackholeUp: true, BlackholeDown: true, Delay: 100 * time.Millisecond, Jitter: 10 * time.Millisecond, DropPercent: 10, BandwidthBytesPerSec: 1000},
		// One-way raftkv-3 -> raftkv-2: what 3 sends is lost on both links.
		"raftkv-3>raftkv-2": {BlackholeUp: true, Delay: 50 * time.Millisecond, DropPercent: 30, BandwidthBytesPerSec: 500},
		"raftkv-2>raftkv-3": {BlackholeDown: true, Delay: 50 * time.Millisecond, DropPercent: 30, BandwidthBytesPerSec: 500},
		// Both ends faulty: delays add, the higher drop and the lower cap win.
		"raftkv-1>raftkv-3": {Delay: 150 * time.Millisecond, Jitter: 10 * time.Millisecond, DropPercent: 30, BandwidthBytesPerSec: 500},
		"raftkv-3>raftkv-1": {Delay: 150 * time.Millisecond, Jitter: 10 * time.Millisecond, DropPercent: 30, BandwidthBytesPerSec: 500},
		"lockd-1>lockd-2":   {Delay: time.Second},
		"lockd-3>lockd-1":   {Delay: time.Second},
		"lockd-2>lockd-3":   {},
	}
	for key, w := range want {
		require.Equal(t, w, lf[key], key)
	}

	s.setNodeFault(FaultDelay, "raftkv-1", Fault{}, true)
	s.removeFaults(func(f Fault) bool { return f.Kind == FaultPartition })
	require.Equal(t, faultproxy.Faults{Delay: 50 * time.Millisecond, DropPercent: 30, BandwidthBytesPerSec: 500}, linkFaults(s)["raftkv-1>raftkv-3"])
	require.True(t, s.paused("raftkv-2"))
	require.False(t, s.paused("raftkv-1"))
}

func TestFaultString(t *testing.T) {
	for _, tc := range []struct {
		f    Fault
		want string
	}{
		{Fault{Kind: FaultDelay, Nodes: []string{"a"}, Delay: time.Second, Jitter: time.Millisecond}, "delay a 1s ±1ms"},
		{Fault{Kind: FaultDelay, Nodes: []string{"a"}, Delay: time.Second}, "delay a 1s"},
		{Fault{Kind: FaultDrop, Nodes: []string{"a"}, Percent: 12.5}, "drop a 12.5%"},
		{Fault{Kind: FaultBandwidth, Nodes: []string{"a"}, BytesPerSec: 9}, "bandwidth a 9 B/s"},
		{Fault{Kind: FaultPause, Nodes: []string{"a"}}, "pause a"},
	} {
		require.Equal(t, tc.want, tc.f.String())
	}
}

// linkByKey asks the running proxy for its links.
func linkByKey(t *testing.T, c *Cluster) map[string]faultproxy.Faults {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	links, err := c.ProxyLinks(ctx)
	require.NoError(t, err)
	out := map[string]faultproxy.Faults{}
	for _, l := range links {
		out[l.Key()] = l.Faults
	}
	return out
}

// leadersSeen returns the leader each live node reports.
func leadersSeen(t *testing.T, c *Cluster) map[string]string {
	t.Helper()
	out := map[string]string{}
	for name, st := range statusByName(t, c) {
		if st.Alive && !st.Paused {
			out[name] = st.Leader
		}
	}
	return out
}

func TestProxydAndPartition(t *testing.T) {
	opts := fakeOptions(t, 3)
	c := upFake(t, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// Up started the proxy first, as its own process group, and recorded it.
	s := c.State()
	require.NotNil(t, s.Proxy)
	proxyPID := s.Proxy.PID
	require.True(t, processAlive(proxyPID, s.Proxy.StartTicks))
	pgid, err := syscall.Getpgid(proxyPID)
	require.NoError(t, err)
	require.Equal(t, proxyPID, pgid)
	ps := c.ProxyStatus()
	require.True(t, ps.Alive)
	require.Equal(t, 6, ps.Links)
	require.Len(t, linkByKey(t, c), 6)
	n1, _ := s.Node("raftkv-1")
	require.Contains(t, strings.Join(n1.Args, " "), "--dial-overrides "+s.Nodes[1].GRPCAddr+"=")

	// Unknown nodes are refused with the valid names.
	require.ErrorContains(t, c.Partition([]string{"raftkv-7"}, nil, false), "raftkv-1, raftkv-2, raftkv-3")
	require.ErrorIs(t, c.Delay("nope", time.Second, 0), ErrUnknownNode)

	// Isolate the leader: the fake nodes dial their peers through the proxies,
	// so raftkv-2 and raftkv-3 now elect raftkv-2 while raftkv-1 sees only itself.
	require.NoError(t, c.Partition([]string{"raftkv-1"}, nil, false))
	lf := linkByKey(t, c)
	require.Equal(t, faultproxy.Faults{BlackholeUp: true, BlackholeDown: true}, lf["raftkv-1>raftkv-2"])
	require.Equal(t, faultproxy.Faults{BlackholeUp: true, BlackholeDown: true}, lf["raftkv-3>raftkv-1"])
	require.True(t, lf["raftkv-2>raftkv-3"].IsZero())
	require.True(t, pollUntil(30*time.Second, func() bool {
		l := leadersSeen(t, c)
		return l["raftkv-1"] == "raftkv-1" && l["raftkv-2"] == "raftkv-2" && l["raftkv-3"] == "raftkv-2"
	}), "leaders seen: %v", leadersSeen(t, c))
	faults := c.ActiveFaults()
	require.Len(t, faults, 1)
	require.Equal(t, "partition raftkv-1 <-> raftkv-2,raftkv-3", faults[0].String())

	// Another handle (another process in real use) sees the faults.
	o, err := Open(opts.Dir)
	require.NoError(t, err)
	require.Equal(t, faults, o.ActiveFaults())

	// A proxy that died is started again by the next fault change and
	// re-applies every recorded fault.
	require.NoError(t, signalGroup(proxyPID, syscall.SIGKILL))
	requireGone(t, proxyPID)
	require.False(t, c.ProxyStatus().Alive)
	require.NoError(t, c.Delay("raftkv-3", 20*time.Millisecond, 5*time.Millisecond))
	require.NotEqual(t, proxyPID, c.State().Proxy.PID)
	lf = linkByKey(t, c)
	require.Equal(t, faultproxy.Faults{BlackholeUp: true, BlackholeDown: true}, lf["raftkv-1>raftkv-2"])
	require.Equal(t, faultproxy.Faults{BlackholeUp: true, BlackholeDown: true, Delay: 20 * time.Millisecond, Jitter: 5 * time.Millisecond}, lf["raftkv-1>raftkv-3"])
	require.NoError(t, c.DropConnections("raftkv-2", 5))
	require.NoError(t, c.Bandwidth("raftkv-2", 1<<20))
	require.Len(t, c.ActiveFaults(), 4)

	// Heal removes every network fault; the group converges on raftkv-1 again.
	require.NoError(t, c.Heal())
	require.Empty(t, c.ActiveFaults())
	for key, f := range linkByKey(t, c) {
		require.True(t, f.IsZero(), key)
	}
	leader, err := c.WaitLeader(ctx, "raftkv")
	require.NoError(t, err)
	require.Equal(t, "raftkv-1", leader)

	// Down stops the proxy too and leaves no process.
	final := c.State()
	require.NoError(t, c.Down())
	for _, n := range final.Nodes {
		requireGone(t, n.PID)
	}
	requireGone(t, final.Proxy.PID)
	s2, err := LoadState(opts.Dir)
	require.NoError(t, err)
	require.Zero(t, s2.Proxy.PID)
	require.False(t, c.ProxyStatus().Alive)

	// Starting a node of a downed cluster brings the proxy back, since the
	// node's peer links go through it.
	require.NoError(t, c.Start("raftkv-1"))
	require.True(t, c.ProxyStatus().Alive)
	require.NoError(t, c.Down())
}

func TestProxydControlAPI(t *testing.T) {
	opts := fakeOptions(t, 2)
	c := upFake(t, opts)
	addr := c.State().Proxy.ControlAddr
	ctx := context.Background()
	err := controlRequest(ctx, http.MethodPut, addr, "/v1/faults", map[string]faultproxy.Faults{"raftkv-1>raftkv-9": {}}, nil)
	require.ErrorContains(t, err, "unknown link")
	req, err := http.NewRequest(http.MethodPut, "http://"+addr+"/v1/faults", strings.NewReader("{"))
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	var links []LinkStatus
	require.NoError(t, controlRequest(ctx, http.MethodPut, addr, "/v1/faults", map[string]faultproxy.Faults{"raftkv-2>raftkv-1": {Delay: time.Millisecond}}, &links))
	require.Len(t, links, 2)
	require.Equal(t, time.Millisecond, links[1].Faults.Delay)
	require.NoError(t, c.Down())
}

func TestUpRefusesBusyProxyPort(t *testing.T) {
	opts := fakeOptions(t, 3)
	ln, err := net.Listen("tcp", "127.0.0.1:"+itoa(opts.BasePort+60))
	require.NoError(t, err)
	defer ln.Close()
	_, err = Up(context.Background(), opts)
	require.ErrorIs(t, err, ErrPortInUse)
	require.ErrorContains(t, err, "raftkv-2→raftkv-1")
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestPauseResume(t *testing.T) {
	opts := fakeOptions(t, 3)
	// Down is timed against StopTimeout below to tell a SIGTERM stop from the
	// SIGKILL fallback: make the fallback far slower than a loaded machine
	// takes to stop every node and the proxy gracefully.
	opts.StopTimeout = 30 * time.Second
	c := upFake(t, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	pid := func(name string) int {
		s := c.State()
		n, _ := s.Node(name)
		return n.PID
	}
	stopped := func(name string) bool {
		st, _, err := procStat(pid(name))
		return err == nil && st == 'T'
	}

	require.ErrorIs(t, c.Pause("raftkv-9"), ErrUnknownNode)
	require.NoError(t, c.Pause("raftkv-2"))
	require.True(t, pollUntil(10*time.Second, func() bool { return stopped("raftkv-2") }))
	require.NoError(t, c.Pause("raftkv-2"), "pausing twice is harmless")
	faults := c.ActiveFaults()
	require.Len(t, faults, 1)
	require.Equal(t, Fault{Kind: FaultPause, Nodes: []string{"raftkv-2"}, Since: faults[0].Since}, faults[0])
	st := statusByName(t, c)["raftkv-2"]
	require.True(t, st.Paused)
	require.Equal(t, HealthPaused, st.Health)
	require.Equal(t, HealthPaused, st.Role)
	require.NoError(t, c.WaitReady(ctx), "a paused node is left out of readiness")
	require.NoError(t, c.Heal())
	require.Len(t, c.ActiveFaults(), 1, "Heal leaves pauses")
	paused, err := c.Paused("raftkv-2")
	require.NoError(t, err)
	require.True(t, paused)
	paused, err = c.Paused("raftkv-1")
	require.NoError(t, err)
	require.False(t, paused)
	_, err = c.Paused("raftkv-9")
	require.ErrorIs(t, err, ErrUnknownNode)

	// HealAll resumes paused nodes too, and says what it removed.
	require.NoError(t, c.Delay("raftkv-1", time.Millisecond, 0))
	removed, err := c.HealAll()
	require.NoError(t, err)
	require.Len(t, removed, 2)
	require.Equal(t, FaultPause, removed[0].Kind)
	require.Equal(t, FaultDelay, removed[1].Kind)
	require.Empty(t, c.ActiveFaults())
	require.True(t, pollUntil(10*time.Second, func() bool { return !stopped("raftkv-2") }))
	removed, err = c.HealAll()
	require.NoError(t, err)
	require.Empty(t, removed, "nothing left to heal")
	require.NoError(t, c.Pause("raftkv-2"))
	require.True(t, pollUntil(10*time.Second, func() bool { return stopped("raftkv-2") }))

	require.NoError(t, c.Resume("raftkv-2"))
	require.True(t, pollUntil(10*time.Second, func() bool { return !stopped("raftkv-2") }))
	require.Empty(t, c.ActiveFaults())
	require.NoError(t, c.WaitNode(ctx, "raftkv-2"))

	// A paused node can be stopped gracefully (SIGTERM is delivered after a
	// SIGCONT) and killed; the pause ends with the process.
	require.NoError(t, c.Pause("raftkv-3"))
	old := pid("raftkv-3")
	require.NoError(t, c.Stop("raftkv-3"))
	requireGone(t, old)
	require.Empty(t, c.ActiveFaults())
	log, err := os.ReadFile(filepath.Join(opts.Dir, "logs", "raftkv-3.log"))
	require.NoError(t, err)
	require.Contains(t, string(log), "SIGTERM, stopping")
	require.ErrorIs(t, c.Pause("raftkv-3"), ErrNotRunning)

	require.NoError(t, c.Pause("raftkv-1"))
	old = pid("raftkv-1")
	require.NoError(t, c.Kill("raftkv-1"))
	requireGone(t, old)

	// Down resumes paused nodes and stops them gracefully.
	require.NoError(t, c.Start("raftkv-1"))
	require.NoError(t, c.Pause("raftkv-1"))
	final := c.State()
	start := time.Now()
	require.NoError(t, c.Down())
	require.Less(t, time.Since(start), opts.StopTimeout, "paused node stopped by SIGTERM, not the SIGKILL fallback")
	for _, n := range final.Nodes {
		if n.PID != 0 { // raftkv-3 is stopped
			requireGone(t, n.PID)
		}
	}
	requireGone(t, final.Proxy.PID)
	require.Empty(t, c.ActiveFaults())
}

func TestWipe(t *testing.T) {
	opts := fakeOptions(t, 3)
	c := upFake(t, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s := c.State()
	n2, _ := s.Node("raftkv-2")
	lastStart := func() string {
		b, err := os.ReadFile(n2.LogFile)
		require.NoError(t, err)
		lines := slices.DeleteFunc(strings.Split(string(b), "\n"), func(l string) bool {
			return !strings.Contains(l, "cairn cluster: starting")
		})
		return lines[len(lines)-1]
	}

	require.ErrorIs(t, c.Wipe("raftkv-2"), ErrAlreadyRunning)
	require.ErrorIs(t, c.Wipe("raftkv-0"), ErrUnknownNode)
	require.NoError(t, c.Stop("raftkv-2"))
	require.NoError(t, c.Wipe("raftkv-2"))
	entries, err := os.ReadDir(n2.DataDir)
	require.NoError(t, err)
	require.Empty(t, entries)
	s = c.State()
	w, _ := s.Node("raftkv-2")
	require.True(t, w.Wiped)

	// The first start after the wipe joins: empty --peers.
	require.NoError(t, c.Start("raftkv-2"))
	require.Contains(t, lastStart(), "--peers  --sql-addr")
	require.NoError(t, c.WaitNode(ctx, "raftkv-2"))
	require.Equal(t, 1, bootCount(t, n2.DataDir))

	// Once it has data, it starts with its recorded arguments again.
	require.NoError(t, c.Stop("raftkv-2"))
	require.NoError(t, c.Start("raftkv-2"))
	require.Contains(t, lastStart(), "--peers raftkv-1=")
	s = c.State()
	w, _ = s.Node("raftkv-2")
	require.False(t, w.Wiped)
	require.NoError(t, c.Down())
}

func TestNoFaultProxy(t *testing.T) {
	opts := fakeOptions(t, 2)
	opts.NoFaultProxy = true
	c := upFake(t, opts)
	s := c.State()
	require.Nil(t, s.Proxy)
	require.Nil(t, c.ProxyStatus())
	for _, n := range s.Nodes {
		require.NotContains(t, n.Args, "--dial-overrides")
	}
	require.ErrorIs(t, c.Partition([]string{"raftkv-1"}, nil, false), ErrNoFaultProxy)
	require.ErrorIs(t, c.Heal(), ErrNoFaultProxy)
	require.ErrorIs(t, c.Delay("raftkv-1", time.Second, 0), ErrNoFaultProxy)
	require.NoError(t, c.Pause("raftkv-2"), "pause needs no proxy")
	require.NoError(t, c.Resume("raftkv-2"))
	require.NoError(t, c.Pause("raftkv-2"))
	removed, err := c.HealAll()
	require.NoError(t, err, "HealAll needs no proxy")
	require.Len(t, removed, 1)
	require.Empty(t, c.ActiveFaults())
	require.NoError(t, c.Down())
}
