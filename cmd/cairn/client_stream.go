package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/durationpb"

	streamdv1 "cairn.dev/cairn/proto/cairn/streamd/v1"
	"cairn.dev/cairn/streamd/client"
)

// newStreamCmd is `cairn stream`: topics, records and consumer groups of
// streamd from the command line.
func newStreamCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "stream",
		Short: "Create topics, produce and consume records, inspect consumer groups of streamd",
		Long: `Drive streamd, cairn's partitioned, replicated log. A topic's partitions are
ordered logs replicated to --replication nodes; a record produced with
--acks all is acknowledged once every in-sync replica has fsynced it.

  cairn stream topic create orders --partitions 6 --replication 3
  cairn stream produce orders --key user-1 --acks all 'O1'
  seq 1 1000 | cairn stream produce orders --acks all
  cairn stream consume orders --group analytics --from-beginning --max 1001 --output json
  cairn stream topic describe orders --output json
  cairn stream groups describe analytics

` + clientFlagsHelp("streamd"),
		Args: cobra.NoArgs,
	}
	g := addClientFlags(cmd, "streamd")
	topic := &cobra.Command{Use: "topic", Short: "Create, list, describe and delete topics", Args: cobra.NoArgs}
	topic.AddCommand(newStreamTopicCreateCmd(g), newStreamTopicListCmd(g), newStreamTopicDescribeCmd(g), newStreamTopicDeleteCmd(g), newStreamTopicAddPartitionsCmd(g))
	groups := &cobra.Command{Use: "groups", Short: "List and describe consumer groups", Args: cobra.NoArgs}
	groups.AddCommand(newStreamGroupsListCmd(g), newStreamGroupsDescribeCmd(g))
	cmd.AddCommand(topic, newStreamProduceCmd(g), newStreamConsumeCmd(g), groups)
	return cmd
}

// dialStreamd returns a streamd client for the cluster's endpoints.
func (g *clientFlags) dialStreamd() (*client.Client, error) {
	eps, tc, err := g.target()
	if err != nil {
		return nil, err
	}
	c, err := client.New(client.Config{Endpoints: eps, RequestTimeout: g.timeout, TLS: tc})
	if err != nil {
		return nil, usageErrorf("--endpoints: %w", err)
	}
	return c, nil
}

func runStream(g *clientFlags, cmd *cobra.Command, f func(ctx context.Context, c *client.Client, w io.Writer) error) error {
	return runWith(g, cmd, g.dialStreamd, f)
}

func newStreamTopicCreateCmd(g *clientFlags) *cobra.Command {
	var (
		partitions, replication, minISR int32
		retention, segmentAge           time.Duration
		retentionBytes, segmentBytes    int64
		compact                         bool
	)
	cmd := &cobra.Command{
		Use:   "create <topic>",
		Short: "Create a topic (creating an identical one again succeeds)",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg := &streamdv1.TopicConfig{RetentionBytes: retentionBytes, SegmentBytes: segmentBytes, MinInsyncReplicas: minISR}
			if cmd.Flags().Changed("retention") {
				cfg.Retention = durationpb.New(retention)
			}
			if cmd.Flags().Changed("segment-age") {
				cfg.SegmentAge = durationpb.New(segmentAge)
			}
			if compact {
				cfg.CleanupPolicy = streamdv1.CleanupPolicy_CLEANUP_POLICY_COMPACT
			}
			return runStream(g, cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				resp, err := c.CreateTopic(ctx, &streamdv1.CreateTopicRequest{Name: args[0], Partitions: partitions, Replication: replication, Config: cfg})
				if err != nil {
					return queuedError("", err)
				}
				return g.printer(cmd).print(resp, func(w io.Writer) error {
					verb := "created"
					if !resp.GetCreated() {
						verb = "exists"
					}
					t := resp.GetTopic()
					_, err := fmt.Fprintf(w, "%s topic %s: %d partitions, replication %d\n", verb, t.GetName(), len(t.GetPartitions()), t.GetReplication())
					return err
				})
			})
		},
	}
	fl := cmd.Flags()
	fl.Int32Var(&partitions, "partitions", 1, "number of partitions")
	fl.Int32Var(&replication, "replication", 0, "replicas per partition (default min(3, nodes))")
	fl.Int32Var(&minISR, "min-insync", 0, "in-sync replicas an --acks all produce needs (default min(2, replication))")
	fl.DurationVar(&retention, "retention", 0, "delete records older than this (default 7 days; negative: forever)")
	fl.Int64Var(&retentionBytes, "retention-bytes", 0, "delete the oldest segments past this size per partition (0: no limit)")
	fl.Int64Var(&segmentBytes, "segment-bytes", 0, "roll segments past this size (default 128 MiB)")
	fl.DurationVar(&segmentAge, "segment-age", 0, "roll segments this old (default 7 days)")
	fl.BoolVar(&compact, "compact", false, "keep only the latest record per key (key compaction)")
	return cmd
}

