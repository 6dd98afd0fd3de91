package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	searchdv1 "cairn.dev/cairn/proto/cairn/searchd/v1"
	"cairn.dev/cairn/searchd/es"
)

// refreshFlag is --refresh of the write commands: after the write, wait
// until it is searchable (wait_for) or refresh now (true).
func refreshFlag(cmd *cobra.Command, v *string) {
	cmd.Flags().StringVar(v, "refresh", "false", "false (searchable after the next refresh), true (refresh now) or wait_for")
	cmd.Flags().Lookup("refresh").NoOptDefVal = "true"
}

func refreshValue(v string) (searchdv1.Refresh, error) {
	switch v {
	case "false", "":
		return searchdv1.Refresh_REFRESH_UNSPECIFIED, nil
	case "true":
		return searchdv1.Refresh_REFRESH_TRUE, nil
	case "wait_for":
		return searchdv1.Refresh_REFRESH_WAIT_FOR, nil
	}
	return 0, usageErrorf("--refresh: want false, true or wait_for, got %q", v)
}

func newSearchPutCmd(g *clientFlags) *cobra.Command {
	var refresh string
	var create bool
	cmd := &cobra.Command{
		Use:   "put <index> <id> <json|@file|->",
		Short: "Index (create or replace) a document",
		Long: `Index a document: a JSON object given inline, as @file, or on stdin
("-"). An empty id ("") lets searchd generate one. --create fails (exit 5)
when the id exists.`,
		Args: usageArgs(cobra.ExactArgs(3)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref, err := refreshValue(refresh)
			if err != nil {
				return err
			}
			src, err := readBody(cmd, args[2])
			if err != nil {
				return err
			}
			if !json.Valid(src) || len(bytes.TrimSpace(src)) == 0 || bytes.TrimSpace(src)[0] != '{' {
				return usageErrorf("the document is not a JSON object")
			}
			req := &searchdv1.PutDocumentRequest{Index: args[0], Id: args[1], SourceJson: src, Refresh: ref}
			if create {
				req.OpType = searchdv1.OpType_OP_TYPE_CREATE
			}
			return runSearch(g, cmd, func(ctx context.Context, c *searchConn, w io.Writer) error {
				resp, err := c.docs.PutDocument(ctx, req)
				if err != nil {
					return searchError("", err)
				}
				return g.printer(cmd).print(resp, func(w io.Writer) error {
					_, err := fmt.Fprintf(w, "%s %s/%s (version %d, shard %d, seq_no %d)\n", resp.GetResult(), args[0], resp.GetId(),
						resp.GetVersion(), resp.GetShard(), resp.GetSeqNo())
					return err
				})
			})
		},
	}
	refreshFlag(cmd, &refresh)
	cmd.Flags().BoolVar(&create, "create", false, "fail when a document with this id exists")
	return cmd
}

func newSearchGetCmd(g *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "get <index> <id>",
		Short: "Print a document's source (realtime: every acknowledged write is seen)",
		Long: `Print a document's source. With --output json, Elasticsearch's GET answer:
{"_index","_id","_version","_seq_no","found","_source"}. A missing document
exits with 3.`,
		Args: usageArgs(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSearch(g, cmd, func(ctx context.Context, c *searchConn, w io.Writer) error {
				resp, err := c.docs.GetDocument(ctx, &searchdv1.GetDocumentRequest{Index: args[0], Id: args[1]})
				if err != nil {
					return searchError("", err)
				}
				if !resp.GetFound() {
					return withExit(exitNotFound, fmt.Errorf("%s/%s: no such document", args[0], args[1]))
				}
				doc := jsonObject{{"_index", args[0]}, {"_id", args[1]}, {"_version", resp.GetVersion()},
					{"_seq_no", resp.GetSeqNo()}, {"found", true}, {"_source", json.RawMessage(resp.GetSourceJson())}}
				return g.printer(cmd).print(doc, func(w io.Writer) error {
					return textValue(w, resp.GetSourceJson())
				})
			})
		},
	}
}

