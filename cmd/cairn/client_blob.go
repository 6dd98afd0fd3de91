package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"cairn.dev/cairn/blobd/client"
	blobdv1 "cairn.dev/cairn/proto/cairn/blobd/v1"
)

// newBlobCmd is `cairn blob`: buckets and objects of blobd.
func newBlobCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "blob",
		Short: "Make buckets, put, get, list and delete objects of blobd; presign URLs; tiers; repair status",
		Long: `Drive blobd, cairn's replicated blob store. Objects are named bucket/key
(an "s3://" in front is accepted); local files are plain paths, "-" is
stdin or stdout.

  cairn blob mb my-app-files
  cairn blob put video.mp4 my-app-files/videos/demo.mp4
  cairn blob ls my-app-files --recursive --output json
  cairn blob get my-app-files/videos/demo.mp4 /tmp/demo.mp4
  cairn blob presign --put my-app-files/images/logo.png --expires 5m
  cairn blob tier my-app-files/videos/demo.mp4 cool
  cairn blob repair status

Transfers (put, get) show a progress bar when stderr is a terminal, and run
until done or Ctrl-C: --timeout bounds them only when given explicitly.

` + clientFlagsHelp("blobd"),
		Args: cobra.NoArgs,
	}
	g := addClientFlags(cmd, "blobd")
	repair := &cobra.Command{Use: "repair", Short: "Report on the redundancy of the data", Args: cobra.NoArgs}
	repair.AddCommand(newBlobRepairStatusCmd(g))
	keys := &cobra.Command{Use: "keys", Short: "Create, list and delete access keys of the S3 API", Args: cobra.NoArgs}
	keys.AddCommand(newBlobKeysCreateCmd(g), newBlobKeysListCmd(g), newBlobKeysDeleteCmd(g))
	cmd.AddCommand(newBlobMbCmd(g), newBlobRbCmd(g), newBlobLsCmd(g), newBlobPutCmd(g), newBlobGetCmd(g),
		newBlobRmCmd(g), newBlobCpCmd(g), newBlobStatCmd(g), newBlobPresignCmd(g), newBlobRestoreCmd(g),
		newBlobTierCmd(g), repair, keys)
	return cmd
}

// dialBlobd returns a blobd client for the cluster's endpoints.
func (g *clientFlags) dialBlobd() (*client.Client, error) {
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

func runBlob(g *clientFlags, cmd *cobra.Command, f func(ctx context.Context, c *client.Client, w io.Writer) error) error {
	return runWith(g, cmd, g.dialBlobd, f)
}

// runTransfer is runBlob for commands that move data: bounded by Ctrl-C,
// and by --timeout only when it was given.
func runTransfer(g *clientFlags, cmd *cobra.Command, f func(ctx context.Context, c *client.Client, w io.Writer) error) error {
	c, err := g.dialBlobd()
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, stop := signalContext(cmd)
	defer stop()
	if cmd.Flags().Changed("timeout") {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, g.timeout)
		defer cancel()
	}
	return f(ctx, c, cmd.OutOrStdout())
}

// blobPath is an object's name on the command line.
type blobPath struct {
	bucket, key string
}

func (p blobPath) String() string {
	if p.key == "" {
		return p.bucket
	}
	return p.bucket + "/" + p.key
}

// parseBlobPath reads "bucket/key" (or "s3://bucket/key", or "bucket");
// needKey says whether a key is required.
func parseBlobPath(what, arg string, needKey bool) (blobPath, error) {
	s := strings.TrimPrefix(arg, "s3://")
	bucket, key, _ := strings.Cut(s, "/")
	switch {
	case bucket == "":
		return blobPath{}, usageErrorf("%s: want bucket/key, got %q", what, arg)
	case needKey && key == "":
		return blobPath{}, usageErrorf("%s: want bucket/key with a key, got %q", what, arg)
	}
	return blobPath{bucket: bucket, key: key}, nil
}

// parseTier reads a tier name.
func parseTier(what, s string) (blobdv1.Tier, error) {
	switch strings.ToLower(s) {
	case "":
		return blobdv1.Tier_TIER_UNSPECIFIED, nil
	case "hot", "standard":
		return blobdv1.Tier_TIER_HOT, nil
	case "cool", "standard_ia":
		return blobdv1.Tier_TIER_COOL, nil
	case "archive", "glacier":
		return blobdv1.Tier_TIER_ARCHIVE, nil
	}
	return 0, usageErrorf("%s: want hot, cool or archive, got %q", what, s)
}

