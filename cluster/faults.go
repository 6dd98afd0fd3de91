package cluster

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"time"

	"cairn.dev/cairn/cluster/faultproxy"
)

// Kinds of Fault.
const (
	FaultPartition = "partition"
	FaultDelay     = "delay"
	FaultDrop      = "drop"
	FaultBandwidth = "bandwidth"
	FaultPause     = "pause"
)

// ErrNoFaultProxy is returned by the network faults of a cluster started with
// Options.NoFaultProxy.
var ErrNoFaultProxy = errors.New("cluster: the cluster runs without fault proxies (started with --no-fault-proxy)")

// Fault is one active fault, as recorded in the state file.
type Fault struct {
	// Kind is FaultPartition, FaultDelay, FaultDrop, FaultBandwidth or FaultPause.
	Kind string `json:"kind"`
	// Nodes are the nodes the fault is on: one node for every kind but partition.
	Nodes []string `json:"nodes"`
	// From is, for a partition, the nodes cut off from Nodes (resolved: never
	// empty in a recorded fault).
	From []string `json:"from,omitempty"`
	// OneWay partitions cut only what Nodes send to From.
	OneWay bool `json:"oneway,omitempty"`
	// Delay and Jitter of a delay fault, on every link to and from the node.
	Delay  time.Duration `json:"delay,omitempty"`
	Jitter time.Duration `json:"jitter,omitempty"`
	// Percent of new connections to and from the node that a drop fault resets.
	Percent float64 `json:"percent,omitempty"`
	// BytesPerSec caps each direction of each connection to and from the node.
	BytesPerSec int64 `json:"bytes_per_sec,omitempty"`
	// Since is when the fault was injected.
	Since time.Time `json:"since"`
}

func (f Fault) clone() Fault {
	f.Nodes = append([]string(nil), f.Nodes...)
	if f.From != nil {
		f.From = append([]string(nil), f.From...)
	}
	return f
}

// String describes the fault, e.g. "partition raftkv-1 <-> raftkv-2,raftkv-3".
func (f Fault) String() string {
	nodes := strings.Join(f.Nodes, ",")
	switch f.Kind {
	case FaultPartition:
		arrow := "<->"
		if f.OneWay {
			arrow = "->"
		}
		return fmt.Sprintf("partition %s %s %s", nodes, arrow, strings.Join(f.From, ","))
	case FaultDelay:
		if f.Jitter > 0 {
			return fmt.Sprintf("delay %s %v ±%v", nodes, f.Delay, f.Jitter)
		}
		return fmt.Sprintf("delay %s %v", nodes, f.Delay)
	case FaultDrop:
		return fmt.Sprintf("drop %s %g%%", nodes, f.Percent)
	case FaultBandwidth:
		return fmt.Sprintf("bandwidth %s %d B/s", nodes, f.BytesPerSec)
	default:
		return f.Kind + " " + nodes
	}
}

// on reports whether the single-node fault f is on node.
func (f Fault) on(node string) bool { return len(f.Nodes) == 1 && f.Nodes[0] == node }

// cuts reports whether partition f drops what node a sends to node b.
func (f Fault) cuts(a, b string) bool {
	if f.Kind != FaultPartition {
		return false
	}
	if slices.Contains(f.Nodes, a) && slices.Contains(f.From, b) {
		return true
	}
	return !f.OneWay && slices.Contains(f.From, a) && slices.Contains(f.Nodes, b)
}

// linkFaults computes what every proxied link of s injects, by link key, from the
// active faults. Partitions blackhole the directions they cut; on a link between
// two faulty nodes delays add up, the highest drop rate and the lowest bandwidth
// cap apply.
func linkFaults(s *State) map[string]faultproxy.Faults {
	out := map[string]faultproxy.Faults{}
	if s.Proxy == nil {
		return out
	}
	for _, l := range s.Proxy.Links {
		var lf faultproxy.Faults
		for _, f := range s.Faults {
			switch f.Kind {
			case FaultPartition:
				lf.BlackholeUp = lf.BlackholeUp || f.cuts(l.From, l.To)
				lf.BlackholeDown = lf.BlackholeDown || f.cuts(l.To, l.From)
			case FaultDelay:
				if f.on(l.From) || f.on(l.To) {
					lf.Delay += f.Delay
					lf.Jitter += f.Jitter
				}
			case FaultDrop:
				if f.on(l.From) || f.on(l.To) {
					lf.DropPercent = max(lf.DropPercent, f.Percent)
				}
			case FaultBandwidth:
				if f.on(l.From) || f.on(l.To) {
					if lf.BandwidthBytesPerSec == 0 || f.BytesPerSec < lf.BandwidthBytesPerSec {
						lf.BandwidthBytesPerSec = f.BytesPerSec
					}
				}
			}
		}
		out[l.Key()] = lf
	}
	return out
}

