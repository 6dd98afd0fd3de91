package meta

import (
	"slices"
	"strconv"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"cairn.dev/cairn/node/rpcerr"
	streamdraftv1 "cairn.dev/cairn/proto/cairn/streamd/raft/v1"
)

// MaxNodeIDLen bounds a node id, in bytes.
const MaxNodeIDLen = 128

// ValidateNodeID checks a node id: 1 to MaxNodeIDLen bytes of printable
// UTF-8. Its errors wrap ErrInvalidArgument with field "id".
func ValidateNodeID(id string) error {
	if id == "" {
		return invalid("id", "must not be empty")
	}
	if len(id) > MaxNodeIDLen {
		return rpcerr.WithMetadata(invalid("id", "is %d bytes, at most %d are allowed", len(id), MaxNodeIDLen),
			rpcerr.KeyLimit, strconv.Itoa(MaxNodeIDLen))
	}
	if !utf8.ValidString(id) {
		return invalid("id", "is not valid UTF-8")
	}
	for i, r := range id {
		if r < 0x20 || r == 0x7f {
			return invalid("id", "has a control character at %d", i)
		}
	}
	return nil
}

// registerNode adds a node (unfenced) or updates a known node's address; a
// known node registering with a new incarnation (it restarted) is fenced in
// the same entry.
func (a *applier) registerNode(op *streamdraftv1.RegisterNodeOp) (*streamdraftv1.NodeResult, error) {
	if err := ValidateNodeID(op.GetId()); err != nil {
		return nil, failureOf(err)
	}
	if op.GetAddr() == "" {
		return nil, fail(rpcerr.InvalidArgument, "addr must not be empty").with(rpcerr.KeyField, "addr")
	}
	n, err := getNode(a.tx, op.GetId())
	if err != nil {
		return nil, err
	}
	if n != nil {
		restarted := op.GetIncarnation() != 0 && n.Incarnation != op.GetIncarnation()
		if n.Addr != op.GetAddr() || restarted {
			n.Addr = op.GetAddr()
			if op.GetIncarnation() != 0 {
				n.Incarnation = op.GetIncarnation()
			}
			if err := a.put(bucketNodes, []byte(n.Id), n); err != nil {
				return nil, err
			}
		}
		if restarted {
			// A restarted node leads nothing in its old epochs and leaves
			// the ISRs it shares, until it is ready and caught up.
			return a.setFenced(n.Id, true)
		}
		return &streamdraftv1.NodeResult{Node: n}, nil
	}
	n = &streamdraftv1.NodeRecord{Id: op.GetId(), Addr: op.GetAddr(), RegisteredIndex: a.index, Incarnation: op.GetIncarnation()}
	if err := a.put(bucketNodes, []byte(n.Id), n); err != nil {
		return nil, err
	}
	return &streamdraftv1.NodeResult{Node: n, Created: true}, nil
}

// setFenced fences or unfences a node and repairs every partition: fencing
// takes the node out of every ISR with another member and moves the
// leadership of the partitions it leads; unfencing gives it the leadership
// of the offline partitions whose ISR holds it. Idempotent.
func (a *applier) setFenced(id string, fenced bool) (*streamdraftv1.NodeResult, error) {
	n, err := getNode(a.tx, id)
	if err != nil {
		return nil, err
	}
	if n == nil {
		return nil, fail(rpcerr.UnknownMember, "node %q is not registered", id).with(rpcerr.KeyField, "id")
	}
	if n.Fenced != fenced {
		n.Fenced = fenced
		if err := a.put(bucketNodes, []byte(n.Id), n); err != nil {
			return nil, err
		}
	}
	nodes, err := a.nodes()
	if err != nil {
		return nil, err
	}
	res := &streamdraftv1.NodeResult{Node: n}
	err = a.eachPartition(func(p *streamdraftv1.PartitionRecord) {
		if fenced && len(p.Isr) > 1 {
			p.Isr = slices.DeleteFunc(p.Isr, func(r string) bool { return r == id })
		}
		if p.Leader == "" || nodes[p.Leader].GetFenced() {
			setLeader(p, electLeader(p, nodes))
		}
	}, &res.Changed)
	return res, err
}

