package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	queuedv1 "cairn.dev/cairn/proto/cairn/queued/v1"
	"cairn.dev/cairn/queued/client"
)

// newTopicCmd is `cairn topic`: fan-out topics of queued.
func newTopicCmd() *cobra.Command {
	g := &queuedGlobals{}
	cmd := newQueuedClientCmd("topic",
		"Create topics, subscribe queues to them and publish (fan-out)",
		`Topics fan a published message out to every subscribed queue (optionally
only to those whose filter matches the message's attributes), all copies in one
committed entry.

  cairn topic create order.created
  cairn topic subscribe order.created payments
  cairn topic subscribe order.created email --filter region=eu,us
  cairn topic publish order.created '{"order":2}' --attr region=eu`, g)
	cmd.AddCommand(
		newTopicCreateCmd(g),
		newTopicDeleteCmd(g),
		newTopicDescribeCmd(g),
		newTopicSubscribeCmd(g),
		newTopicUnsubscribeCmd(g),
		newTopicPublishCmd(g),
		newTopicListCmd(g),
	)
	return cmd
}

func newTopicCreateCmd(g *queuedGlobals) *cobra.Command {
	return &cobra.Command{
		Use:   "create <name>",
		Short: "Create a topic (creating one that exists succeeds)",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				t, created, err := c.CreateTopic(ctx, args[0])
				if err != nil {
					return queuedError("", err)
				}
				return g.printer(cmd).print(t, func(w io.Writer) error {
					if created {
						fmt.Fprintf(w, "created topic %s\n", args[0])
					} else {
						fmt.Fprintf(w, "topic %s exists\n", args[0])
					}
					return nil
				})
			})
		},
	}
}

func newTopicDeleteCmd(g *queuedGlobals) *cobra.Command {
	return &cobra.Command{
		Use:   "delete <name>",
		Short: "Delete a topic and its subscriptions (not the queues)",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				if err := c.DeleteTopic(ctx, args[0]); err != nil {
					return queuedError("", err)
				}
				return g.printer(cmd).print(map[string]any{"topic": args[0], "deleted": true}, func(w io.Writer) error {
					_, err := fmt.Fprintf(w, "deleted topic %s\n", args[0])
					return err
				})
			})
		},
	}
}

func newTopicDescribeCmd(g *queuedGlobals) *cobra.Command {
	return &cobra.Command{
		Use:   "describe <name>",
		Short: "Show a topic's subscriptions and publish count",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				t, err := c.GetTopic(ctx, args[0])
				if err != nil {
					return queuedError("", err)
				}
				return g.printer(cmd).print(t, func(w io.Writer) error {
					fmt.Fprintf(w, "topic: %s\npublished: %d\nsubscriptions: %d\n", t.GetName(), t.GetPublished(), len(t.GetSubscriptions()))
					for _, s := range t.GetSubscriptions() {
						fmt.Fprintf(w, "  %s%s\n", s.GetQueue(), filterText(s.GetFilter()))
					}
					return nil
				})
			})
		},
	}
}

// filterText renders a subscription filter as " (k=v1|v2, …)", "" when empty.
func filterText(f map[string]*queuedv1.FilterValues) string {
	if len(f) == 0 {
		return ""
	}
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + strings.Join(f[k].GetValues(), "|")
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func newTopicSubscribeCmd(g *queuedGlobals) *cobra.Command {
	var filters []string
	cmd := &cobra.Command{
		Use:   "subscribe <topic> <queue> [--filter attr=v1,v2]...",
		Short: "Deliver a topic's messages into a queue, optionally filtered by attributes",
		Long: `Deliver the topic's future messages into the queue. With --filter, only
messages that have every filtered attribute with one of its listed values.
Subscribing again replaces the filter.`,
		Args: usageArgs(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			filter := map[string][]string{}
			for _, f := range filters {
				k, v, ok := strings.Cut(f, "=")
				if !ok || k == "" || v == "" {
					return usageErrorf("--filter: want attr=value[,value...], got %q", f)
				}
				filter[k] = append(filter[k], strings.Split(v, ",")...)
			}
			return g.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				t, err := c.Subscribe(ctx, args[0], args[1], filter)
				if err != nil {
					return queuedError("", err)
				}
				return g.printer(cmd).print(t, func(w io.Writer) error {
					_, err := fmt.Fprintf(w, "subscribed %s to %s\n", args[1], args[0])
					return err
				})
			})
		},
	}
	cmd.Flags().StringArrayVar(&filters, "filter", nil, "only messages whose attribute has one of these values: attr=v1,v2 (repeat for more attributes)")
	return cmd
}

