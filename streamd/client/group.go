package client

import (
	"context"
	"errors"
	"sort"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"cairn.dev/cairn/node/clusterconn"
	streamdv1 "cairn.dev/cairn/proto/cairn/streamd/v1"
)

// GroupConfig configures a GroupConsumer.
type GroupConfig struct {
	// Group names the consumer group; Topics are the topics it reads.
	Group  string
	Topics []string
	// ClientID labels the member in DescribeGroup (default "cairn-go").
	ClientID string
	// SessionTimeout: the member is removed when the controller hears no
	// heartbeat within it (default 10 s).
	SessionTimeout time.Duration
	// Assignor must be the same for every member (default sticky).
	Assignor streamdv1.Assignor
	// StartAtLatest makes a partition the group never committed start at
	// its high watermark; by default it starts at its log start.
	StartAtLatest bool
	// MaxWait is how long a Poll waits for records (default 500 ms);
	// MaxBytes bounds each partition's fetch (default 1 MiB).
	MaxWait  time.Duration
	MaxBytes int32
}

// GroupConsumer is one member of a consumer group. Poll returns records of
// the partitions assigned to it, in offset order per partition; Commit
// records how far it got. After a rebalance (another member joined or left)
// the next Poll first commits what earlier Polls returned, then joins the
// group again and resumes every partition it is given from the group's
// committed offset — so records are delivered at least once, and none is
// skipped. Not safe for concurrent use, except Close.
type GroupConsumer struct {
	c   *Client
	cfg GroupConfig

	mu         sync.Mutex // protects the fields below (the heartbeat goroutine reads them)
	memberID   string
	generation int64
	assignment []*streamdv1.TopicPartition
	rejoin     bool

	// positions is the next offset Poll returns per partition.
	positions map[partKey]int64
	// dirty marks positions not yet committed.
	dirty map[partKey]bool

	stopHB context.CancelFunc
	hbDone chan struct{}
}

// JoinGroup joins a consumer group and returns the member, its first
// assignment taken.
func (c *Client) JoinGroup(ctx context.Context, cfg GroupConfig) (*GroupConsumer, error) {
	if cfg.Group == "" || len(cfg.Topics) == 0 {
		return nil, errs.Local("join-group", errors.New("a group consumer needs a Group and Topics"))
	}
	if cfg.SessionTimeout == 0 {
		cfg.SessionTimeout = 10 * time.Second
	}
	if cfg.MaxWait == 0 {
		cfg.MaxWait = 500 * time.Millisecond
	}
	if cfg.ClientID == "" {
		cfg.ClientID = "cairn-go"
	}
	g := &GroupConsumer{c: c, cfg: cfg, rejoin: true, positions: map[partKey]int64{}, dirty: map[partKey]bool{}}
	if err := g.join(ctx); err != nil {
		return nil, err
	}
	hctx, cancel := context.WithCancel(context.Background())
	g.stopHB, g.hbDone = cancel, make(chan struct{})
	go g.heartbeats(hctx)
	return g, nil
}

