package chaos

import (
	"encoding/json"
	"sync"
	"time"
)

// FaultRecord is what the nemesis did for one step: the nodes the step's target
// resolved to, when the fault began and when it was healed (the node restarted,
// resumed, the network healed), and when the cluster was ready again. Times are
// offsets from the start of the run, on the clock of the History.
type FaultRecord struct {
	Step   int    `json:"step"`
	Fault  Fault  `json:"fault"`
	Target Target `json:"target"`
	Params Params `json:"params"`
	// Nodes are the nodes the fault hit, as resolved when it ran.
	Nodes []string `json:"nodes"`
	// Leader is the leader when the step ran, if known.
	Leader string `json:"leader,omitempty"`
	// Start is when the fault was injected; End when it was healed, -1 if it
	// never was; Ready when the cluster was ready again, -1 if it never was.
	Start time.Duration `json:"start"`
	End   time.Duration `json:"end"`
	Ready time.Duration `json:"ready"`
	// Note says what happened, e.g. whether a failpoint fired.
	Note string `json:"note,omitempty"`
	// Err is why the step could not be carried out, if it could not.
	Err string `json:"err,omitempty"`
}

// MarshalJSON writes durations as strings.
func (r FaultRecord) MarshalJSON() ([]byte, error) {
	type view struct {
		Step   int      `json:"step"`
		Fault  Fault    `json:"fault"`
		Target Target   `json:"target"`
		Params Params   `json:"params"`
		Nodes  []string `json:"nodes"`
		Leader string   `json:"leader,omitempty"`
		Start  string   `json:"start"`
		End    string   `json:"end"`
		Ready  string   `json:"ready"`
		Note   string   `json:"note,omitempty"`
		Err    string   `json:"err,omitempty"`
	}
	str := func(d time.Duration) string {
		if d < 0 {
			return "never"
		}
		return d.String()
	}
	return json.Marshal(view{r.Step, r.Fault, r.Target, r.Params, r.Nodes, r.Leader,
		str(r.Start), str(r.End), str(r.Ready), r.Note, r.Err})
}

// Timeline is the list of faults a run injected. It is safe for concurrent use.
type Timeline struct {
	mu      sync.Mutex // protects records
	records []FaultRecord
}

// add appends r and returns its index.
func (t *Timeline) add(r FaultRecord) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.records = append(t.records, r)
	return len(t.records) - 1
}

// update changes record i under the lock.
func (t *Timeline) update(i int, fn func(*FaultRecord)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fn(&t.records[i])
}

// Records returns a copy of the records.
func (t *Timeline) Records() []FaultRecord {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]FaultRecord(nil), t.records...)
}
