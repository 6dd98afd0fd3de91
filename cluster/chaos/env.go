package chaos

import (
	"crypto/tls"
	"log/slog"
	"math/rand/v2"
	"sort"
	"time"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"cairn.dev/cairn/cluster"
	"cairn.dev/cairn/cluster/faultproxy"
)

// Env is what the workloads, the nemesis and the checkers of one run share. Its
// fields are set by Run before any of them starts and not changed afterwards
// (the Cluster handle is safe for concurrent use).
type Env struct {
	// Cluster is the running cluster.
	Cluster *cluster.Cluster
	// Service is the replicated service under test (Scenario.Service).
	Service string
	// Seed is the run's seed; Rand derives every random stream from it.
	Seed uint64
	// Logger receives the run's log.
	Logger *slog.Logger
	// History holds every operation of every workload.
	History *History
	// Timeline holds every fault the nemesis injected.
	Timeline *Timeline
	// Dir is the run directory.
	Dir string
	// Phase is the length of the fault phase.
	Phase time.Duration
	// TLS is the client TLS configuration of the cluster (its CA and client
	// certificate); nil when the cluster runs plaintext.
	TLS *tls.Config

	vias    map[string]string            // node name -> address clients use to reach it
	proxies map[string]*faultproxy.Proxy // node name -> its client proxy, if any
}

// ClientProxy returns the in-process client proxy in front of node, nil when the
// scenario has none. Set faults on it to cut or slow that node's clients.
func (e *Env) ClientProxy(node string) *faultproxy.Proxy { return e.proxies[node] }

// Rand returns the random stream number stream of the run: the same seed and
// stream give the same sequence.
func (e *Env) Rand(stream uint64) *rand.Rand { return rand.New(rand.NewPCG(e.Seed, stream)) }

// Now returns the time since the start of the run.
func (e *Env) Now() time.Duration { return e.History.Now() }

// Nodes returns the names of the nodes of the service under test, sorted.
func (e *Env) Nodes() []string {
	var out []string
	for _, n := range e.Cluster.State().Nodes {
		if n.Service == e.Service {
			out = append(out, n.Name)
		}
	}
	sort.Strings(out)
	return out
}

// Endpoints returns the gRPC addresses of every node of the service.
func (e *Env) Endpoints() []string { return e.Cluster.State().Endpoints(e.Service) }

// Via returns the address a client pinned to node should dial: the in-process
// client proxy in front of it when the scenario asked for client proxies, else
// the node's own gRPC address.
func (e *Env) Via(node string) string {
	if a, ok := e.vias[node]; ok {
		return a
	}
	if n, ok := e.Node(node); ok {
		return n.GRPCAddr
	}
	return ""
}

// Node returns the recorded state of node name (any service), and whether
// there is such a node.
func (e *Env) Node(name string) (cluster.NodeState, bool) {
	st := e.Cluster.State()
	if n, ok := st.Node(name); ok {
		return *n, true
	}
	return cluster.NodeState{}, false
}

// TransportCredentials returns the gRPC transport credentials for raw
// connections to the cluster's nodes: TLS with e.TLS, or plaintext.
func (e *Env) TransportCredentials() credentials.TransportCredentials {
	if e.TLS == nil {
		return insecure.NewCredentials()
	}
	return credentials.NewTLS(e.TLS)
}
