package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"cairn.dev/cairn/node/clusterconn"
	queuedv1 "cairn.dev/cairn/proto/cairn/queued/v1"
	"cairn.dev/cairn/queued/client"
)

// newQueueCmd is `cairn queue`: queues of queued from the command line.
func newQueueCmd() *cobra.Command {
	g := &queuedGlobals{}
	cmd := newQueuedClientCmd("queue",
		"Create, inspect and drive queued queues: send, receive, ack, dead letters",
		`Create, inspect and drive the queues of queued, cairn's Raft-replicated
message queue. Delivery is at least once: a received message is invisible to
other receivers until its visibility timeout, and comes back unless it is acked
with its receipt handle; after --max-receives deliveries it moves to the dead
letter queue.

  cairn queue create orders-dlq
  cairn queue create orders --visibility-timeout 2s --max-receives 3 --dead-letter orders-dlq
  cairn queue send orders '{"order":1}'
  cairn queue receive orders --wait 5s --output json
  cairn queue ack orders <receipt>`, g)
	cmd.AddCommand(
		newQueueCreateCmd(g),
		newQueueListCmd(g),
		newQueueAttrsCmd(g),
		newQueueSendCmd(g),
		newQueueReceiveCmd(g),
		newQueueSettleCmd(g, "ack"),
		newQueueSettleCmd(g, "nack"),
		newQueueSettleCmd(g, "extend"),
		newQueuePurgeCmd(g),
		newQueueDeleteCmd(g),
		newQueueStatsCmd(g),
		newQueueRedriveCmd(g),
	)
	return cmd
}

// queueAttrFlags are the attribute flags of queue create and queue attrs.
type queueAttrFlags struct {
	visibility, retention, delay, receiveWait time.Duration
	maxMessageBytes, maxReceives              uint32
	deadLetter                                string
	contentDedup                              bool
}

// flagAttr maps each attribute flag to the attribute (mask name) it sets.
var flagAttr = []struct{ flag, attr string }{
	{"visibility-timeout", "visibility_timeout"},
	{"retention", "retention"},
	{"delay", "delivery_delay"},
	{"receive-wait", "receive_wait"},
	{"max-message-bytes", "max_message_bytes"},
	{"max-receives", "max_receives"},
	{"dead-letter", "dead_letter_queue"},
	{"content-dedup", "content_based_deduplication"},
}

func (f *queueAttrFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.DurationVar(&f.visibility, "visibility-timeout", 0, "how long a received message stays invisible (default 30s, at most 12h)")
	fl.DurationVar(&f.retention, "retention", 0, "how long a message is kept (default 4 days, 1m..14 days)")
	fl.DurationVar(&f.delay, "delay", 0, "delivery delay of every message (at most 15m)")
	fl.DurationVar(&f.receiveWait, "receive-wait", 0, "default long-poll wait of receives (at most 20s)")
	fl.Uint32Var(&f.maxMessageBytes, "max-message-bytes", 0, "largest message (default 256 KiB, 1 KiB..1 MiB)")
	fl.Uint32Var(&f.maxReceives, "max-receives", 0, "deliveries after which a message moves to --dead-letter (0: never)")
	fl.StringVar(&f.deadLetter, "dead-letter", "", "dead letter queue (needs --max-receives)")
	fl.BoolVar(&f.contentDedup, "content-dedup", false, "FIFO: deduplicate sends without an id by the SHA-256 of the body")
}

// attributes returns the attributes the flags set and the mask of those given.
func (f *queueAttrFlags) attributes(cmd *cobra.Command) (*queuedv1.QueueAttributes, []string, error) {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"--visibility-timeout", f.visibility}, {"--retention", f.retention}, {"--delay", f.delay}, {"--receive-wait", f.receiveWait}} {
		if d.v < 0 {
			return nil, nil, usageErrorf("%s: must not be negative, got %v", d.name, d.v)
		}
	}
	a := &queuedv1.QueueAttributes{
		MaxMessageBytes: f.maxMessageBytes, MaxReceives: f.maxReceives,
		DeadLetterQueue: f.deadLetter, ContentBasedDeduplication: f.contentDedup,
	}
	var mask []string
	for _, fa := range flagAttr {
		if !cmd.Flags().Changed(fa.flag) {
			continue
		}
		mask = append(mask, fa.attr)
		switch fa.flag {
		case "visibility-timeout":
			a.VisibilityTimeout = durationpb.New(f.visibility)
		case "retention":
			a.Retention = durationpb.New(f.retention)
		case "delay":
			a.DeliveryDelay = durationpb.New(f.delay)
		case "receive-wait":
			a.ReceiveWait = durationpb.New(f.receiveWait)
		}
	}
	return a, mask, nil
}