func newStreamTopicListCmd(g *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List topics",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runStream(g, cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				topics, err := c.ListTopics(ctx)
				if err != nil {
					return err
				}
				p := g.printer(cmd)
				if p.json {
					for _, t := range topics {
						if err := p.print(t, nil); err != nil {
							return err
						}
					}
					return nil
				}
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "TOPIC\tPARTITIONS\tREPLICATION\tRETENTION")
				for _, t := range topics {
					fmt.Fprintf(tw, "%s\t%d\t%d\t%v\n", t.GetName(), len(t.GetPartitions()), t.GetReplication(), t.GetConfig().GetRetention().AsDuration())
				}
				return tw.Flush()
			})
		},
	}
}

func newStreamTopicDescribeCmd(g *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "describe <topic>",
		Short: "Show a topic's partitions: leader, epoch, ISR, offsets",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runStream(g, cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				t, err := c.DescribeTopic(ctx, args[0])
				if err != nil {
					return err
				}
				return g.printer(cmd).print(t, func(w io.Writer) error {
					fmt.Fprintf(w, "topic %s  id=%d  replication=%d  retention=%v  min_insync=%d\n", t.GetName(), t.GetId(), t.GetReplication(), t.GetConfig().GetRetention().AsDuration(), t.GetConfig().GetMinInsyncReplicas())
					tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
					fmt.Fprintln(tw, "PARTITION\tLEADER\tEPOCH\tREPLICAS\tISR\tSTART\tHIGH-WATERMARK\tEND")
					for _, p := range t.GetPartitions() {
						leader := p.GetLeader()
						if leader == "" {
							leader = "(offline)"
						}
						offs := "?\t?\t?"
						if p.GetOffsetsKnown() {
							offs = fmt.Sprintf("%d\t%d\t%d", p.GetLogStartOffset(), p.GetHighWatermark(), p.GetLogEndOffset())
						}
						fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\t%s\n", p.GetPartition(), leader, p.GetLeaderEpoch(), strings.Join(p.GetReplicas(), ","), strings.Join(p.GetIsr(), ","), offs)
					}
					return tw.Flush()
				})
			})
		},
	}
}

func newStreamTopicDeleteCmd(g *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "delete <topic>",
		Short: "Delete a topic and its records",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runStream(g, cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				if err := c.DeleteTopic(ctx, args[0]); err != nil {
					return err
				}
				_, err := fmt.Fprintf(w, "deleted topic %s\n", args[0])
				return err
			})
		},
	}
}

func newStreamTopicAddPartitionsCmd(g *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "add-partitions <topic> <total>",
		Short: "Raise a topic's partition count to <total>",
		Args:  usageArgs(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			var total int32
			if _, err := fmt.Sscan(args[1], &total); err != nil {
				return usageErrorf("<total>: want a number, got %q", args[1])
			}
			return runStream(g, cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				t, err := c.AddPartitions(ctx, args[0], total)
				if err != nil {
					return queuedError("", err)
				}
				_, err = fmt.Fprintf(w, "topic %s now has %d partitions\n", t.GetName(), len(t.GetPartitions()))
				return err
			})
		},
	}
}

