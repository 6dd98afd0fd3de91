package raftnode

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/node/nodetest"
)

// transportTestFSM is a counter: every command adds one. Snapshots hold the count.
type transportTestFSM struct {
	mu       sync.Mutex // protects the fields below
	count    uint64
	restored []uint64 // the count carried by each snapshot restored
}

func (f *transportTestFSM) Apply(l *raft.Log) any {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.count++
	return f.count
}

func (f *transportTestFSM) Snapshot() (raft.FSMSnapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return transportTestSnapshot(f.count), nil
}

func (f *transportTestFSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	var b [8]byte
	if _, err := io.ReadFull(rc, b[:]); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.count = binary.BigEndian.Uint64(b[:])
	f.restored = append(f.restored, f.count)
	return nil
}

func (f *transportTestFSM) state() (count uint64, restored []uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.count, slices.Clone(f.restored)
}

type transportTestSnapshot uint64

func (s transportTestSnapshot) Persist(sink raft.SnapshotSink) error {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(s))
	if _, err := sink.Write(b[:]); err != nil {
		_ = sink.Cancel()
		return err
	}
	return sink.Close()
}

func (transportTestSnapshot) Release() {}

// transportKind names the transport a test cluster runs on.
type transportKind string

const (
	transportGRPC transportKind = "grpc" // this package's Transport
	transportNet  transportKind = "net"  // hashicorp/raft's NetworkTransport over TCP
)

// newTransportOfKind starts a transport listening on listenAddr ("" for any port on
// 127.0.0.1) and returns it with a function that stops it and its server.
func newTransportOfKind(tb testing.TB, kind transportKind, listenAddr string) (raft.Transport, func()) {
	tb.Helper()
	switch kind {
	case transportGRPC:
		p := newTransportTestPeer(tb, listenAddr, TransportConfig{})
		return p.tr, p.stop
	case transportNet:
		if listenAddr == "" {
			listenAddr = "127.0.0.1:0"
		}
		tr, err := raft.NewTCPTransport(listenAddr, nil, 3, 10*time.Second, io.Discard)
		require.NoError(tb, err)
		tb.Cleanup(func() { _ = tr.Close() })
		return tr, func() { _ = tr.Close() }
	default:
		tb.Fatalf("unknown transport %q", kind)
		return nil, nil
	}
}

// transportTestNode is one member of a transportTestCluster. Its stores survive a
// stop and restart, like a disk would.
type transportTestNode struct {
	id        raft.ServerID
	addr      raft.ServerAddress
	store     *raft.InmemStore
	snaps     *raft.InmemSnapshotStore
	trans     raft.Transport
	stopTrans func()
	fsm       *transportTestFSM
	raft      *raft.Raft // nil while stopped
}

// transportTestCluster runs raft.Raft instances in process over real transports on
// loopback.
type transportTestCluster struct {
	tb    testing.TB
	kind  transportKind
	conf  func(id raft.ServerID) *raft.Config
	nodes []*transportTestNode
}

func newTransportTestCluster(tb testing.TB, n int, kind transportKind, conf func(raft.ServerID) *raft.Config) *transportTestCluster {
	tb.Helper()
	c := &transportTestCluster{tb: tb, kind: kind, conf: conf}
	var servers []raft.Server
	for i := range n {
		trans, stop := newTransportOfKind(tb, kind, "")
		node := &transportTestNode{
			id:        raft.ServerID("node-" + strconv.Itoa(i)),
			addr:      trans.LocalAddr(),
			store:     raft.NewInmemStore(),
			snaps:     raft.NewInmemSnapshotStore(),
			trans:     trans,
			stopTrans: stop,
		}
		c.nodes = append(c.nodes, node)
		servers = append(servers, raft.Server{Suffrage: raft.Voter, ID: node.id, Address: node.addr})
	}
	tb.Cleanup(func() {
		for i := range c.nodes {
			c.stop(i)
		}
	})
	for i, node := range c.nodes {
		c.startRaft(i)
		require.NoError(tb, node.raft.BootstrapCluster(raft.Configuration{Servers: servers}).Error())
	}
	return c
}

func (c *transportTestCluster) startRaft(i int) {
	node := c.nodes[i]
	node.fsm = &transportTestFSM{}
	r, err := raft.NewRaft(c.conf(node.id), node.fsm, node.store, node.store, node.snaps, node.trans)
	require.NoError(c.tb, err)
	node.raft = r
}

// stop shuts node i down (raft closes its transport) and stops its server.
func (c *transportTestCluster) stop(i int) {
	node := c.nodes[i]
	if node.raft == nil {
		return
	}
	require.NoError(c.tb, node.raft.Shutdown().Error())
	node.raft = nil
	node.stopTrans()
}