func newQueueCreateCmd(g *queuedGlobals) *cobra.Command {
	var f queueAttrFlags
	var fifo bool
	var typ string
	cmd := &cobra.Command{
		Use:   "create <name>",
		Short: "Create a queue (standard or FIFO); creating it again with the same attributes succeeds",
		Long: `Create a queue. Unset attributes take their defaults. Creating a queue that
exists with the same attributes succeeds; with other attributes it fails
(conflict, exit 5).`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			attrs, _, err := f.attributes(cmd)
			if err != nil {
				return err
			}
			switch {
			case typ == "fifo" || fifo:
				attrs.Type = queuedv1.QueueType_QUEUE_TYPE_FIFO
			case typ == "standard":
				attrs.Type = queuedv1.QueueType_QUEUE_TYPE_STANDARD
			default:
				return usageErrorf("--type: want standard or fifo, got %q", typ)
			}
			return g.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				q, created, err := c.CreateQueue(ctx, args[0], attrs)
				if err != nil {
					return queuedError("", err)
				}
				return g.printer(cmd).print(q, func(w io.Writer) error {
					if created {
						fmt.Fprintf(w, "created queue %s\n", q.GetName())
					} else {
						fmt.Fprintf(w, "queue %s exists with these attributes\n", q.GetName())
					}
					return nil
				})
			})
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&fifo, "fifo", false, "a FIFO queue (same as --type fifo)")
	cmd.Flags().StringVar(&typ, "type", "standard", "standard or fifo (strict order per message group, one in flight per group, deduplication)")
	return cmd
}

func newQueueListCmd(g *queuedGlobals) *cobra.Command {
	var prefix string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List queues with their counts",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				var all []*queuedv1.Queue
				token := ""
				for {
					qs, next, err := c.ListQueues(ctx, prefix, token, 0)
					if err != nil {
						return queuedError("--prefix", err)
					}
					all = append(all, qs...)
					if next == "" || len(qs) == 0 {
						break
					}
					token = next
				}
				return g.printer(cmd).print(&queuedv1.ListQueuesResponse{Queues: all}, func(w io.Writer) error {
					tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
					fmt.Fprintln(tw, "NAME\tTYPE\tVISIBLE\tIN_FLIGHT\tDELAYED\tVISIBILITY\tDEAD_LETTER")
					for _, q := range all {
						a, st := q.GetAttributes(), q.GetStats()
						dlq := "-"
						if a.GetDeadLetterQueue() != "" {
							dlq = fmt.Sprintf("%s after %d", a.GetDeadLetterQueue(), a.GetMaxReceives())
						}
						fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t%s\n", q.GetName(), queueType(a.GetType()), st.GetVisible(), st.GetInFlight(), st.GetDelayed(),
							a.GetVisibilityTimeout().AsDuration(), dlq)
					}
					return tw.Flush()
				})
			})
		},
	}
	cmd.Flags().StringVar(&prefix, "prefix", "", "only queues whose name starts with this")
	return cmd
}

func queueType(t queuedv1.QueueType) string {
	if t == queuedv1.QueueType_QUEUE_TYPE_FIFO {
		return "fifo"
	}
	return "standard"
}

func newQueueAttrsCmd(g *queuedGlobals) *cobra.Command {
	var f queueAttrFlags
	cmd := &cobra.Command{
		Use:   "attrs <name> [--visibility-timeout D] [--max-receives N --dead-letter Q] ...",
		Short: "Show a queue's attributes, or change those given as flags",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			attrs, mask, err := f.attributes(cmd)
			if err != nil {
				return err
			}
			return g.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				var q *queuedv1.Queue
				if len(mask) == 0 {
					q, err = c.GetQueue(ctx, args[0])
				} else {
					q, err = c.SetQueueAttributes(ctx, args[0], attrs, mask...)
				}
				if err != nil {
					return queuedError("", err)
				}
				return g.printer(cmd).print(q.GetAttributes(), func(w io.Writer) error {
					a := q.GetAttributes()
					fmt.Fprintf(w, "queue: %s\n", q.GetName())
					fmt.Fprintf(w, "type: %s\n", queueType(a.GetType()))
					fmt.Fprintf(w, "visibility_timeout: %s\n", a.GetVisibilityTimeout().AsDuration())
					fmt.Fprintf(w, "retention: %s\n", a.GetRetention().AsDuration())
					fmt.Fprintf(w, "delivery_delay: %s\n", a.GetDeliveryDelay().AsDuration())
					fmt.Fprintf(w, "receive_wait: %s\n", a.GetReceiveWait().AsDuration())
					fmt.Fprintf(w, "max_message_bytes: %d\n", a.GetMaxMessageBytes())
					fmt.Fprintf(w, "max_receives: %d\n", a.GetMaxReceives())
					fmt.Fprintf(w, "dead_letter_queue: %s\n", a.GetDeadLetterQueue())
					fmt.Fprintf(w, "content_based_deduplication: %t\n", a.GetContentBasedDeduplication())
					if len(q.GetDeadLetterSources()) > 0 {
						fmt.Fprintf(w, "dead_letter_sources: %v\n", q.GetDeadLetterSources())
					}
					return nil
				})
			})
		},
	}
	f.register(cmd)
	return cmd
}

