package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// StateFileName is the name of the state file inside a cluster directory.
const StateFileName = "cluster.json"

// DefaultDir is the cluster directory used when neither --cluster-dir nor
// CAIRN_CLUSTER_DIR is set.
const DefaultDir = ".cairn"

// EnvDir names the environment variable that moves the cluster directory.
const EnvDir = "CAIRN_CLUSTER_DIR"

// ErrNoCluster is returned when a cluster directory has no state file.
var ErrNoCluster = errors.New("cluster: no cluster found")

// State is the content of the state file: what every client command reads to find
// the cluster. It is written by the harness whenever a node starts or stops.
type State struct {
	// Dir is the cluster directory (absolute).
	Dir       string      `json:"dir"`
	BasePort  int         `json:"base_port"`
	StartedAt time.Time   `json:"started_at"`
	Nodes     []NodeState `json:"nodes"`
	// Proxy is the fault proxy process, nil when the cluster runs without one
	// (Options.NoFaultProxy).
	Proxy *ProxyState `json:"proxy,omitempty"`
	// Faults are the active faults, oldest first: network faults the proxy
	// injects and paused nodes. The proxy derives every link's faults from them.
	Faults []Fault `json:"faults,omitempty"`
	// TLS is how clients reach the nodes (mutual TLS); nil means plaintext.
	TLS *TLSState `json:"tls,omitempty"`
	// AccessKey is how AWS clients authenticate to the SQS API of queued
	// and the S3 API of blobd; nil when the cluster runs neither.
	AccessKey *AccessKeyState `json:"access_key,omitempty"`
	// SQS is AccessKey as state files written before blobd named it;
	// LoadState moves it to AccessKey.
	SQS *AccessKeyState `json:"sqs,omitempty"`
}

// ProxyState describes the fault proxy process (`cairn cluster proxyd`): one
// faultproxy per directed link between nodes of a service, and an HTTP control API.
type ProxyState struct {
	// PID is the process id, 0 when it is not running.
	PID        int    `json:"pid"`
	StartTicks uint64 `json:"start_ticks,omitempty"`
	// ControlAddr is where its HTTP control API listens.
	ControlAddr string   `json:"control_addr"`
	LogFile     string   `json:"log_file"`
	Binary      string   `json:"binary"`
	Args        []string `json:"args"`
	// Seed seeds the random choices of every link (drops, jitter).
	Seed uint64 `json:"seed"`
	// Links are the proxied links, in layout order.
	Links []Link `json:"links"`
}

// Link is one directed peer link: the dials node From makes to node To go to
// Listen, where a fault proxy forwards them to Target (To's gRPC address). Bytes
// From sends travel "up", bytes To answers travel "down".
type Link struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Listen string `json:"listen"`
	Target string `json:"target"`
}

// Key names the link in the control API: "<from>><to>".
func (l Link) Key() string { return l.From + ">" + l.To }

// NodeState describes one node process.
type NodeState struct {
	// Name is "<service>-<n>", e.g. "raftkv-1".
	Name    string `json:"name"`
	Service string `json:"service"`
	// PID is the process id, 0 when the node is stopped.
	PID       int    `json:"pid"`
	GRPCAddr  string `json:"grpc_addr"`
	AdminAddr string `json:"admin_addr"`
	// Ports holds the addresses of the service's extra ports by name (cached's
	// "resp").
	Ports   map[string]string `json:"ports,omitempty"`
	DataDir string            `json:"data_dir"`
	LogFile string            `json:"log_file"`
	// Binary is the executable the node runs (the cairn binary).
	Binary string `json:"binary,omitempty"`
	// Args are the arguments the node was started with (after the binary).
	Args []string `json:"args"`
	// Wiped is set by Wipe: until the data directory holds data again, the node
	// starts without its initial peers, to join the existing group.
	Wiped bool `json:"wiped,omitempty"`
	// StartTicks is the process start time (/proc/<pid>/stat field 22) recorded
	// with PID, so that a recycled pid is not mistaken for the node. 0 if unknown.
	StartTicks uint64 `json:"start_ticks,omitempty"`
}

// ResolveDir returns the cluster directory: flagValue if set, else $CAIRN_CLUSTER_DIR,
// else DefaultDir, made absolute.
func ResolveDir(flagValue string) (string, error) {
	dir := flagValue
	if dir == "" {
		dir = os.Getenv(EnvDir)
	}
	if dir == "" {
		dir = DefaultDir
	}
	return filepath.Abs(dir)
}

// LoadState reads the state file in dir. It returns ErrNoCluster when there is none.
func LoadState(dir string) (*State, error) {
	b, err := os.ReadFile(filepath.Join(dir, StateFileName))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: no state file in %s (start one with 'cairn cluster up')", ErrNoCluster, dir)
	}
	if err != nil {
		return nil, err
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("cluster: parse %s: %w", filepath.Join(dir, StateFileName), err)
	}
	if s.AccessKey == nil {
		s.AccessKey = s.SQS
	}
	s.SQS = nil
	return &s, nil
}

// Save writes the state file atomically (write to a temporary file, fsync, rename).
func (s *State) Save() error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(s.Dir, ".cluster-*.json")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(s.Dir, StateFileName))
}

// Node returns the node with the given name.
func (s *State) Node(name string) (*NodeState, bool) {
	for i := range s.Nodes {
		if s.Nodes[i].Name == name {
			return &s.Nodes[i], true
		}
	}
	return nil, false
}

// clone returns a deep copy of s.
func (s *State) clone() State {
	c := *s
	c.Nodes = make([]NodeState, len(s.Nodes))
	for i, n := range s.Nodes {
		n.Args = append([]string(nil), n.Args...)
		c.Nodes[i] = n
	}
	if s.Proxy != nil {
		p := *s.Proxy
		p.Args = append([]string(nil), p.Args...)
		p.Links = append([]Link(nil), p.Links...)
		c.Proxy = &p
	}
	if s.TLS != nil {
		t := *s.TLS
		c.TLS = &t
	}
	c.Faults = make([]Fault, len(s.Faults))
	for i, f := range s.Faults {
		c.Faults[i] = f.clone()
	}
	if s.Faults == nil {
		c.Faults = nil
	}
	return c
}

// Endpoints returns the gRPC addresses of every node of a service, in name order.
func (s State) Endpoints(service string) []string {
	var out []string
	for _, n := range s.Nodes {
		if n.Service == service {
			out = append(out, n.GRPCAddr)
		}
	}
	return out
}
