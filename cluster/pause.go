package cluster

import (
	"fmt"
	"os"
	"syscall"
	"time"
)

// Pause freezes a running node: SIGSTOP to its process group. The state file
// records it paused (a FaultPause), Status reports it paused without probing it,
// and WaitReady and Leader leave it out. Kill, Stop, Restart and Down work on a
// paused node and end the pause. Pausing a paused node does nothing.
func (c *Cluster) Pause(name string) error {
	return c.update(func(s *State) error {
		n, err := lookup(s, name)
		if err != nil {
			return err
		}
		if !processAlive(n.PID, n.StartTicks) {
			return fmt.Errorf("%w: %s", ErrNotRunning, name)
		}
		if s.paused(name) {
			return nil
		}
		if err := signalGroup(n.PID, syscall.SIGSTOP); err != nil {
			return err
		}
		s.Faults = append(s.Faults, Fault{Kind: FaultPause, Nodes: []string{name}, Since: time.Now().UTC()})
		c.logger.Info("paused node", "node", name, "pid", n.PID)
		return nil
	})
}

// Resume continues a paused node: SIGCONT to its process group. Resuming a node
// that is not paused sends SIGCONT all the same (harmless) and succeeds; callers
// that must tell the two apart ask Paused first.
func (c *Cluster) Resume(name string) error {
	return c.update(func(s *State) error {
		n, err := lookup(s, name)
		if err != nil {
			return err
		}
		s.removeFaults(func(f Fault) bool { return f.Kind == FaultPause && f.on(name) })
		if !processAlive(n.PID, n.StartTicks) {
			return fmt.Errorf("%w: %s", ErrNotRunning, name)
		}
		if err := signalGroup(n.PID, syscall.SIGCONT); err != nil {
			return err
		}
		c.logger.Info("resumed node", "node", name, "pid", n.PID)
		return nil
	})
}

// Paused reports whether the node name is paused (recorded so by Pause and not
// resumed since).
func (c *Cluster) Paused(name string) (bool, error) {
	s := c.refresh()
	if _, err := lookup(&s, name); err != nil {
		return false, err
	}
	return s.paused(name), nil
}

// Wipe deletes the data directory of a stopped node (it returns
// ErrAlreadyRunning for a running one) and leaves it empty. Until the directory
// holds data again, Start and Restart run the node with its service's JoinArgs:
// a raftkv node gets an empty --peers and waits to be added to the existing
// group (MemberAdd) instead of founding a new one.
func (c *Cluster) Wipe(name string) error {
	return c.update(func(s *State) error {
		n, err := lookup(s, name)
		if err != nil {
			return err
		}
		if processAlive(n.PID, n.StartTicks) {
			return fmt.Errorf("%w: %s (pid %d); stop it before wiping it", ErrAlreadyRunning, name, n.PID)
		}
		if err := os.RemoveAll(n.DataDir); err != nil {
			return fmt.Errorf("cluster: wipe %s: %w", name, err)
		}
		if err := os.MkdirAll(n.DataDir, 0o755); err != nil {
			return fmt.Errorf("cluster: wipe %s: %w", name, err)
		}
		n.PID, n.StartTicks = 0, 0
		n.Wiped = true
		c.logger.Info("wiped node", "node", name, "data", n.DataDir)
		return nil
	})
}