func newQueueSendCmd(g *queuedGlobals) *cobra.Command {
	var attrs []string
	var delay time.Duration
	var group, dedup string
	cmd := &cobra.Command{
		Use:   "send <queue> <body>",
		Short: "Send a message (the body as an argument, - for stdin, or --file)",
		Long: `Send one message. It is acknowledged once committed and fsynced on a quorum;
prints its message id (with --output json, the send result).`,
	}
	body := addValueInput(cmd)
	cmd.Args = usageArgs(body.valueArgs(1))
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		b, err := body.read(cmd, args, 1)
		if err != nil {
			return err
		}
		entry := &queuedv1.SendEntry{Body: b, GroupId: group, DeduplicationId: dedup}
		if entry.Attributes, err = parseAttrs("--attr", attrs); err != nil {
			return err
		}
		if delay < 0 {
			return usageErrorf("--delay: must not be negative, got %v", delay)
		}
		if cmd.Flags().Changed("delay") {
			entry.Delay = durationpb.New(delay)
		}
		return g.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
			resp, err := c.Send(ctx, args[0], entry)
			if err != nil {
				return queuedError("", err)
			}
			if err := entryErrors("send", resp.GetErrors()); err != nil {
				return err
			}
			if len(resp.GetResults()) == 0 {
				return errors.New("send: the server returned no result")
			}
			res := resp.GetResults()[0]
			return g.printer(cmd).print(res, func(w io.Writer) error {
				if res.GetDuplicate() {
					fmt.Fprintf(w, "%s (duplicate of an earlier send)\n", res.GetMessageId())
					return nil
				}
				_, err := fmt.Fprintln(w, res.GetMessageId())
				return err
			})
		})
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&attrs, "attr", nil, "message attribute name=value (String); repeat for more")
	fl.DurationVar(&delay, "delay", 0, "keep the message invisible this long (standard queues; at most 15m)")
	fl.StringVar(&group, "group", "", "message group id (FIFO queues: required)")
	fl.StringVar(&dedup, "dedup-id", "", "deduplication id (FIFO queues: a second send within 5 minutes is not enqueued)")
	return cmd
}