// nodes returns every registered node by id.
func (a *applier) nodes() (map[string]*streamdraftv1.NodeRecord, error) {
	out := map[string]*streamdraftv1.NodeRecord{}
	err := a.tx.Bucket(bucketNodes).ForEach(func(k, v []byte) error {
		n, err := unmarshal("node", k, v, &streamdraftv1.NodeRecord{})
		out[string(k)] = n
		return err
	})
	return out, err
}

// unfencedNodes returns the ids of the unfenced nodes sorted, and the count
// of all registered nodes.
func (a *applier) unfencedNodes() (ids []string, registered int, err error) {
	err = a.tx.Bucket(bucketNodes).ForEach(func(k, v []byte) error {
		n, err := unmarshal("node", k, v, &streamdraftv1.NodeRecord{})
		if err != nil {
			return err
		}
		registered++
		if !n.Fenced {
			ids = append(ids, n.Id)
		}
		return nil
	})
	return ids, registered, err // bbolt iterates keys in order: ids are sorted
}

// eachPartition calls fn with every partition of every topic (topic id and
// partition order); fn changes p in place. A partition fn changed (its leader
// or ISR) gets partition_epoch+1, is written, and appended to changed.
func (a *applier) eachPartition(fn func(p *streamdraftv1.PartitionRecord), changed *[]*streamdraftv1.PartitionRecord) error {
	var parts []*streamdraftv1.PartitionRecord
	err := a.tx.Bucket(bucketPartitions).ForEach(func(k, v []byte) error {
		p, err := unmarshal("partition", k, v, &streamdraftv1.PartitionRecord{})
		parts = append(parts, p)
		return err
	})
	if err != nil {
		return err
	}
	for _, p := range parts {
		before := proto.Clone(p).(*streamdraftv1.PartitionRecord)
		fn(p)
		if err := a.savePartition(before, p, changed); err != nil {
			return err
		}
	}
	return nil
}

// savePartition writes p when it differs from before, with partition_epoch
// one past before's, and appends it to changed.
func (a *applier) savePartition(before, p *streamdraftv1.PartitionRecord, changed *[]*streamdraftv1.PartitionRecord) error {
	if proto.Equal(before, p) {
		return nil
	}
	p.PartitionEpoch = before.PartitionEpoch + 1
	if err := a.put(bucketPartitions, partitionKey(p.TopicId, p.Partition), p); err != nil {
		return err
	}
	if changed != nil {
		*changed = append(*changed, p)
	}
	return nil
}

// electLeader returns the first replica (in replica order) that is in the
// ISR and registered and unfenced, or "" when there is none.
func electLeader(p *streamdraftv1.PartitionRecord, nodes map[string]*streamdraftv1.NodeRecord) string {
	for _, r := range p.Replicas {
		if n := nodes[r]; n != nil && !n.Fenced && slices.Contains(p.Isr, r) {
			return r
		}
	}
	return ""
}

// setLeader makes leader the partition's leader, with a new leader epoch
// when it changes.
func setLeader(p *streamdraftv1.PartitionRecord, leader string) {
	if p.Leader != leader {
		p.Leader = leader
		p.LeaderEpoch++
	}
}

// place returns the replicas of partition p of a topic: replication
// consecutive nodes of the sorted unfenced nodes, starting at
// (p + topicID) mod len(nodes), so that the first replicas (the preferred
// leaders) of a topic's partitions go round the nodes.
func place(nodes []string, topicID uint64, p int32, replication int32) []string {
	n := uint64(len(nodes))
	start := (uint64(p) + topicID%n) % n
	out := make([]string, replication)
	for k := range out {
		out[k] = nodes[(start+uint64(k))%n]
	}
	return out
}

// checkNodes reports whether replication nodes can be placed: more than the
// registered nodes is ErrInvalidArgument, more than the unfenced ones
// ErrNotEnoughNodes; both name the field "replication" and the limit.
func checkNodes(replication int32, unfenced []string, registered int) error {
	if int(replication) > registered {
		return fail(rpcerr.InvalidArgument, "replication is %d, there are %d registered nodes", replication, registered).
			with(rpcerr.KeyField, "replication", rpcerr.KeyLimit, strconv.Itoa(registered))
	}
	if int(replication) > len(unfenced) {
		return fail(rpcerr.NotEnoughReplicas, "replication is %d, %d of the %d registered nodes are unfenced", replication, len(unfenced), registered).
			with(rpcerr.KeyField, "replication", rpcerr.KeyLimit, strconv.Itoa(len(unfenced)))
	}
	return nil
}
