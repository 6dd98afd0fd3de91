package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/durationpb"

	"cairn.dev/cairn/node/clusterconn"
	gatewaydv1 "cairn.dev/cairn/proto/cairn/gatewayd/v1"
)

// newGatewayCmd is `cairn gateway`: the gateway's configuration, consumers,
// API keys, tokens and statistics.
func newGatewayCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "gateway",
		Short: "Apply and read the gateway configuration; list routes and consumers; manage API keys; issue tokens; read stats",
		Long: `Drive gatewayd, cairn's API gateway, through its admin API.

  cairn gateway config apply examples/gateway.yaml   # validate and store; every node applies it
  cairn gateway config get                           # the document a node serves, with its version
  cairn gateway routes
  cairn gateway consumers
  cairn gateway keys create demo                     # prints the key once
  cairn gateway keys list
  cairn gateway token --consumer demo                # a JWT signed with the cluster's token key
  cairn gateway stats                                # counters of every node

` + clientFlagsHelp("gatewayd"),
		Args: cobra.NoArgs,
	}
	g := addClientFlags(cmd, "gatewayd")
	config := &cobra.Command{Use: "config", Short: "Apply or read the configuration document", Args: cobra.NoArgs}
	config.AddCommand(newGatewayConfigApplyCmd(g), newGatewayConfigGetCmd(g))
	keys := &cobra.Command{Use: "keys", Short: "Create, list and delete API keys", Args: cobra.NoArgs}
	keys.AddCommand(newGatewayKeysCreateCmd(g), newGatewayKeysListCmd(g), newGatewayKeysDeleteCmd(g))
	cmd.AddCommand(config, newGatewayRoutesCmd(g), newGatewayConsumersCmd(g), keys, newGatewayTokenCmd(g), newGatewayStatsCmd(g))
	return cmd
}

// gatewayConn is a connection to the gateway nodes' admin API.
type gatewayConn struct {
	conn  *clusterconn.Conn
	admin gatewaydv1.GatewayServiceClient
}

func (c *gatewayConn) Close() error { return c.conn.Close() }

// readOnlyGateway names the admin calls retried on any Unavailable failure.
var readOnlyGateway = map[string]bool{
	"GetConfig": true, "ListRoutes": true, "ListConsumers": true, "ListKeys": true,
	"GetStats": true, "IssueToken": true,
}

// dialGateway connects to the gateway nodes of --endpoints or the cluster.
func (g *clientFlags) dialGateway() (*gatewayConn, error) {
	eps, tc, err := g.target()
	if err != nil {
		return nil, err
	}
	conn, err := clusterconn.Dial(clusterconn.Config{Endpoints: eps, RequestTimeout: g.timeout, TLS: tc}, "gatewayd")
	if err != nil {
		return nil, usageErrorf("--endpoints: %w", err)
	}
	return &gatewayConn{conn: conn, admin: gatewaydv1.NewGatewayServiceClient(retryingConn{c: conn, readOnly: readOnlyGateway})}, nil
}

func runGateway(g *clientFlags, cmd *cobra.Command, f func(ctx context.Context, c *gatewayConn, w io.Writer) error) error {
	return runWith(g, cmd, g.dialGateway, f)
}

func newGatewayConfigApplyCmd(g *clientFlags) *cobra.Command {
	var expected int64
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "apply <file.yaml|->",
		Short: "Validate a configuration document and store it; every gateway node applies it",
		Long: `Validate a configuration document (every problem is reported with its path
in the document) and store it in raftkv, where every gateway node watches it
and applies the new version atomically: requests in flight finish on the
old version, no connection is dropped. --expected-version makes the store
conditional on the stored version (optimistic concurrency); --dry-run only
validates.`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			var raw []byte
			var err error
			if args[0] == "-" {
				raw, err = io.ReadAll(cmd.InOrStdin())
			} else {
				raw, err = os.ReadFile(args[0])
			}
			if err != nil {
				return usageErrorf("%w", err)
			}
			return runGateway(g, cmd, func(ctx context.Context, c *gatewayConn, w io.Writer) error {
				resp, err := c.admin.ApplyConfig(ctx, &gatewaydv1.ApplyConfigRequest{Yaml: raw, ExpectedVersion: expected, DryRun: dryRun})
				if err != nil {
					return queuedError(args[0], err)
				}
				return g.printer(cmd).print(resp, func(w io.Writer) error {
					what := fmt.Sprintf("%d routes, %d upstreams, %d consumers", resp.GetRoutes(), resp.GetUpstreams(), resp.GetConsumers())
					if dryRun {
						_, err := fmt.Fprintf(w, "valid: %s\n", what)
						return err
					}
					_, err := fmt.Fprintf(w, "applied version %d: %s\n", resp.GetVersion(), what)
					return err
				})
			})
		},
	}
	cmd.Flags().Int64Var(&expected, "expected-version", 0, "store only if the stored document is at this version")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "validate only")
	return cmd
}