// join (re)joins the group and positions the assigned partitions.
func (g *GroupConsumer) join(ctx context.Context) error {
	c := g.c
	g.mu.Lock()
	req := &streamdv1.JoinGroupRequest{
		Group: g.cfg.Group, MemberId: g.memberID, ClientId: g.cfg.ClientID, Topics: g.cfg.Topics,
		SessionTimeout: durationpb.New(g.cfg.SessionTimeout), Assignor: g.cfg.Assignor,
	}
	g.mu.Unlock()
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 2*g.cfg.SessionTimeout+c.conn.Config().RequestTimeout)
		defer cancel()
	}
	var resp *streamdv1.JoinGroupResponse
	var b clusterconn.Backoff
	for {
		var err error
		resp, err = call(ctx, c, "join-group", true, func(ctx context.Context, co ...grpc.CallOption) (*streamdv1.JoinGroupResponse, error) {
			return c.groups.JoinGroup(ctx, req, co...)
		})
		if err == nil {
			break
		}
		if errors.Is(err, ErrRebalance) && req.MemberId != "" {
			req.MemberId = "" // our membership is gone (a new controller): join as new
			continue
		}
		if !errors.Is(err, ErrUnknownOutcome) || !b.Wait(ctx) {
			return err
		}
	}
	// Position every assigned partition at the group's committed offset.
	offs, err := call(ctx, c, "fetch-offsets", false, func(ctx context.Context, co ...grpc.CallOption) (*streamdv1.FetchOffsetsResponse, error) {
		return c.groups.FetchOffsets(ctx, &streamdv1.FetchOffsetsRequest{Group: g.cfg.Group, Partitions: resp.GetAssignment()}, co...)
	})
	if err != nil {
		return err
	}
	committed := map[partKey]int64{}
	for _, o := range offs.GetOffsets() {
		committed[partKey{o.GetTopic(), o.GetPartition()}] = o.GetOffset()
	}
	positions := map[partKey]int64{}
	for _, tp := range resp.GetAssignment() {
		k := partKey{tp.GetTopic(), tp.GetPartition()}
		if off, ok := committed[k]; ok {
			positions[k] = off
			continue
		}
		spec := streamdv1.OffsetSpec_OFFSET_SPEC_EARLIEST
		if g.cfg.StartAtLatest {
			spec = streamdv1.OffsetSpec_OFFSET_SPEC_LATEST
		}
		o, err := c.ListOffsets(ctx, tp.GetTopic(), tp.GetPartition(), spec, time.Time{})
		if err != nil {
			return err
		}
		positions[k] = o.Offset
	}
	g.mu.Lock()
	g.memberID, g.generation, g.assignment, g.rejoin = resp.GetMemberId(), resp.GetGeneration(), resp.GetAssignment(), false
	g.positions, g.dirty = positions, map[partKey]bool{}
	g.mu.Unlock()
	return nil
}

// heartbeats keeps the session alive and notes a rebalance.
func (g *GroupConsumer) heartbeats(ctx context.Context) {
	defer close(g.hbDone)
	c := g.c
	every := g.cfg.SessionTimeout / 3
	for {
		t := time.NewTimer(every)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		g.mu.Lock()
		member, gen, rejoin := g.memberID, g.generation, g.rejoin
		g.mu.Unlock()
		if rejoin {
			continue
		}
		_, err := call(ctx, c, "heartbeat", false, func(ctx context.Context, co ...grpc.CallOption) (*streamdv1.HeartbeatResponse, error) {
			return c.groups.Heartbeat(ctx, &streamdv1.HeartbeatRequest{Group: g.cfg.Group, MemberId: member, Generation: gen}, co...)
		})
		if errors.Is(err, ErrRebalance) {
			g.mu.Lock()
			if g.generation == gen {
				g.rejoin = true
			}
			g.mu.Unlock()
		}
	}
}

// Assignment is the member's current partitions.
func (g *GroupConsumer) Assignment() []*streamdv1.TopicPartition {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.assignment
}

// Generation is the group generation the member is in.
func (g *GroupConsumer) Generation() int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.generation
}