func newSearchDeleteCmd(g *clientFlags) *cobra.Command {
	var refresh string
	cmd := &cobra.Command{
		Use:   "delete <index> <id>",
		Short: "Delete a document (exit 3 when there was none)",
		Args:  usageArgs(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref, err := refreshValue(refresh)
			if err != nil {
				return err
			}
			return runSearch(g, cmd, func(ctx context.Context, c *searchConn, w io.Writer) error {
				resp, err := c.docs.DeleteDocument(ctx, &searchdv1.DeleteDocumentRequest{Index: args[0], Id: args[1], Refresh: ref})
				if err != nil {
					return searchError("", err)
				}
				if err := g.printer(cmd).print(resp, func(w io.Writer) error {
					_, err := fmt.Fprintf(w, "%s %s/%s\n", resp.GetResult(), args[0], args[1])
					return err
				}); err != nil {
					return err
				}
				if resp.GetResult() == "not_found" {
					return withExit(exitNotFound, fmt.Errorf("%s/%s: no such document", args[0], args[1]))
				}
				return nil
			})
		},
	}
	refreshFlag(cmd, &refresh)
	return cmd
}

// bulkChunk bounds the items and document bytes of one Bulk call.
const (
	bulkChunkItems = es.DefaultBulkChunkItems
	bulkChunkBytes = es.DefaultBulkChunkBytes
)

func newSearchBulkCmd(g *clientFlags) *cobra.Command {
	var refresh string
	cmd := &cobra.Command{
		Use:   "bulk <index> <ndjson file|->",
		Short: "Index and delete many documents from an Elasticsearch _bulk NDJSON file",
		Long: `Apply an Elasticsearch _bulk file: action lines {"index":{"_id":"1"}},
{"create":{...}} and {"delete":{"_id":"2"}}, each index and create followed
by its document; "_index" in an action line overrides <index>. Items go in
order, in calls of at most 5000 items or 8 MiB. Each item succeeds or fails on
its own: failures are listed and the command exits 1 if any failed.
--output json prints one object per call (the items' status and errors).`,
		Args: usageArgs(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref, err := refreshValue(refresh)
			if err != nil {
				return err
			}
			var body []byte
			if args[1] == "-" {
				body, err = io.ReadAll(cmd.InOrStdin())
			} else {
				body, err = os.ReadFile(args[1])
			}
			if err != nil {
				return usageErrorf("%w", err)
			}
			items, err := es.ParseBulk(body, args[0])
			if err != nil {
				return usageErrorf("%s: %w", args[1], err)
			}
			// A long file is bounded by Ctrl-C, and by --timeout per call.
			c, err := g.dialSearchd()
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, stop := signalContext(cmd)
			defer stop()
			p := g.printer(cmd)
			var ok, failed int
			for len(items) > 0 {
				n, size := 0, 0
				for n < len(items) && n < bulkChunkItems && (n == 0 || size+len(items[n].GetSourceJson()) <= bulkChunkBytes) {
					size += len(items[n].GetSourceJson())
					n++
				}
				cctx, cancel := context.WithTimeout(ctx, g.timeout)
				resp, err := c.docs.Bulk(cctx, &searchdv1.BulkRequest{Index: args[0], Items: items[:n], Refresh: ref})
				cancel()
				if err != nil {
					return searchError("", fmt.Errorf("after %d items applied: %w", ok+failed, err))
				}
				items = items[n:]
				if err := p.print(resp, func(w io.Writer) error {
					for _, it := range resp.GetItems() {
						if it.GetErrorType() != "" {
							fmt.Fprintf(w, "failed %s %s/%s: %d %s: %s\n", enumName(it.GetAction().Descriptor(), it.GetAction().Number()),
								it.GetIndex(), it.GetId(), it.GetStatus(), it.GetErrorType(), it.GetErrorReason())
						}
					}
					return nil
				}); err != nil {
					return err
				}
				for _, it := range resp.GetItems() {
					if it.GetErrorType() != "" {
						failed++
					} else {
						ok++
					}
				}
			}
			if !g.json() {
				fmt.Fprintf(cmd.OutOrStdout(), "%d items applied, %d failed\n", ok, failed)
			}
			if failed > 0 {
				return fmt.Errorf("%d of %d bulk items failed", failed, ok+failed)
			}
			return nil
		},
	}
	refreshFlag(cmd, &refresh)
	return cmd
}