// tierName is the CLI's name of a tier.
func tierName(t blobdv1.Tier) string {
	switch t {
	case blobdv1.Tier_TIER_HOT:
		return "hot"
	case blobdv1.Tier_TIER_COOL:
		return "cool"
	case blobdv1.Tier_TIER_ARCHIVE:
		return "archive"
	}
	return "-"
}

// blobError turns a client error into the command's error: a value blobd
// refuses as invalid exits with exitUsage, prefixed by what (the argument
// at fault, if known).
func blobError(what string, err error) error { return queuedError(what, err) }

func localTime(ts interface{ AsTime() time.Time }) string {
	if ts == nil {
		return "-"
	}
	return ts.AsTime().Local().Format("2006-01-02 15:04:05")
}

func printObject(p printer, o *blobdv1.Object) error {
	return p.print(o, func(w io.Writer) error {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "object\t%s/%s\n", o.GetBucket(), o.GetKey())
		fmt.Fprintf(tw, "size\t%d (%s)\n", o.GetSize(), humanBytes(o.GetSize()))
		fmt.Fprintf(tw, "etag\t%q\n", o.GetEtag())
		fmt.Fprintf(tw, "tier\t%s\n", tierName(o.GetTier()))
		fmt.Fprintf(tw, "created\t%s\n", localTime(o.GetCreated()))
		fmt.Fprintf(tw, "version\t%d\n", o.GetVersion())
		if o.GetChunks() > 0 {
			fmt.Fprintf(tw, "chunks\t%d\n", o.GetChunks())
		}
		if o.GetParts() > 0 {
			fmt.Fprintf(tw, "parts\t%d\n", o.GetParts())
		}
		if rs := o.GetRestoreState(); rs != blobdv1.RestoreState_RESTORE_STATE_UNSPECIFIED {
			state := "in progress"
			if rs == blobdv1.RestoreState_RESTORE_STATE_RESTORED {
				state = "restored"
			}
			fmt.Fprintf(tw, "restore\t%s until %s\n", state, localTime(o.GetRestoreUntil()))
		}
		h := o.GetHeaders()
		for _, f := range []struct{ name, v string }{
			{"content-type", h.GetContentType()}, {"cache-control", h.GetCacheControl()},
			{"content-disposition", h.GetContentDisposition()}, {"content-encoding", h.GetContentEncoding()}, {"expires", h.GetExpires()},
		} {
			if f.v != "" {
				fmt.Fprintf(tw, "%s\t%s\n", f.name, f.v)
			}
		}
		for k, v := range h.GetUserMetadata() {
			fmt.Fprintf(tw, "meta %s\t%s\n", k, v)
		}
		return tw.Flush()
	})
}

func newBlobMbCmd(g *clientFlags) *cobra.Command {
	var tier string
	cmd := &cobra.Command{
		Use:   "mb <bucket>",
		Short: "Make a bucket",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := parseBlobPath("bucket", args[0], false)
			if err != nil {
				return err
			}
			if p.key != "" {
				return usageErrorf("bucket: want a bucket name, got %q", args[0])
			}
			t, err := parseTier("--tier", tier)
			if err != nil {
				return err
			}
			return runBlob(g, cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				b, err := c.CreateBucket(ctx, p.bucket, client.WithDefaultTier(t))
				if err != nil {
					return blobError("bucket", err)
				}
				return g.printer(cmd).print(b, func(w io.Writer) error {
					_, err := fmt.Fprintf(w, "made bucket %s\n", b.GetName())
					return err
				})
			})
		},
	}
	cmd.Flags().StringVar(&tier, "tier", "", "default tier of the bucket's objects: hot, cool or archive (default hot)")
	return cmd
}

func newBlobRbCmd(g *clientFlags) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "rb <bucket>",
		Short: "Remove an empty bucket (--force deletes its objects first)",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := parseBlobPath("bucket", args[0], false)
			if err != nil {
				return err
			}
			run := runBlob
			if force {
				run = runTransfer
			}
			return run(g, cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				if force {
					if _, err := deletePrefix(ctx, c, p.bucket, "", w, g.json()); err != nil {
						return err
					}
				}
				if err := c.DeleteBucket(ctx, p.bucket); err != nil {
					return blobError("bucket", err)
				}
				if g.json() {
					return writeJSON(w, map[string]any{"bucket": p.bucket, "removed": true})
				}
				_, err := fmt.Fprintf(w, "removed bucket %s\n", p.bucket)
				return err
			})
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "delete every object of the bucket first")
	return cmd
}