// paused reports whether s records node as paused.
func (s *State) paused(node string) bool {
	return slices.ContainsFunc(s.Faults, func(f Fault) bool { return f.Kind == FaultPause && f.on(node) })
}

// removeFaults drops the faults keep rejects.
func (s *State) removeFaults(drop func(Fault) bool) {
	s.Faults = slices.DeleteFunc(s.Faults, drop)
	if len(s.Faults) == 0 {
		s.Faults = nil
	}
}

// setNodeFault replaces the fault of kind on node by f, or removes it when
// remove is true.
func (s *State) setNodeFault(kind, node string, f Fault, remove bool) {
	s.removeFaults(func(g Fault) bool { return g.Kind == kind && g.on(node) })
	if !remove {
		s.Faults = append(s.Faults, f)
	}
}

// resolvePartition validates a partition request against s and returns the
// fault it records: names checked, from defaulted to the other nodes of each
// node's service.
func resolvePartition(s *State, nodes, from []string, oneway bool, now time.Time) (Fault, error) {
	if len(nodes) == 0 {
		return Fault{}, errors.New("cluster: partition: no node given")
	}
	f := Fault{Kind: FaultPartition, OneWay: oneway, Since: now}
	add := func(list []string, name string) ([]string, error) {
		if _, err := lookup(s, name); err != nil {
			return nil, err
		}
		if slices.Contains(list, name) {
			return list, nil
		}
		return append(list, name), nil
	}
	var err error
	for _, n := range nodes {
		if f.Nodes, err = add(f.Nodes, n); err != nil {
			return Fault{}, err
		}
	}
	for _, n := range from {
		if f.From, err = add(f.From, n); err != nil {
			return Fault{}, err
		}
		if slices.Contains(f.Nodes, n) {
			return Fault{}, fmt.Errorf("cluster: partition: %s is on both sides", n)
		}
	}
	if len(from) == 0 {
		for _, name := range f.Nodes {
			n, _ := s.Node(name)
			for _, other := range s.Nodes {
				if other.Service == n.Service && !slices.Contains(f.Nodes, other.Name) && !slices.Contains(f.From, other.Name) {
					f.From = append(f.From, other.Name)
				}
			}
		}
		if len(f.From) == 0 {
			return Fault{}, fmt.Errorf("cluster: partition: %s has no other node to be cut from", strings.Join(f.Nodes, ","))
		}
	}
	// Only links between nodes of one service exist.
	linked := false
	for _, a := range f.Nodes {
		na, _ := s.Node(a)
		for _, b := range f.From {
			if nb, _ := s.Node(b); nb.Service == na.Service {
				linked = true
			}
		}
	}
	if !linked {
		return Fault{}, errors.New("cluster: partition: the two sides share no link (links join nodes of one service)")
	}
	return f, nil
}

// ActiveFaults returns the faults the state file records, oldest first.
func (c *Cluster) ActiveFaults() []Fault {
	s := c.refresh()
	return s.Faults
}

// Partition cuts every link between each node in nodes and each node in from
// (both directions), or only the direction nodes -> from when oneway. from empty =
// every other node of the same service. A one-way cut of A->B blackholes the
// bytes A sends to B: the up direction of proxy(A->B) and the down direction of
// proxy(B->A). Connections stay open and lose what is sent while cut. Partitions
// add up; Heal removes them.
func (c *Cluster) Partition(nodes, from []string, oneway bool) error {
	return c.changeFaults(func(s *State) error {
		f, err := resolvePartition(s, nodes, from, oneway, time.Now().UTC())
		if err != nil {
			return err
		}
		s.Faults = append(s.Faults, f)
		return nil
	})
}

// Heal removes every network fault (partitions, delays, drops, bandwidth caps);
// paused nodes stay paused (see Resume).
func (c *Cluster) Heal() error {
	return c.changeFaults(func(s *State) error {
		s.removeFaults(func(f Fault) bool { return f.Kind != FaultPause })
		return nil
	})
}