// Poll returns the next records of the assigned partitions, waiting up to
// MaxWait for some. After a rebalance it first commits and joins again.
func (g *GroupConsumer) Poll(ctx context.Context) ([]Record, error) {
	g.mu.Lock()
	rejoin := g.rejoin
	g.mu.Unlock()
	if rejoin {
		// Commit what earlier Polls returned while this generation may
		// still commit it; if it may not, those records come again.
		if err := g.Commit(ctx); err != nil && !errors.Is(err, ErrRebalance) && !errors.Is(err, ErrNotAssigned) {
			return nil, err
		}
		if err := g.join(ctx); err != nil {
			return nil, err
		}
	}
	g.mu.Lock()
	type job struct {
		k   partKey
		off int64
	}
	var jobs []job
	for k, off := range g.positions {
		jobs = append(jobs, job{k, off})
	}
	g.mu.Unlock()
	sort.Slice(jobs, func(i, j int) bool {
		if jobs[i].k.topic != jobs[j].k.topic {
			return jobs[i].k.topic < jobs[j].k.topic
		}
		return jobs[i].k.part < jobs[j].k.part
	})
	// First without waiting; if no partition has records, long-poll them
	// all and return as soon as one has (the others' polls are cancelled),
	// so an idle partition never delays a busy one.
	results := make([]*Fetched, len(jobs))
	errsOut := make([]error, len(jobs))
	fetchAll := func(ctx context.Context, wait time.Duration, cancelOnData func()) {
		var wg sync.WaitGroup
		for i, j := range jobs {
			wg.Go(func() {
				results[i], errsOut[i] = g.c.Fetch(ctx, j.k.topic, j.k.part, j.off, FetchOptions{MaxWait: wait, MaxBytes: g.cfg.MaxBytes})
				if cancelOnData != nil && errsOut[i] == nil && len(results[i].Records) > 0 {
					cancelOnData()
				}
			})
		}
		wg.Wait()
	}
	fetchAll(ctx, 0, nil)
	if !anyRecords(results) && ctx.Err() == nil {
		pctx, cancel := context.WithCancel(ctx)
		fetchAll(pctx, g.cfg.MaxWait, cancel)
		cancel()
		for i := range jobs {
			if errsOut[i] != nil && ctx.Err() == nil && (errors.Is(errsOut[i], context.Canceled) || status.Code(errsOut[i]) == codes.Canceled) {
				errsOut[i], results[i] = nil, &Fetched{NextOffset: jobs[i].off} // cancelled: nothing read
			}
		}
	}
	var out []Record
	g.mu.Lock()
	defer g.mu.Unlock()
	var firstErr error
	for i, j := range jobs {
		if err := errsOut[i]; err != nil {
			if errors.Is(err, ErrOffsetOutOfRange) {
				// Retention passed the position: start again at the log start.
				if o, lerr := g.c.ListOffsets(ctx, j.k.topic, j.k.part, streamdv1.OffsetSpec_OFFSET_SPEC_EARLIEST, time.Time{}); lerr == nil && g.positions[j.k] == j.off {
					g.positions[j.k] = o.Offset
				}
				continue
			}
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if g.positions[j.k] != j.off {
			continue // the assignment changed meanwhile
		}
		f := results[i]
		out = append(out, f.Records...)
		if f.NextOffset > j.off {
			g.positions[j.k] = f.NextOffset
			g.dirty[j.k] = true
		}
	}
	if len(out) == 0 && firstErr != nil {
		return nil, firstErr
	}
	return out, nil
}

// Commit records, for each assigned partition, the offset after the last
// record Poll returned. ErrRebalance means this generation may no longer
// commit: the next Poll joins again.
func (g *GroupConsumer) Commit(ctx context.Context) error {
	c := g.c
	g.mu.Lock()
	req := &streamdv1.CommitOffsetsRequest{Group: g.cfg.Group, MemberId: g.memberID, Generation: g.generation}
	for k := range g.dirty {
		req.Offsets = append(req.Offsets, &streamdv1.PartitionOffset{Topic: k.topic, Partition: k.part, Offset: g.positions[k]})
	}
	g.mu.Unlock()
	if len(req.Offsets) == 0 {
		return nil
	}
	_, err := call(ctx, c, "commit-offsets", false, func(ctx context.Context, co ...grpc.CallOption) (*streamdv1.CommitOffsetsResponse, error) {
		return c.groups.CommitOffsets(ctx, req, co...)
	})
	if err != nil {
		if errors.Is(err, ErrRebalance) {
			g.mu.Lock()
			g.rejoin = true
			g.mu.Unlock()
		}
		return err
	}
	g.mu.Lock()
	for _, o := range req.Offsets {
		k := partKey{o.GetTopic(), o.GetPartition()}
		if g.positions[k] == o.GetOffset() {
			delete(g.dirty, k)
		}
	}
	g.mu.Unlock()
	return nil
}

// Close stops the heartbeats and leaves the group, so the others rebalance
// at once. It does not commit.
func (g *GroupConsumer) Close(ctx context.Context) error {
	g.stopHB()
	<-g.hbDone
	c := g.c
	g.mu.Lock()
	member := g.memberID
	g.mu.Unlock()
	_, err := call(ctx, c, "leave-group", false, func(ctx context.Context, co ...grpc.CallOption) (*streamdv1.LeaveGroupResponse, error) {
		return c.groups.LeaveGroup(ctx, &streamdv1.LeaveGroupRequest{Group: g.cfg.Group, MemberId: member}, co...)
	})
	if errors.Is(err, ErrRebalance) {
		return nil
	}
	return err
}

// ListGroups lists the consumer groups.
func (c *Client) ListGroups(ctx context.Context) ([]*streamdv1.GroupSummary, error) {
	resp, err := call(ctx, c, "list-groups", false, func(ctx context.Context, co ...grpc.CallOption) (*streamdv1.ListGroupsResponse, error) {
		return c.groups.ListGroups(ctx, &streamdv1.ListGroupsRequest{}, co...)
	})
	return resp.GetGroups(), err
}

// DescribeGroup returns a group's members, assignment, offsets and lag.
func (c *Client) DescribeGroup(ctx context.Context, group string) (*streamdv1.DescribeGroupResponse, error) {
	return call(ctx, c, "describe-group", false, func(ctx context.Context, co ...grpc.CallOption) (*streamdv1.DescribeGroupResponse, error) {
		return c.groups.DescribeGroup(ctx, &streamdv1.DescribeGroupRequest{Group: group}, co...)
	})
}

// CommitOffsets commits offsets for a group without members (a standalone
// consumer that tracks its own partitions).
func (c *Client) CommitOffsets(ctx context.Context, group string, offsets []*streamdv1.PartitionOffset) error {
	_, err := call(ctx, c, "commit-offsets", false, func(ctx context.Context, co ...grpc.CallOption) (*streamdv1.CommitOffsetsResponse, error) {
		return c.groups.CommitOffsets(ctx, &streamdv1.CommitOffsetsRequest{Group: group, Offsets: offsets}, co...)
	})
	return err
}

// CommitUpTo commits, for each partition of recs (records Poll returned),
// the offset after the last of them: a reader that processed only part of
// a Poll commits only that part, and the rest comes to the group again.
func (g *GroupConsumer) CommitUpTo(ctx context.Context, recs []Record) error {
	next := map[partKey]int64{}
	for _, r := range recs {
		k := partKey{r.Topic, r.Partition}
		next[k] = max(next[k], r.Offset+1)
	}
	if len(next) == 0 {
		return nil
	}
	c := g.c
	g.mu.Lock()
	req := &streamdv1.CommitOffsetsRequest{Group: g.cfg.Group, MemberId: g.memberID, Generation: g.generation}
	g.mu.Unlock()
	for k, off := range next {
		req.Offsets = append(req.Offsets, &streamdv1.PartitionOffset{Topic: k.topic, Partition: k.part, Offset: off})
	}
	_, err := call(ctx, c, "commit-offsets", false, func(ctx context.Context, co ...grpc.CallOption) (*streamdv1.CommitOffsetsResponse, error) {
		return c.groups.CommitOffsets(ctx, req, co...)
	})
	return err
}

// anyRecords reports whether a fetch in results returned records.
func anyRecords(results []*Fetched) bool {
	for _, f := range results {
		if f != nil && len(f.Records) > 0 {
			return true
		}
	}
	return false
}