func newBlobLsCmd(g *clientFlags) *cobra.Command {
	var recursive bool
	cmd := &cobra.Command{
		Use:   "ls [bucket[/prefix]]",
		Short: "List buckets, or the objects of a bucket (one level; --recursive for all)",
		Args:  usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return runBlob(g, cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
					return listBuckets(ctx, c, g.printer(cmd))
				})
			}
			p, err := parseBlobPath("path", args[0], false)
			if err != nil {
				return err
			}
			return runBlob(g, cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				return listObjects(ctx, c, g.printer(cmd), p, recursive)
			})
		},
	}
	cmd.Flags().BoolVarP(&recursive, "recursive", "r", false, "list every key under the prefix, not one level")
	return cmd
}

func listBuckets(ctx context.Context, c *client.Client, p printer) error {
	bs, err := c.Buckets(ctx)
	if err != nil {
		return err
	}
	if p.json {
		for _, b := range bs {
			if err := p.print(b, nil); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(p.w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CREATED\tTIER\tBUCKET")
	for _, b := range bs {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", localTime(b.GetCreated()), tierName(b.GetDefaultTier()), b.GetName())
	}
	return tw.Flush()
}

// listObjects prints a bucket's keys under p.key: one level (common
// prefixes as directories), or all of them with recursive. With --output
// json each object is one line (the Object message), each prefix
// {"prefix": ...}.
func listObjects(ctx context.Context, c *client.Client, p printer, path blobPath, recursive bool) error {
	opts := []client.ListOption{client.WithPrefix(path.key)}
	if !recursive {
		opts = append(opts, client.WithDelimiter("/"))
	}
	var tw *tabwriter.Writer
	if !p.json {
		tw = tabwriter.NewWriter(p.w, 0, 4, 2, ' ', tabwriter.AlignRight)
	}
	for e, err := range c.List(ctx, path.bucket, opts...) {
		if err != nil {
			if tw != nil {
				tw.Flush()
			}
			return blobError("path", err)
		}
		switch {
		case p.json && e.Object != nil:
			err = p.print(e.Object, nil)
		case p.json:
			err = writeJSON(p.w, jsonObject{{"prefix", e.Prefix}})
		case e.Object != nil:
			o := e.Object
			_, err = fmt.Fprintf(tw, "%s\t%d\t%s\t %s\n", localTime(o.GetCreated()), o.GetSize(), tierName(o.GetTier()), o.GetKey())
		default:
			_, err = fmt.Fprintf(tw, "\tPRE\t\t %s\n", e.Prefix)
		}
		if err != nil {
			return err
		}
	}
	if tw != nil {
		return tw.Flush()
	}
	return nil
}

func newBlobStatCmd(g *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "stat <bucket/key>",
		Short: "Show an object's record: size, etag, tier, headers",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := parseBlobPath("object", args[0], true)
			if err != nil {
				return err
			}
			return runBlob(g, cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				o, err := c.Stat(ctx, p.bucket, p.key)
				if err != nil {
					return blobError("object", err)
				}
				return printObject(g.printer(cmd), o)
			})
		},
	}
}