// produceView is one produced record's place, as printed.
type produceView struct {
	Partition int32 `json:"partition"`
	Offset    int64 `json:"offset"`
	Duplicate bool  `json:"duplicate,omitempty"`
}

func newStreamProduceCmd(g *clientFlags) *cobra.Command {
	var (
		key       string
		acks      string
		partition int32
		expect    int64
		batch     int
	)
	cmd := &cobra.Command{
		Use:   "produce <topic> [value]",
		Short: "Append a record (or one per line of stdin) and print its partition and offset",
		Long: `Append the value given, or, without one, each line of stdin as its own record
(sent in batches of --batch lines). Records with a --key go to the key's
partition; keyless ones are spread over the partitions. Prints "partition
offset" for each batch's records (with --output json, one object per record).

--expect-offset makes the append conditional, for event sourcing: it
succeeds only if the partition's end offset is that number (needs
--partition); otherwise it fails, naming the current end.`,
		Args: usageArgs(cobra.RangeArgs(1, 2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts := client.ProduceOptions{}
			switch acks {
			case "all":
				opts.Acks = client.AcksAll
			case "leader", "1":
				opts.Acks = client.AcksLeader
			case "none", "0":
				opts.Acks = client.AcksNone
			default:
				return usageErrorf("--acks: want all, leader or none, got %q", acks)
			}
			if cmd.Flags().Changed("partition") {
				opts.Partition = &partition
			}
			if cmd.Flags().Changed("expect-offset") {
				if opts.Partition == nil {
					return usageErrorf("--expect-offset needs --partition")
				}
				opts.ExpectedOffset = &expect
			}
			if batch < 1 {
				return usageErrorf("--batch: must be at least 1, got %d", batch)
			}
			var k []byte
			if cmd.Flags().Changed("key") {
				k = []byte(key)
			}
			c, err := g.dialStreamd()
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, stop := signalContext(cmd)
			defer stop()
			p := g.printer(cmd)
			send := func(values [][]byte) error {
				recs := make([]client.Record, len(values))
				for i, v := range values {
					recs[i] = client.Record{Key: k, Value: v}
				}
				rctx, cancel := context.WithTimeout(ctx, g.timeout)
				defer cancel()
				results, err := c.Produce(rctx, args[0], recs, opts)
				if err != nil {
					return queuedError("", err)
				}
				return printProduced(p, results)
			}
			if len(args) == 2 {
				return send([][]byte{[]byte(args[1])})
			}
			sc := bufio.NewScanner(cmd.InOrStdin())
			sc.Buffer(make([]byte, 64<<10), 8<<20)
			var pending [][]byte
			for sc.Scan() {
				pending = append(pending, []byte(sc.Text()))
				if len(pending) == batch {
					if err := send(pending); err != nil {
						return err
					}
					pending = nil
				}
			}
			if err := sc.Err(); err != nil {
				return err
			}
			if len(pending) > 0 {
				return send(pending)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&key, "key", "", "record key (records with one key keep their order in one partition)")
	fl.StringVar(&acks, "acks", "all", "all (every in-sync replica fsynced), leader or none")
	fl.Int32Var(&partition, "partition", 0, "append to this partition instead of the key's")
	fl.Int64Var(&expect, "expect-offset", 0, "append only if the partition's end offset is this (needs --partition)")
	fl.IntVar(&batch, "batch", 500, "stdin lines per produced batch")
	return cmd
}

// printProduced prints each batch's offsets: one line per batch (one JSON
// object per record with --output json).
func printProduced(p printer, results []client.Result) error {
	for _, r := range results {
		if p.json {
			for off := r.BaseOffset; off <= r.LastOffset; off++ {
				if err := writeJSON(p.w, produceView{Partition: r.Partition, Offset: off, Duplicate: r.Duplicate}); err != nil {
					return err
				}
			}
			continue
		}
		if r.BaseOffset == r.LastOffset {
			fmt.Fprintf(p.w, "partition %d offset %d\n", r.Partition, r.BaseOffset)
		} else {
			fmt.Fprintf(p.w, "partition %d offsets %d-%d (%d records)\n", r.Partition, r.BaseOffset, r.LastOffset, r.LastOffset-r.BaseOffset+1)
		}
	}
	return nil
}

// recordView is one consumed record, as printed with --output json.
type recordView struct {
	Topic     string            `json:"topic"`
	Partition int32             `json:"partition"`
	Offset    int64             `json:"offset"`
	Timestamp time.Time         `json:"timestamp"`
	Key       string            `json:"key,omitempty"`
	Value     string            `json:"value"`
	Encoding  string            `json:"value_encoding,omitempty"`
	Headers   map[string]string `json:"headers,omitempty"`
}

func newStreamConsumeCmd(g *clientFlags) *cobra.Command {
	var (
		group         string
		fromBeginning bool
		offset        int64
		since         time.Duration
		follow        bool
		maxRecords    int
		partition     int32
		idle          time.Duration
		until         string
	)
	cmd := &cobra.Command{
		Use:   "consume <topic>",
		Short: "Read records: as a member of --group, or from a position in every partition",
		Long: `Read a topic's committed records and print them (with --output json, one
object per record: topic, partition, offset, timestamp, key, value).

With --group the command joins that consumer group, reads the partitions the
group assigns it from the group's committed offsets (a partition never
committed starts at the log start with --from-beginning, else at its end) and
commits what it printed. Without --group it reads every partition (or
--partition) from --offset, --since or --from-beginning, else from the end.

It stops after --max records, at the first record stamped at or after
--until (an RFC 3339 time, or a duration meaning that long ago), or, unless
--follow, once no record came for --idle; with --follow it runs until
interrupted. --from-beginning --until T replays what a partition held at T
(event sourcing: the state at a past time).`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			fl := cmd.Flags()
			if n := btoi(fromBeginning) + btoi(fl.Changed("offset")) + btoi(fl.Changed("since")); n > 1 {
				return usageErrorf("use one of --from-beginning, --offset and --since")
			}
			if group != "" && (fl.Changed("offset") || fl.Changed("since") || fl.Changed("partition")) {
				return usageErrorf("--group reads from the group's offsets: --offset, --since and --partition do not apply")
			}
			c, err := g.dialStreamd()
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, stop := signalContext(cmd)
			defer stop()
			out := &consumeOutput{p: g.printer(cmd), max: maxRecords}
			if until != "" {
				t, err := parseUntil(until, time.Now())
				if err != nil {
					return err
				}
				out.until = t
			}
			if group != "" {
				return consumeGroup(ctx, c, g, args[0], group, !fromBeginning, follow, idle, out)
			}
			var parts []int32
			if fl.Changed("partition") {
				parts = []int32{partition}
			}
			start := startAt{fromBeginning: fromBeginning}
			if fl.Changed("offset") {
				start.offset = &offset
			}
			if fl.Changed("since") {
				start.since = time.Now().Add(-since)
			}
			return consumePartitions(ctx, c, g, args[0], parts, start, follow, idle, out)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&group, "group", "", "consume as a member of this consumer group, committing as it goes")
	fl.BoolVar(&fromBeginning, "from-beginning", false, "start at the log start (with --group: where the group never committed)")
	fl.Int64Var(&offset, "offset", 0, "start at this offset in every partition read")
	fl.DurationVar(&since, "since", 0, "start at the first record at most this old (10m, 1h)")
	fl.BoolVar(&follow, "follow", false, "keep waiting for new records until interrupted")
	fl.IntVar(&maxRecords, "max", 0, "stop after this many records (0: no limit)")
	fl.Int32Var(&partition, "partition", 0, "read only this partition (without --group)")
	fl.DurationVar(&idle, "idle", 2*time.Second, "without --follow: stop once no record came for this long")
	fl.StringVar(&until, "until", "", "stop at the first record stamped at or after this time (RFC 3339, or a duration ago: 10m)")
	return cmd
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// parseUntil reads --until: an RFC 3339 time, or a duration before now.
func parseUntil(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return time.Time{}, usageErrorf("--until: want an RFC 3339 time (2026-12-07T11:00:00Z) or a duration ago (10m), got %q", s)
	}
	return now.Add(-d), nil
}

// consumeOutput prints records and counts them against --max and --until.
type consumeOutput struct {
	p     printer
	max   int
	count int
	// until, when set, ends the output at the first record stamped at or
	// after it; reached says that happened.
	until   time.Time
	reached bool
}

// done reports whether --max records were printed or --until was reached.
func (o *consumeOutput) done() bool { return o.reached || (o.max > 0 && o.count >= o.max) }

// print prints records until --max or --until; it returns how many it
// printed.
func (o *consumeOutput) print(recs []client.Record) (int, error) {
	n := 0
	for _, r := range recs {
		if o.done() {
			break
		}
		if !o.until.IsZero() && !r.Timestamp.Before(o.until) {
			o.reached = true
			break
		}
		if err := printRecord(o.p, r); err != nil {
			return n, err
		}
		o.count++
		n++
	}
	return n, nil
}

func printRecord(p printer, r client.Record) error {
	if p.json {
		v := recordView{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Timestamp: r.Timestamp, Key: string(r.Key)}
		v.Value, v.Encoding = encodeBytes(r.Value)
		if len(r.Headers) > 0 {
			v.Headers = map[string]string{}
			for _, h := range r.Headers {
				v.Headers[h.Key] = string(h.Value)
			}
		}
		return writeJSON(p.w, v)
	}
	fmt.Fprintf(p.w, "%d:%d\t", r.Partition, r.Offset)
	if r.Key != nil {
		fmt.Fprintf(p.w, "%s\t", r.Key)
	}
	return textValue(p.w, r.Value)
}

// consumeGroup reads as a member of group until --max, idle or interrupt,
// committing after each batch printed.
func consumeGroup(ctx context.Context, c *client.Client, g *clientFlags, topic, group string, latest, follow bool, idle time.Duration, out *consumeOutput) error {
	jctx, cancel := context.WithTimeout(ctx, g.timeout+30*time.Second)
	gc, err := c.JoinGroup(jctx, client.GroupConfig{Group: group, Topics: []string{topic}, ClientID: clientID(), StartAtLatest: latest})
	cancel()
	if err != nil {
		return err
	}
	defer func() {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), g.timeout)
		defer cancel()
		_ = gc.Close(lctx)
	}()
	lastRecord := time.Now()
	for !out.done() {
		if ctx.Err() != nil {
			return nil
		}
		recs, err := gc.Poll(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if len(recs) == 0 {
			if !follow && time.Since(lastRecord) >= idle {
				return nil
			}
			continue
		}
		lastRecord = time.Now()
		n, err := out.print(recs)
		if err != nil {
			return err
		}
		if n < len(recs) {
			// Commit only what was printed: the rest comes to the next reader.
			if err := gc.CommitUpTo(ctx, recs[:n]); err != nil {
				return err
			}
			return nil
		}
		if err := gc.Commit(ctx); err != nil && ctx.Err() == nil {
			fmt.Fprintln(os.Stderr, "cairn: commit:", err)
		}
	}
	return nil
}

// clientID labels this process in group descriptions.
func clientID() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("cairn-cli@%s/%d", host, os.Getpid())
}

// startAt is where consume without a group starts.
type startAt struct {
	fromBeginning bool
	offset        *int64
	since         time.Time
}

// consumePartitions reads the partitions (all when none) from start.
func consumePartitions(ctx context.Context, c *client.Client, g *clientFlags, topic string, parts []int32, start startAt, follow bool, idle time.Duration, out *consumeOutput) error {
	mctx, cancel := context.WithTimeout(ctx, g.timeout)
	md, err := c.Metadata(mctx, topic)
	cancel()
	if err != nil {
		return err
	}
	if len(parts) == 0 {
		for _, t := range md.GetTopics() {
			for _, p := range t.GetPartitions() {
				parts = append(parts, p.GetPartition())
			}
		}
	}
	pos := map[int32]int64{}
	for _, p := range parts {
		switch {
		case start.offset != nil:
			pos[p] = *start.offset
			continue
		}
		spec, at := streamdv1.OffsetSpec_OFFSET_SPEC_LATEST, time.Time{}
		switch {
		case start.fromBeginning:
			spec = streamdv1.OffsetSpec_OFFSET_SPEC_EARLIEST
		case !start.since.IsZero():
			spec, at = streamdv1.OffsetSpec_OFFSET_SPEC_TIMESTAMP, start.since
		}
		octx, cancel := context.WithTimeout(ctx, g.timeout)
		o, err := c.ListOffsets(octx, topic, p, spec, at)
		cancel()
		if err != nil {
			return err
		}
		pos[p] = o.Offset
	}
	lastRecord := time.Now()
	for !out.done() && ctx.Err() == nil {
		got := 0
		for _, p := range parts {
			fctx, cancel := context.WithTimeout(ctx, g.timeout+time.Second)
			f, err := c.Fetch(fctx, topic, p, pos[p], client.FetchOptions{MaxWait: 200 * time.Millisecond})
			cancel()
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			n, err := out.print(f.Records)
			if err != nil {
				return err
			}
			got += n
			if n == len(f.Records) {
				pos[p] = f.NextOffset
			}
			if out.done() {
				return nil
			}
		}
		if got > 0 {
			lastRecord = time.Now()
		} else if !follow && time.Since(lastRecord) >= idle {
			return nil
		}
	}
	return nil
}

func newStreamGroupsListCmd(g *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List consumer groups",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runStream(g, cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				groups, err := c.ListGroups(ctx)
				if err != nil {
					return err
				}
				p := g.printer(cmd)
				if p.json {
					for _, gr := range groups {
						if err := p.print(gr, nil); err != nil {
							return err
						}
					}
					return nil
				}
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "GROUP\tSTATE\tMEMBERS")
				for _, gr := range groups {
					fmt.Fprintf(tw, "%s\t%s\t%d\n", gr.GetGroup(), gr.GetState(), gr.GetMembers())
				}
				return tw.Flush()
			})
		},
	}
}

func newStreamGroupsDescribeCmd(g *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "describe <group>",
		Short: "Show a group's members, assignment, committed offsets and lag",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runStream(g, cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				d, err := c.DescribeGroup(ctx, args[0])
				if err != nil {
					return err
				}
				return g.printer(cmd).print(d, func(w io.Writer) error {
					fmt.Fprintf(w, "group %s  state=%s  generation=%d  members=%d\n", d.GetGroup(), d.GetState(), d.GetGeneration(), len(d.GetMembers()))
					tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
					fmt.Fprintln(tw, "TOPIC\tPARTITION\tCOMMITTED\tHIGH-WATERMARK\tLAG\tMEMBER")
					for _, p := range d.GetPartitions() {
						committed := "-"
						if p.GetCommitted() >= 0 {
							committed = fmt.Sprint(p.GetCommitted())
						}
						fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%d\t%s\n", p.GetTopic(), p.GetPartition(), committed, p.GetHighWatermark(), p.GetLag(), p.GetMemberId())
					}
					return tw.Flush()
				})
			})
		},
	}
}