// restart brings node i back on its old address with its old stores and a fresh FSM.
func (c *transportTestCluster) restart(i int) {
	node := c.nodes[i]
	node.trans, node.stopTrans = newTransportOfKind(c.tb, c.kind, string(node.addr))
	c.startRaft(i)
}

// waitLeader waits until exactly one running node is leader and returns its index.
func (c *transportTestCluster) waitLeader(timeout time.Duration) int {
	c.tb.Helper()
	leader := -1
	nodetest.WaitFor(c.tb, timeout, "a leader", func() bool {
		leader = -1
		for i, n := range c.nodes {
			if n.raft != nil && n.raft.State() == raft.Leader {
				if leader >= 0 {
					return false
				}
				leader = i
			}
		}
		return leader >= 0
	})
	return leader
}

// applyN applies n commands on node i concurrently and waits for all of them.
func (c *transportTestCluster) applyN(i, n int) {
	c.tb.Helper()
	futures := make([]raft.ApplyFuture, n)
	for j := range futures {
		futures[j] = c.nodes[i].raft.Apply([]byte("inc"), 10*time.Second)
	}
	for _, f := range futures {
		require.NoError(c.tb, f.Error())
	}
}

// waitCount waits until every running node's FSM has applied want commands.
func (c *transportTestCluster) waitCount(want uint64, timeout time.Duration) {
	c.tb.Helper()
	nodetest.WaitFor(c.tb, timeout, fmt.Sprintf("every FSM at %d", want), func() bool {
		for _, n := range c.nodes {
			if n.raft == nil {
				continue
			}
			if got, _ := n.fsm.state(); got != want {
				return false
			}
		}
		return true
	})
}

func transportTestRaftConfig(tb testing.TB) func(raft.ServerID) *raft.Config {
	logs := transportTestLogWriter(tb)
	return func(id raft.ServerID) *raft.Config {
		conf := raft.DefaultConfig()
		conf.LocalID = id
		// raft's default timeouts: the race detector on a small, shared machine stalls
		// the process for hundreds of milliseconds, which tighter leases turn into
		// spurious step-downs.
		conf.CommitTimeout = 5 * time.Millisecond
		// Snapshot and truncate often so that a follower that was away needs
		// InstallSnapshot to catch up.
		conf.SnapshotThreshold = 128
		conf.SnapshotInterval = 200 * time.Millisecond
		conf.TrailingLogs = 32
		conf.Logger = hclog.New(&hclog.LoggerOptions{Name: string(id), Output: logs, Level: hclog.Warn})
		return conf
	}
}

// TestTransportRaftCluster runs three raft.Raft instances over the gRPC transport:
// election, replication, leader loss and catch-up of a lagging follower by snapshot.
func TestTransportRaftCluster(t *testing.T) {
	c := newTransportTestCluster(t, 3, transportGRPC, transportTestRaftConfig(t))
	// The waits are bounds for a loaded machine (-race, packages in parallel).

	first := c.waitLeader(10 * time.Second)
	c.applyN(first, 1000)
	c.waitCount(1000, 30*time.Second)

	// Kill the leader; the other two elect a new one and keep committing.
	c.stop(first)
	killedLast, err := c.nodes[first].store.LastIndex()
	require.NoError(t, err)
	second := c.waitLeader(10 * time.Second)
	require.NotEqual(t, first, second)
	c.applyN(second, 500)
	c.waitCount(1500, 30*time.Second)

	// Make sure the new leader no longer has the logs the killed node misses.
	leader := c.nodes[second]
	nodetest.WaitFor(t, 30*time.Second, "the leader to compact past the killed node's log", func() bool {
		if err := leader.raft.Snapshot().Error(); err != nil && !errors.Is(err, raft.ErrNothingNewToSnapshot) {
			t.Logf("snapshot: %v", err)
		}
		firstIdx, err := leader.store.FirstIndex()
		require.NoError(t, err)
		return firstIdx > killedLast+1
	})

	// The old leader comes back lagging and must be caught up by InstallSnapshot.
	c.restart(first)
	c.waitCount(1500, 30*time.Second)
	_, restored := c.nodes[first].fsm.state()
	require.True(t, slices.ContainsFunc(restored, func(n uint64) bool { return n > 1000 }),
		"the restarted node restored %v; want a snapshot from the leader (count > 1000)", restored)

	// Still one cluster: a write through the current leader reaches all three.
	l := c.waitLeader(10 * time.Second)
	c.applyN(l, 10)
	c.waitCount(1510, 30*time.Second)
}