// HealAll returns the cluster to normal: it resumes every paused node that
// still runs (SIGCONT) and removes every network fault (partitions, delays,
// drops, bandwidth caps), and returns the faults it removed, in the order they
// were injected (none: nothing was wrong). On a cluster without fault proxies
// it resumes paused nodes only. Heal, by contrast, leaves pauses as they are.
func (c *Cluster) HealAll() ([]Fault, error) {
	var removed []Fault
	err := c.update(func(s *State) error {
		var errs []error
		for _, f := range s.Faults {
			removed = append(removed, f.clone())
			if f.Kind != FaultPause {
				continue
			}
			for _, name := range f.Nodes {
				n, ok := s.Node(name)
				if !ok || !processAlive(n.PID, n.StartTicks) {
					continue
				}
				if err := signalGroup(n.PID, syscall.SIGCONT); err != nil {
					errs = append(errs, fmt.Errorf("cluster: resume %s: %w", name, err))
					continue
				}
				c.logger.Info("resumed node", "node", name, "pid", n.PID)
			}
		}
		s.Faults = nil
		if s.Proxy == nil {
			return errors.Join(errs...)
		}
		if err := s.Save(); err != nil {
			return errors.Join(append(errs, fmt.Errorf("cluster: save state: %w", err))...)
		}
		return errors.Join(append(errs, c.applyProxyFaults(s))...)
	})
	return removed, err
}

// Delay adds delay ± jitter to every chunk on every link to and from node, in
// each direction, replacing a previous delay of node; a zero delay and jitter
// removes it.
func (c *Cluster) Delay(node string, delay, jitter time.Duration) error {
	if delay < 0 || jitter < 0 {
		return fmt.Errorf("cluster: delay %v ± %v: must not be negative", delay, jitter)
	}
	return c.changeFaults(func(s *State) error {
		if _, err := lookup(s, node); err != nil {
			return err
		}
		f := Fault{Kind: FaultDelay, Nodes: []string{node}, Delay: delay, Jitter: jitter, Since: time.Now().UTC()}
		s.setNodeFault(FaultDelay, node, f, delay == 0 && jitter == 0)
		return nil
	})
}

// DropConnections resets percent (0..100) of the new connections on every link to
// and from node, replacing a previous drop rate of node; 0 removes it.
func (c *Cluster) DropConnections(node string, percent float64) error {
	if percent < 0 || percent > 100 {
		return fmt.Errorf("cluster: drop %g%%: must be within 0..100", percent)
	}
	return c.changeFaults(func(s *State) error {
		if _, err := lookup(s, node); err != nil {
			return err
		}
		f := Fault{Kind: FaultDrop, Nodes: []string{node}, Percent: percent, Since: time.Now().UTC()}
		s.setNodeFault(FaultDrop, node, f, percent == 0)
		return nil
	})
}

// Bandwidth caps each direction of each connection on every link to and from
// node at bytesPerSec, replacing a previous cap of node; 0 removes it.
func (c *Cluster) Bandwidth(node string, bytesPerSec int64) error {
	if bytesPerSec < 0 {
		return fmt.Errorf("cluster: bandwidth %d B/s: must not be negative", bytesPerSec)
	}
	return c.changeFaults(func(s *State) error {
		if _, err := lookup(s, node); err != nil {
			return err
		}
		f := Fault{Kind: FaultBandwidth, Nodes: []string{node}, BytesPerSec: bytesPerSec, Since: time.Now().UTC()}
		s.setNodeFault(FaultBandwidth, node, f, bytesPerSec == 0)
		return nil
	})
}

// changeFaults runs fn on the state under the directory lock, saves it, and makes
// the fault proxy inject what the new state says, starting the proxy process
// again if it is not running. The state file is saved before the proxy is told,
// so a proxy restarted meanwhile reads the new faults.
func (c *Cluster) changeFaults(fn func(s *State) error) error {
	return c.update(func(s *State) error {
		if s.Proxy == nil {
			return ErrNoFaultProxy
		}
		if err := fn(s); err != nil {
			return err
		}
		if err := s.Save(); err != nil {
			return fmt.Errorf("cluster: save state: %w", err)
		}
		return c.applyProxyFaults(s)
	})
}