func newQueueReceiveCmd(g *queuedGlobals) *cobra.Command {
	var (
		maxMessages int
		wait        time.Duration
		visibility  time.Duration
		follow, ack bool
		prefetch    int
	)
	cmd := &cobra.Command{
		Use:   "receive <queue>",
		Short: "Receive messages (long poll with --wait; --follow prints them as they arrive)",
		Long: `Receive up to --max messages, waiting up to --wait for the first (default: the
queue's receive_wait). Each message is printed with its receipt handle, which
acks, nacks or extends that delivery; unless --ack acks it after printing, it
becomes visible again after its visibility timeout. Exits 0 with nothing
printed when no message came.

With --follow, a Consume stream prints messages as they arrive, keeping at
most --prefetch unacked at once, until SIGINT or SIGTERM; it reconnects when
its node goes away. With --output json, one JSON object per message.`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if wait < 0 || visibility < 0 {
				return usageErrorf("--wait and --visibility-timeout must not be negative")
			}
			if follow {
				return g.follow(cmd, args[0], prefetch, visibility, ack)
			}
			opts := []client.ReceiveOption{client.WithMaxMessages(maxMessages)}
			extra := client.MaxWait
			if cmd.Flags().Changed("wait") {
				opts = append(opts, client.WithWait(wait))
				extra = wait
			}
			if visibility > 0 {
				opts = append(opts, client.WithVisibilityTimeout(visibility))
			}
			return g.runFor(cmd, extra, func(ctx context.Context, c *client.Client, w io.Writer) error {
				msgs, err := c.Receive(ctx, args[0], opts...)
				if err != nil {
					return queuedError("", err)
				}
				p := g.printer(cmd)
				for _, m := range msgs {
					if err := printMessage(p, m); err != nil {
						return err
					}
				}
				if ack && len(msgs) > 0 {
					handles := make([]string, len(msgs))
					for i, m := range msgs {
						handles[i] = m.GetReceiptHandle()
					}
					resp, err := c.Ack(ctx, args[0], handles...)
					if err != nil {
						return queuedError("", err)
					}
					return entryErrors("ack", resp.GetErrors())
				}
				return nil
			})
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&maxMessages, "max", 1, "most messages to receive (1..100)")
	fl.DurationVar(&wait, "wait", 0, "long-poll up to this long for the first message (at most 20s; default the queue's receive_wait)")
	fl.DurationVar(&visibility, "visibility-timeout", 0, "override the queue's visibility timeout for these deliveries")
	fl.BoolVar(&follow, "follow", false, "stream messages as they arrive until interrupted")
	fl.IntVar(&prefetch, "prefetch", 10, "with --follow: most unacked deliveries at once")
	fl.BoolVar(&ack, "ack", false, "ack each message once printed")
	return cmd
}

// follow streams messages from queue until SIGINT/SIGTERM, reconnecting
// (after a backoff step) when the stream fails in a way another node may not.
func (g *queuedGlobals) follow(cmd *cobra.Command, queue string, prefetch int, visibility time.Duration, ack bool) error {
	c, err := g.dialQueued()
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, stop := signalContext(cmd)
	defer stop()
	p := g.printer(cmd)
	var b clusterconn.Backoff
	for {
		err := g.followOnce(ctx, cmd, c, p, queue, prefetch, visibility, ack)
		if ctx.Err() != nil {
			return nil // interrupted: a normal end
		}
		// Unavailable: the node went away or lost the leader; an unsettled
		// delivery of a receive whose outcome is unknown comes back after its
		// visibility timeout, so every Unavailable is worth a new stream.
		if status.Code(err) != codes.Unavailable {
			return queuedError("", err)
		}
		if !b.Wait(ctx) {
			return nil
		}
	}
}

func (g *queuedGlobals) followOnce(ctx context.Context, cmd *cobra.Command, c *client.Client, p printer, queue string, prefetch int, visibility time.Duration, ack bool) error {
	cons, err := c.Consume(ctx, queue, prefetch, visibility)
	if err != nil {
		return err
	}
	defer cons.Close()
	for {
		resp, err := cons.Recv()
		if err != nil {
			return err
		}
		if err := entryErrors("ack", resp.GetErrors()); err != nil {
			fmt.Fprintln(cmd.ErrOrStderr(), "cairn:", err)
		}
		var handles []string
		for _, m := range resp.GetMessages() {
			if err := printMessage(p, m); err != nil {
				return err
			}
			handles = append(handles, m.GetReceiptHandle())
		}
		if ack && len(handles) > 0 {
			if err := cons.Ack(handles...); err != nil {
				return err
			}
		}
	}
}

func newQueueSettleCmd(g *queuedGlobals, verb string) *cobra.Command {
	var d time.Duration
	short := map[string]string{
		"ack":    "Ack (delete) received messages by receipt handle",
		"nack":   "Make received messages visible again, now or after --delay",
		"extend": "Extend received messages' visibility to now plus --timeout",
	}[verb]
	cmd := &cobra.Command{
		Use:   verb + " <queue> <receipt>...",
		Short: short,
		Long: short + `. A receipt handle names one delivery: after the
message was delivered again, or after its visibility deadline, it is refused
(conflict, exit 5). Acking a message that is gone succeeds.`,
		Args: usageArgs(cobra.MinimumNArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if d < 0 {
				return usageErrorf("must not be negative, got %v", d)
			}
			if verb == "extend" && !cmd.Flags().Changed("timeout") {
				return usageErrorf("--timeout: required")
			}
			return g.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				var (
					resp interface {
						GetErrors() []*queuedv1.EntryError
					}
					done int
					err  error
				)
				switch verb {
				case "ack":
					r, e := c.Ack(ctx, args[0], args[1:]...)
					resp, done, err = r, len(r.GetAcked()), e
				case "nack":
					r, e := c.Nack(ctx, args[0], d, args[1:]...)
					resp, done, err = r, len(r.GetSucceeded()), e
				default:
					r, e := c.ExtendVisibility(ctx, args[0], d, args[1:]...)
					resp, done, err = r, len(r.GetSucceeded()), e
				}
				if err != nil {
					return queuedError("", err)
				}
				if perr := g.printer(cmd).print(resp, func(w io.Writer) error {
					_, err := fmt.Fprintf(w, "%s: %d of %d\n", verb, done, len(args)-1)
					return err
				}); perr != nil {
					return perr
				}
				return entryErrors(verb, resp.GetErrors())
			})
		},
	}
	switch verb {
	case "nack":
		cmd.Flags().DurationVar(&d, "delay", 0, "keep the messages invisible this long (0: visible now)")
	case "extend":
		cmd.Flags().DurationVar(&d, "timeout", 0, "new visibility timeout from now (at most 12h; required)")
	}
	return cmd
}

