package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	queuedv1 "cairn.dev/cairn/proto/cairn/queued/v1"
	"cairn.dev/cairn/queued/client"
)

// queuedGlobals are the persistent flags of `cairn queue` and `cairn topic`:
// the client flags of every group.
type queuedGlobals struct {
	*clientFlags
}

// newQueuedClientCmd builds a parent command (queue, topic) with the client
// flags, and sets g to them.
func newQueuedClientCmd(use, short, long string, g *queuedGlobals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Long:  long + "\n\n" + clientFlagsHelp("queued"),
		Args:  cobra.NoArgs,
	}
	g.clientFlags = addClientFlags(cmd, "queued")
	return cmd
}

// run opens a client, runs f under --timeout and Ctrl-C, and closes the client.
func (g *queuedGlobals) run(cmd *cobra.Command, f func(ctx context.Context, c *client.Client, w io.Writer) error) error {
	return runWith(g.clientFlags, cmd, g.dialQueued, f)
}

// runFor is run with a deadline of --timeout plus extra (a long poll's wait).
func (g *queuedGlobals) runFor(cmd *cobra.Command, extra time.Duration, f func(ctx context.Context, c *client.Client, w io.Writer) error) error {
	c, err := g.dialQueued()
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, stop := signalContext(cmd)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, g.timeout+extra)
	defer cancel()
	return f(ctx, c, cmd.OutOrStdout())
}

// queuedError turns a client error into the command's error: InvalidArgument
// (a value queued refuses) exits with exitUsage, prefixed by what, which
// names the flag or argument at fault if known.
func queuedError(what string, err error) error {
	if err == nil {
		return nil
	}
	if status.Code(err) == codes.InvalidArgument {
		if what != "" {
			return &exitError{code: exitUsage, err: fmt.Errorf("%s: %w", what, err)}
		}
		return &exitError{code: exitUsage, err: err}
	}
	return err
}

// entryErrors turns the failed entries of a batch into the command's error
// (the first one decides the exit code), nil if there are none.
func entryErrors(op string, errs []*queuedv1.EntryError) error {
	if len(errs) == 0 {
		return nil
	}
	first := client.EntryErr(op, errs[0])
	if len(errs) == 1 {
		return queuedError("", first)
	}
	var msgs []string
	for _, e := range errs[1:] {
		msgs = append(msgs, client.EntryErr(op, e).Error())
	}
	return queuedError("", fmt.Errorf("%w; and %d more: %s", first, len(msgs), strings.Join(msgs, "; ")))
}

// parseAttrs reads --attr name=value flags into String message attributes.
func parseAttrs(flag string, kvs []string) (map[string]*queuedv1.AttributeValue, error) {
	if len(kvs) == 0 {
		return nil, nil
	}
	out := map[string]*queuedv1.AttributeValue{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usageErrorf("%s: want name=value, got %q", flag, kv)
		}
		out[k] = &queuedv1.AttributeValue{DataType: "String", StringValue: v}
	}
	return out, nil
}

// messageView prints a delivered message: with --output json one object per
// message (the proto's fields; the body as text, or base64 with
// body_encoding), otherwise a header line and the body.
func printMessage(p printer, m *queuedv1.Message) error {
	return p.print(m, func(w io.Writer) error {
		fmt.Fprintf(w, "message %s  receive_count=%d  visible_at=%s", m.GetMessageId(), m.GetReceiveCount(), m.GetVisibleAt().AsTime().Local().Format(time.RFC3339))
		if m.GetGroupId() != "" {
			fmt.Fprintf(w, "  group=%s", m.GetGroupId())
		}
		if m.GetDeadLetterSource() != "" {
			fmt.Fprintf(w, "  from=%s", m.GetDeadLetterSource())
		}
		fmt.Fprintf(w, "\nreceipt %s\n", m.GetReceiptHandle())
		for k, v := range m.GetAttributes() {
			fmt.Fprintf(w, "attr %s=%s\n", k, v.GetStringValue())
		}
		return textValue(w, m.GetBody())
	})
}
