// Command cairn is the one binary of the project: every daemon, every client, the
// local cluster harness and the benchmarks are its subcommands.
//
//	cairn raftkv --id raftkv-1 ...   run a raftkv node
//	cairn kv put k v                  talk to raftkv
//	cairn cluster up                  run the local cluster
//
// Files say what they hold: daemon_* the daemon subcommands, client_* the
// client command groups (kv, cache, lock, sem, election), harness_* `cairn
// cluster`, bench_* `cairn bench`, and cli_* what every command shares: the
// client flags (cli_flags.go), where client connections are made
// (cli_dial.go), the printer (cli_output.go), the exit codes (cli_exit.go),
// value input (cli_value.go), argument parsing (cli_args.go) and --version
// (cli_version.go).
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run runs the command line args (without the program name) and returns the
// process exit code; errors go to stderr prefixed by "cairn: ".
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCmd()
	root.SetArgs(negativeNumbersAsArgs(root, args))
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(stderr, "cairn:", err)
		return exitCode(err)
	}
	return exitOK
}

// newRootCmd builds the whole command tree.
func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "cairn",
		Short: "cairn: the building blocks of system design, for real",
		Long: `cairn: the building blocks of system design, for real.

Daemons (raftkv, lockd, cached, queued, streamd, blobd) are subcommands of
this one binary, so are their clients (kv, sql, cache, lock, sem, election, queue,
topic, stream, blob), the local cluster harness (cluster) and the benchmarks
(bench).

` + exitCodesHelp,
		Version:       version(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.AddCommand(
		newRaftKVCmd(),
		newLockdCmd(),
		newCachedCmd(),
		newQueuedCmd(),
		newStreamdCmd(),
		newBlobdCmd(),
		newSearchdCmd(),
		newGatewaydCmd(),
		newLbdCmd(),
		newKVCmd(),
		newCacheCmd(),
		newLockCmd(),
		newSemCmd(),
		newElectionCmd(),
		newQueueCmd(),
		newTopicCmd(),
		newStreamCmd(),
		newBlobCmd(),
		newSearchCmd(),
		newGatewayCmd(),
		newCDNCmd(),
		newLBCmd(),
		newSQLCmd(),
		newClusterCmd(),
		newBenchCmd(),
	)
	markUsageErrors(root)
	return root
}