func newTopicUnsubscribeCmd(g *queuedGlobals) *cobra.Command {
	return &cobra.Command{
		Use:   "unsubscribe <topic> <queue>",
		Short: "Stop delivering a topic's messages into a queue",
		Args:  usageArgs(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				t, err := c.Unsubscribe(ctx, args[0], args[1])
				if err != nil {
					return queuedError("", err)
				}
				return g.printer(cmd).print(t, func(w io.Writer) error {
					_, err := fmt.Fprintf(w, "unsubscribed %s from %s\n", args[1], args[0])
					return err
				})
			})
		},
	}
}

func newTopicPublishCmd(g *queuedGlobals) *cobra.Command {
	var attrs []string
	var group, dedup string
	cmd := &cobra.Command{
		Use:   "publish <topic> <body>",
		Short: "Publish a message: one copy into every subscribed queue whose filter matches",
	}
	body := addValueInput(cmd)
	cmd.Args = usageArgs(body.valueArgs(1))
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		b, err := body.read(cmd, args, 1)
		if err != nil {
			return err
		}
		req := &queuedv1.PublishRequest{Topic: args[0], Body: b, GroupId: group, DeduplicationId: dedup}
		if req.Attributes, err = parseAttrs("--attr", attrs); err != nil {
			return err
		}
		return g.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
			delivered, err := c.Publish(ctx, req)
			if err != nil {
				return queuedError("", err)
			}
			return g.printer(cmd).print(&queuedv1.PublishResponse{Delivered: delivered}, func(w io.Writer) error {
				fmt.Fprintf(w, "published to %d queue(s)\n", len(delivered))
				for _, d := range delivered {
					dup := ""
					if d.GetDuplicate() {
						dup = " (duplicate)"
					}
					fmt.Fprintf(w, "  %s %s%s\n", d.GetQueue(), d.GetMessageId(), dup)
				}
				return nil
			})
		})
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&attrs, "attr", nil, "message attribute name=value (String); repeat for more")
	fl.StringVar(&group, "group", "", "message group id (required when a FIFO queue subscribes)")
	fl.StringVar(&dedup, "dedup-id", "", "deduplication id (used by FIFO subscribers)")
	return cmd
}

func newTopicListCmd(g *queuedGlobals) *cobra.Command {
	var prefix string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List topics and their subscriptions",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				var all []*queuedv1.Topic
				token := ""
				for {
					ts, next, err := c.ListTopics(ctx, prefix, token, 0)
					if err != nil {
						return queuedError("--prefix", err)
					}
					all = append(all, ts...)
					if next == "" || len(ts) == 0 {
						break
					}
					token = next
				}
				return g.printer(cmd).print(&queuedv1.ListTopicsResponse{Topics: all}, func(w io.Writer) error {
					tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
					fmt.Fprintln(tw, "NAME\tPUBLISHED\tSUBSCRIPTIONS")
					for _, t := range all {
						var subs []string
						for _, s := range t.GetSubscriptions() {
							subs = append(subs, s.GetQueue()+filterText(s.GetFilter()))
						}
						if len(subs) == 0 {
							subs = []string{"-"}
						}
						fmt.Fprintf(tw, "%s\t%d\t%s\n", t.GetName(), t.GetPublished(), strings.Join(subs, ", "))
					}
					return tw.Flush()
				})
			})
		},
	}
	cmd.Flags().StringVar(&prefix, "prefix", "", "only topics whose name starts with this")
	return cmd
}