func newGatewayConfigGetCmd(g *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "get",
		Short: "Print the configuration document a gateway node serves",
		Long: `Print the configuration document a gateway node serves, as YAML; with
--output json, an object with the document, its version, its source
(raftkv, file or none), when the node applied it and the node's id.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runGateway(g, cmd, func(ctx context.Context, c *gatewayConn, w io.Writer) error {
				resp, err := c.admin.GetConfig(ctx, &gatewaydv1.GetConfigRequest{})
				if err != nil {
					return err
				}
				if g.json() {
					return writeJSON(w, map[string]any{
						"yaml": string(resp.GetYaml()), "version": resp.GetVersion(), "source": resp.GetSource(),
						"applied_at": resp.GetAppliedAt().AsTime().UTC().Format(time.RFC3339Nano), "node": resp.GetNode(),
					})
				}
				fmt.Fprintf(w, "# version %d from %s, applied by %s at %s\n", resp.GetVersion(), resp.GetSource(),
					resp.GetNode(), resp.GetAppliedAt().AsTime().UTC().Format(time.RFC3339))
				_, err = w.Write(resp.GetYaml())
				return err
			})
		},
	}
}

func newGatewayRoutesCmd(g *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "routes",
		Short: "List the live routes: match, upstream and plugins",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runGateway(g, cmd, func(ctx context.Context, c *gatewayConn, w io.Writer) error {
				resp, err := c.admin.ListRoutes(ctx, &gatewaydv1.ListRoutesRequest{})
				if err != nil {
					return err
				}
				p := g.printer(cmd)
				if p.json {
					for _, r := range resp.GetRoutes() {
						if err := writeJSON(w, r); err != nil {
							return err
						}
					}
					return nil
				}
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tHOSTS\tPATHS\tMETHODS\tUPSTREAM\tPLUGINS")
				for _, r := range resp.GetRoutes() {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.GetName(), orAny(r.GetHosts()), orAny(r.GetPaths()),
						orAny(r.GetMethods()), r.GetUpstream(), strings.Join(r.GetPlugins(), ","))
				}
				return tw.Flush()
			})
		},
	}
}

// orAny joins a list, or says "*" for an empty one (matches anything).
func orAny(xs []string) string {
	if len(xs) == 0 {
		return "*"
	}
	return strings.Join(xs, ",")
}

func newGatewayConsumersCmd(g *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "consumers",
		Short: "List the consumers with their groups, scopes and API key counts",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runGateway(g, cmd, func(ctx context.Context, c *gatewayConn, w io.Writer) error {
				resp, err := c.admin.ListConsumers(ctx, &gatewaydv1.ListConsumersRequest{})
				if err != nil {
					return err
				}
				if g.json() {
					for _, r := range resp.GetConsumers() {
						if err := writeJSON(w, r); err != nil {
							return err
						}
					}
					return nil
				}
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tGROUPS\tSCOPES\tKEYS")
				for _, r := range resp.GetConsumers() {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", r.GetName(), strings.Join(r.GetGroups(), ","), strings.Join(r.GetScopes(), ","), r.GetKeys())
				}
				return tw.Flush()
			})
		},
	}
}

func newGatewayKeysCreateCmd(g *clientFlags) *cobra.Command {
	var ttl time.Duration
	cmd := &cobra.Command{
		Use:   "create <consumer> [--ttl 720h]",
		Short: "Create an API key for a consumer; the key is printed once and stored only hashed",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := &gatewaydv1.CreateKeyRequest{Consumer: args[0]}
			if ttl > 0 {
				req.Ttl = durationpb.New(ttl)
			}
			return runGateway(g, cmd, func(ctx context.Context, c *gatewayConn, w io.Writer) error {
				resp, err := c.admin.CreateKey(ctx, req)
				if err != nil {
					return queuedError("", err)
				}
				return g.printer(cmd).print(resp, func(w io.Writer) error {
					_, err := fmt.Fprintln(w, resp.GetSecret())
					return err
				})
			})
		},
	}
	cmd.Flags().DurationVar(&ttl, "ttl", 0, "expire the key after this long (default: never)")
	return cmd
}

func newGatewayKeysListCmd(g *clientFlags) *cobra.Command {
	var consumer string
	cmd := &cobra.Command{
		Use:   "list [--consumer name]",
		Short: "List API keys (ids, never secrets)",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runGateway(g, cmd, func(ctx context.Context, c *gatewayConn, w io.Writer) error {
				resp, err := c.admin.ListKeys(ctx, &gatewaydv1.ListKeysRequest{Consumer: consumer})
				if err != nil {
					return err
				}
				if g.json() {
					for _, k := range resp.GetKeys() {
						if err := writeJSON(w, k); err != nil {
							return err
						}
					}
					return nil
				}
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tCONSUMER\tCREATED\tEXPIRES")
				for _, k := range resp.GetKeys() {
					exp := "never"
					if k.GetExpiresAt() != nil {
						exp = k.GetExpiresAt().AsTime().UTC().Format(time.RFC3339)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.GetId(), k.GetConsumer(), k.GetCreatedAt().AsTime().UTC().Format(time.RFC3339), exp)
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().StringVar(&consumer, "consumer", "", "only this consumer's keys")
	return cmd
}

func newGatewayKeysDeleteCmd(g *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "delete <id>",
		Short: "Revoke an API key on every gateway node",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runGateway(g, cmd, func(ctx context.Context, c *gatewayConn, w io.Writer) error {
				if _, err := c.admin.DeleteKey(ctx, &gatewaydv1.DeleteKeyRequest{Id: args[0]}); err != nil {
					return queuedError("", err)
				}
				return g.printer(cmd).print(map[string]any{"deleted": args[0]}, func(w io.Writer) error {
					_, err := fmt.Fprintf(w, "deleted %s\n", args[0])
					return err
				})
			})
		},
	}
}

func newGatewayTokenCmd(g *clientFlags) *cobra.Command {
	var consumer, provider string
	var ttl time.Duration
	var scopes, roles []string
	cmd := &cobra.Command{
		Use:   "token --consumer <name> [--ttl 1h] [--scope s]... [--role r]...",
		Short: "Print a JWT for a consumer, signed with the cluster's token key",
		Long: `Print a JWT (EdDSA) for a consumer of the live configuration, signed by a
gateway node with the cluster's token key, with the issuer and first
audience of the jwt provider that has cluster_issuer: true:
  curl -H "Authorization: Bearer $(cairn gateway token --consumer demo)" ...`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if consumer == "" {
				return usageErrorf("--consumer is required")
			}
			req := &gatewaydv1.IssueTokenRequest{Consumer: consumer, Provider: provider, Scopes: scopes, Roles: roles}
			if ttl != 0 {
				req.Ttl = durationpb.New(ttl)
			}
			return runGateway(g, cmd, func(ctx context.Context, c *gatewayConn, w io.Writer) error {
				resp, err := c.admin.IssueToken(ctx, req)
				if err != nil {
					return queuedError("", err)
				}
				return g.printer(cmd).print(resp, func(w io.Writer) error {
					_, err := fmt.Fprintln(w, resp.GetToken())
					return err
				})
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&consumer, "consumer", "", "the consumer the token names (required)")
	fl.StringVar(&provider, "provider", "", "the jwt provider (default: the only one with cluster_issuer)")
	fl.DurationVar(&ttl, "ttl", 0, "lifetime (default 1h, at most 24h)")
	fl.StringSliceVar(&scopes, "scope", nil, "scopes to grant (repeatable)")
	fl.StringSliceVar(&roles, "role", nil, "roles to grant (repeatable)")
	return cmd
}

func newGatewayStatsCmd(g *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "stats",
		Short: "Print every gateway node's counters per route and upstream",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			eps, tc, err := g.target()
			if err != nil {
				return err
			}
			ctx, cancel := g.requestContext(cmd)
			defer cancel()
			w := cmd.OutOrStdout()
			var firstErr error
			for _, ep := range eps {
				conn, err := clusterconn.Dial(clusterconn.Config{Endpoints: []string{ep}, RequestTimeout: g.timeout, TLS: tc}, "gatewayd")
				if err != nil {
					return usageErrorf("--endpoints: %w", err)
				}
				resp, err := gatewaydv1.NewGatewayServiceClient(conn.ClientConn()).GetStats(ctx, &gatewaydv1.GetStatsRequest{})
				conn.Close()
				if err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "%s: %v\n", ep, err)
					if firstErr == nil {
						firstErr = err
					}
					continue
				}
				if err := printGatewayStats(g.printer(cmd), w, resp); err != nil {
					return err
				}
			}
			return firstErr
		},
	}
}

func printGatewayStats(p printer, w io.Writer, s *gatewaydv1.GetStatsResponse) error {
	return p.print(s, func(w io.Writer) error {
		fmt.Fprintf(w, "%s (config v%d)\n", s.GetNode(), s.GetConfigVersion())
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  ROUTE\tREQUESTS\t2XX\t4XX\t429\t5XX\t401\t403\tCACHE HIT/MISS\tFALLBACKS")
		for _, r := range s.GetRoutes() {
			rs := r.GetResponses()
			fmt.Fprintf(tw, "  %s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d/%d\t%d\n", r.GetRoute(), r.GetRequests(), rs["2xx"], rs["4xx"], rs["429"], rs["5xx"],
				r.GetUnauthorized(), r.GetForbidden(), r.GetCacheHits(), r.GetCacheMisses(), r.GetFallbacks())
		}
		fmt.Fprintln(tw, "  UPSTREAM\tBREAKER\tTARGETS\tEJECTED\tRETRIES")
		for _, u := range s.GetUpstreams() {
			ejected := 0
			for _, t := range u.GetTargets() {
				if t.GetEjected() {
					ejected++
				}
			}
			fmt.Fprintf(tw, "  %s\t%s\t%d\t%d\t%d\n", u.GetUpstream(), u.GetBreaker(), len(u.GetTargets()), ejected, u.GetRetries())
		}
		return tw.Flush()
	})
}