func newQueuePurgeCmd(g *queuedGlobals) *cobra.Command {
	return &cobra.Command{
		Use:   "purge <name>",
		Short: "Delete every message of a queue",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				n, err := c.PurgeQueue(ctx, args[0])
				if err != nil {
					return queuedError("", err)
				}
				return g.printer(cmd).print(map[string]any{"queue": args[0], "purged": n}, func(w io.Writer) error {
					_, err := fmt.Fprintf(w, "purged %d messages from %s\n", n, args[0])
					return err
				})
			})
		},
	}
}

func newQueueDeleteCmd(g *queuedGlobals) *cobra.Command {
	return &cobra.Command{
		Use:   "delete <name>",
		Short: "Delete a queue and its messages (queues using it as dead letter queue lose their redrive)",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				if err := c.DeleteQueue(ctx, args[0]); err != nil {
					return queuedError("", err)
				}
				return g.printer(cmd).print(map[string]any{"queue": args[0], "deleted": true}, func(w io.Writer) error {
					_, err := fmt.Fprintf(w, "deleted queue %s\n", args[0])
					return err
				})
			})
		},
	}
}

func newQueueStatsCmd(g *queuedGlobals) *cobra.Command {
	return &cobra.Command{
		Use:   "stats <name>",
		Short: "Show a queue's counts: visible, in flight, delayed, dead-lettered, oldest age, totals",
		Long: `Show a queue's counts. Visible, in-flight and delayed counts are as of the
leader's last sweep (they lag by about its sweep interval); --output json
prints one object with the queue's name and the counts.`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				q, err := c.GetQueue(ctx, args[0])
				if err != nil {
					return queuedError("", err)
				}
				st := q.GetStats()
				obj := append(jsonObject{{"queue", q.GetName()}, {"messages", st.GetVisible() + st.GetInFlight() + st.GetDelayed()}}, protoObject(st.ProtoReflect())...)
				return g.printer(cmd).print(obj, func(w io.Writer) error {
					fmt.Fprintf(w, "queue: %s\n", q.GetName())
					fmt.Fprintf(w, "messages: %d (visible %d, in flight %d, delayed %d)\n", st.GetVisible()+st.GetInFlight()+st.GetDelayed(), st.GetVisible(), st.GetInFlight(), st.GetDelayed())
					fmt.Fprintf(w, "oldest: %s\n", st.GetOldestAge().AsDuration())
					fmt.Fprintf(w, "sent: %d, received: %d, acked: %d, dead-lettered: %d\n", st.GetSent(), st.GetReceived(), st.GetAcked(), st.GetDeadLettered())
					return nil
				})
			})
		},
	}
}

func newQueueRedriveCmd(g *queuedGlobals) *cobra.Command {
	var to string
	var maxMessages uint64
	cmd := &cobra.Command{
		Use:   "redrive <dead-letter-queue>",
		Short: "Move messages from a dead letter queue back to where they came from (or --to a queue)",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				n, err := c.Redrive(ctx, args[0], to, maxMessages)
				if err != nil {
					return queuedError("", err)
				}
				return g.printer(cmd).print(map[string]any{"dead_letter_queue": args[0], "moved": n}, func(w io.Writer) error {
					_, err := fmt.Fprintf(w, "moved %d messages out of %s\n", n, args[0])
					return err
				})
			})
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "move every message to this queue instead of its source")
	cmd.Flags().Uint64Var(&maxMessages, "max", 0, "move at most this many (0: all)")
	return cmd
}
