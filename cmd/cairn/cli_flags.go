package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"cairn.dev/cairn/cluster"
)

// defaultClientTimeout is the default --timeout of every client command.
const defaultClientTimeout = 10 * time.Second

// Values of --output.
const (
	outputTable = "table"
	outputJSON  = "json"
)

// clientFlags are the flags every client command group (kv, cache, lock, sem,
// election) shares, with the same names, meanings and defaults. addClientFlags
// registers them as persistent flags of the group; the group's subcommands read
// them after cobra has parsed the command line.
type clientFlags struct {
	// service is the cluster service the group talks to: raftkv, lockd, cached.
	service    string
	endpoints  []string
	clusterDir string
	output     string
	timeout    time.Duration
	tls        *clientTLSFlags
}

// addClientFlags registers the client flags on cmd, a client command group
// talking to service, and makes cmd check them before any subcommand runs
// (chaining a PersistentPreRunE already set).
func addClientFlags(cmd *cobra.Command, service string) *clientFlags {
	g := &clientFlags{service: service}
	pf := cmd.PersistentFlags()
	pf.StringSliceVar(&g.endpoints, "endpoints", nil, "comma-separated host:port of "+service+" nodes (overrides cluster discovery)")
	pf.StringVar(&g.clusterDir, "cluster-dir", "", "cluster directory to discover endpoints from (default $"+cluster.EnvDir+" or "+cluster.DefaultDir+")")
	pf.StringVarP(&g.output, "output", "o", outputTable, "output format: table or json")
	pf.DurationVar(&g.timeout, "timeout", defaultClientTimeout, "deadline of each request (commands that wait for a lock or run until stopped say how it applies)")
	g.tls = addClientTLSFlags(pf)
	next := cmd.PersistentPreRunE
	cmd.PersistentPreRunE = func(c *cobra.Command, args []string) error {
		if err := g.validate(); err != nil {
			return err
		}
		if next != nil {
			return next(c, args)
		}
		return nil
	}
	return g
}

// clientFlagsHelp is the paragraph on discovery, output and exit codes that
// every client command group ends its help with.
func clientFlagsHelp(service string) string {
	return `Endpoints come from --endpoints, else from the cluster state file of the local
harness (--cluster-dir, $` + cluster.EnvDir + `, or ` + cluster.DefaultDir + `): the nodes of its ` + service + ` service,
so after 'make cluster' no flag is needed.

--output json prints one JSON object per result (per line for streams):
snake_case names, numbers as numbers, keys and values as UTF-8 strings, or as
base64 with "<name>_encoding": "base64" beside them when they are not UTF-8.

` + exitCodesHelp
}

// validate checks the flags; its errors are usage errors.
func (g *clientFlags) validate() error {
	switch g.output {
	case outputTable, outputJSON:
	default:
		return usageErrorf("--output: want table or json, got %q", g.output)
	}
	if g.timeout <= 0 {
		return usageErrorf("--timeout: must be positive, got %v", g.timeout)
	}
	return nil
}

// json reports whether --output is json.
func (g *clientFlags) json() bool { return g.output == outputJSON }

// printer returns the printer for --output writing to the command's stdout.
func (g *clientFlags) printer(cmd *cobra.Command) printer {
	return printer{w: cmd.OutOrStdout(), json: g.json()}
}

// resolveEndpoints returns --endpoints, or the endpoints of the group's service
// in the local cluster's state file.
func (g *clientFlags) resolveEndpoints() ([]string, error) {
	return serviceEndpoints(g.endpoints, g.clusterDir, g.service)
}

// requestContext bounds a one-shot command by --timeout and by SIGINT/SIGTERM.
func (g *clientFlags) requestContext(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	ctx, stop := signalContext(cmd)
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	return ctx, func() { cancel(); stop() }
}

// signalContext ends on SIGINT or SIGTERM, for commands that run until stopped.
func signalContext(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	return signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
}

// runWith opens a client with open, runs f under --timeout and Ctrl-C with the
// command's stdout, and closes the client.
func runWith[C io.Closer](g *clientFlags, cmd *cobra.Command, open func() (C, error), f func(ctx context.Context, c C, w io.Writer) error) error {
	c, err := open()
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := g.requestContext(cmd)
	defer cancel()
	return f(ctx, c, cmd.OutOrStdout())
}

// serviceEndpoints returns the non-empty entries of flagValue, or else the gRPC
// endpoints of service's nodes in the cluster state file found through
// clusterDir (cluster.ResolveDir). Every client command (kv, bench, lock, sem,
// election, cache) discovers its service through it. A failed discovery exits
// with exitUnavailable: there is no cluster to talk to.
func serviceEndpoints(flagValue []string, clusterDir, service string) ([]string, error) {
	if eps := nonEmpty(flagValue); len(eps) > 0 {
		return eps, nil
	}
	dir, err := cluster.ResolveDir(clusterDir)
	if err != nil {
		return nil, usageErrorf("--cluster-dir: %w", err)
	}
	st, err := cluster.LoadState(dir)
	if err != nil {
		return nil, withExit(exitUnavailable, fmt.Errorf("no --endpoints given and discovery failed: %w", err))
	}
	eps := st.Endpoints(service)
	if len(eps) == 0 {
		return nil, withExit(exitUnavailable, fmt.Errorf("no --endpoints given and the cluster in %s has no %s nodes (start it with 'cairn cluster up --services %s,…')", dir, service, service))
	}
	return eps, nil
}

// nonEmpty trims the values and drops empty ones.
func nonEmpty(values []string) []string {
	var out []string
	for _, v := range values {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
