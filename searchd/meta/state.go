package meta

import (
	"encoding/json"
	"time"
)

// CopyState is a shard copy's state; the values are those of the proto's
// cairn.searchd.v1.CopyState.
type CopyState int32

// Copy states.
const (
	// Initializing: being built (peer recovery and catch-up); not queried.
	Initializing CopyState = 1
	// Started: caught up; queried.
	Started CopyState = 2
	// Lost: its node is down; a replacement is being placed.
	Lost CopyState = 3
)

func (s CopyState) String() string {
	switch s {
	case Initializing:
		return "INITIALIZING"
	case Started:
		return "STARTED"
	case Lost:
		return "LOST"
	}
	return "UNSPECIFIED"
}

// Copy is one copy of a shard, on one node. AllocID is the Raft index of
// the command that placed it: a node holds a copy's files under that id,
// so a copy removed and placed again on the same node starts afresh.
type Copy struct {
	Node    string    `json:"node"`
	State   CopyState `json:"state"`
	AllocID uint64    `json:"alloc_id"`
}

// Index is one index's metadata, as stored.
type Index struct {
	Name  string `json:"name"`
	UUID  string `json:"uuid"`
	Topic string `json:"topic"`
	// Shards and Replicas: shard count (fixed) and copies beyond the first.
	Shards   int `json:"shards"`
	Replicas int `json:"replicas"`
	// RefreshInterval: negative disables periodic refresh.
	RefreshInterval time.Duration   `json:"refresh_interval"`
	AnalysisJSON    json.RawMessage `json:"analysis,omitempty"`
	K1              float64         `json:"k1,omitempty"`
	B               float64         `json:"b,omitempty"`
	// MappingsJSON is the current mappings; MappingVersion starts at 1 and
	// increases with every change.
	MappingsJSON   json.RawMessage `json:"mappings,omitempty"`
	MappingVersion uint64          `json:"mapping_version"`
	CreatedUnixNs  int64           `json:"created_unix_ns"`
	// Copies holds each shard's copies (len == Shards).
	Copies [][]Copy `json:"copies"`
}

// Started returns the shard's started copies.
func (ix *Index) Started(shard int) []Copy {
	var out []Copy
	for _, c := range ix.Copies[shard] {
		if c.State == Started {
			out = append(out, c)
		}
	}
	return out
}

// CopyOn returns the shard's copy on node, if any.
func (ix *Index) CopyOn(shard int, node string) (Copy, bool) {
	for _, c := range ix.Copies[shard] {
		if c.Node == node {
			return c, true
		}
	}
	return Copy{}, false
}

// Health is green when every copy is started, yellow when every shard has
// a started copy, red otherwise.
func (ix *Index) Health() string {
	health := "green"
	for s := range ix.Copies {
		started := len(ix.Started(s))
		if started == 0 {
			return "red"
		}
		if started < 1+ix.Replicas {
			health = "yellow"
		}
	}
	return health
}

// clone deep-copies ix (the stored records are decoded afresh on every read,
// but commands modify a copy before writing).
func (ix *Index) clone() *Index {
	c := *ix
	c.Copies = make([][]Copy, len(ix.Copies))
	for i, cs := range ix.Copies {
		c.Copies[i] = append([]Copy(nil), cs...)
	}
	return &c
}
