// Command cairn is the one binary of the project: every daemon, every client, the
// local cluster harness and the benchmarks are its subcommands.
//
//	cairn raftkv --id raftkv-1 ...   run a raftkv node
//	cairn kv put k v                  talk to raftkv
//	cairn cluster up                  run the local cluster
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "cairn:", err)
		os.Exit(exitCode(err))
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "cairn",
		Short:         "cairn: the building blocks of system design, for real",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(
		newRaftKVCmd(),
		newLockdCmd(),
		newCachedCmd(),
		newKVCmd(),
		newCacheCmd(),
		newLockCmd(),
		newSemCmd(),
		newElectionCmd(),
		newClusterCmd(),
		newBenchCmd(),
	)
	return root
}

// exitError carries a specific process exit code through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func exitCode(err error) int {
	if e, ok := err.(*exitError); ok {
		return e.code
	}
	return 1
}