func newBlobRmCmd(g *clientFlags) *cobra.Command {
	var recursive bool
	cmd := &cobra.Command{
		Use:   "rm <bucket/key>...",
		Short: "Delete objects (--recursive: every key under a prefix)",
		Args:  usageArgs(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			paths := make([]blobPath, len(args))
			for i, a := range args {
				p, err := parseBlobPath("object", a, !recursive)
				if err != nil {
					return err
				}
				paths[i] = p
			}
			run := runBlob
			if recursive {
				run = runTransfer
			}
			return run(g, cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				for _, p := range paths {
					if recursive {
						if _, err := deletePrefix(ctx, c, p.bucket, p.key, w, g.json()); err != nil {
							return err
						}
						continue
					}
					deleted, err := c.Delete(ctx, p.bucket, p.key)
					if err != nil {
						return blobError("object", err)
					}
					if err := printDeleted(w, g.json(), p, deleted); err != nil {
						return err
					}
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVarP(&recursive, "recursive", "r", false, "delete every key that starts with the given prefix")
	return cmd
}

func printDeleted(w io.Writer, json bool, p blobPath, deleted bool) error {
	if json {
		return writeJSON(w, jsonObject{{"bucket", p.bucket}, {"key", p.key}, {"deleted", deleted}})
	}
	verb := "deleted"
	if !deleted {
		verb = "no object at"
	}
	_, err := fmt.Fprintf(w, "%s %s\n", verb, p)
	return err
}

// deletePrefix deletes every key of bucket under prefix and returns how
// many it deleted.
func deletePrefix(ctx context.Context, c *client.Client, bucket, prefix string, w io.Writer, json bool) (int, error) {
	n := 0
	for {
		var keys []string
		for e, err := range c.List(ctx, bucket, client.WithPrefix(prefix), client.WithPageSize(1000)) {
			if err != nil {
				return n, blobError("bucket", err)
			}
			keys = append(keys, e.Object.GetKey())
			if len(keys) == 1000 {
				break
			}
		}
		if len(keys) == 0 {
			return n, nil
		}
		for _, k := range keys {
			deleted, err := c.Delete(ctx, bucket, k)
			if err != nil {
				return n, blobError("object", err)
			}
			if err := printDeleted(w, json, blobPath{bucket, k}, deleted); err != nil {
				return n, err
			}
			n++
		}
	}
}

func newBlobCpCmd(g *clientFlags) *cobra.Command {
	var tier, contentType string
	cmd := &cobra.Command{
		Use:   "cp <bucket/key> <bucket/key | bucket/prefix/>",
		Short: "Copy an object server-side (a destination ending in / keeps the key's name)",
		Args:  usageArgs(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, err := parseBlobPath("source", args[0], true)
			if err != nil {
				return err
			}
			dst, err := parseBlobPath("destination", args[1], false)
			if err != nil {
				return err
			}
			if dst.key == "" || strings.HasSuffix(dst.key, "/") {
				dst.key += src.key[strings.LastIndexByte(src.key, '/')+1:]
			}
			t, err := parseTier("--tier", tier)
			if err != nil {
				return err
			}
			opts := []client.PutOption{client.WithTier(t)}
			if cmd.Flags().Changed("content-type") {
				opts = append(opts, client.WithContentType(contentType))
			}
			return runTransfer(g, cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				o, err := c.Copy(ctx, src.bucket, src.key, dst.bucket, dst.key, opts...)
				if err != nil {
					return blobError("", err)
				}
				return g.printer(cmd).print(o, func(w io.Writer) error {
					_, err := fmt.Fprintf(w, "copied %s to %s (%s, etag %q)\n", src, dst, humanBytes(o.GetSize()), o.GetEtag())
					return err
				})
			})
		},
	}
	cmd.Flags().StringVar(&tier, "tier", "", "tier of the copy: hot, cool or archive (default the source's)")
	cmd.Flags().StringVar(&contentType, "content-type", "", "replace the stored headers with this Content-Type (default: keep the source's headers)")
	return cmd
}

func newBlobTierCmd(g *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "tier <bucket/key> <hot|cool|archive>",
		Short: "Move an object to another tier now (re-encoding its chunks)",
		Args:  usageArgs(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := parseBlobPath("object", args[0], true)
			if err != nil {
				return err
			}
			t, err := parseTier("tier", args[1])
			if err != nil {
				return err
			}
			if t == blobdv1.Tier_TIER_UNSPECIFIED {
				return usageErrorf("tier: want hot, cool or archive")
			}
			return runTransfer(g, cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				o, err := c.SetTier(ctx, p.bucket, p.key, t)
				if err != nil {
					return blobError("object", err)
				}
				return g.printer(cmd).print(o, func(w io.Writer) error {
					_, err := fmt.Fprintf(w, "%s is now %s\n", p, tierName(o.GetTier()))
					return err
				})
			})
		},
	}
}

func newBlobRestoreCmd(g *clientFlags) *cobra.Command {
	var days int
	cmd := &cobra.Command{
		Use:   "restore <bucket/key>",
		Short: "Make an archived object readable for --days days (after the cluster's restore delay)",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := parseBlobPath("object", args[0], true)
			if err != nil {
				return err
			}
			if days < 1 {
				return usageErrorf("--days: must be at least 1, got %d", days)
			}
			return runBlob(g, cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				o, err := c.Restore(ctx, p.bucket, p.key, days)
				if err != nil {
					return blobError("object", err)
				}
				return g.printer(cmd).print(o, func(w io.Writer) error {
					state := "restoring"
					if o.GetRestoreState() == blobdv1.RestoreState_RESTORE_STATE_RESTORED {
						state = "restored"
					}
					_, err := fmt.Fprintf(w, "%s: %s, readable until %s\n", p, state, localTime(o.GetRestoreUntil()))
					return err
				})
			})
		},
	}
	cmd.Flags().IntVar(&days, "days", 1, "how many days the object stays readable")
	return cmd
}
