package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The exit codes of every cairn command, listed in `cairn --help`. A command run
// under a lock, permit or leadership (`cairn lock acquire L -- cmd`) exits with
// that command's own status instead.
const (
	exitOK = 0
	// exitFailure: any error not classified below.
	exitFailure = 1
	// exitUsage: a bad flag, flag value or argument, or a value the server
	// refused as invalid (gRPC InvalidArgument or OutOfRange).
	exitUsage = 2
	// exitNotFound: what was asked for does not exist: a missing key (kv get of
	// one key, cache get, cache ttl), an election without a leader, gRPC NotFound.
	exitNotFound = 3
	// exitUnavailable: the service could not answer: no endpoint reachable, no
	// cluster to discover, no leader, a deadline that ran out (gRPC Unavailable
	// or DeadlineExceeded). A write that fails so may or may not have been
	// applied; the message says which.
	exitUnavailable = 4
	// exitConflict: not done because of the current state: a lock or permit held
	// by others (lock try, sem try, acquire after --wait), a condition that did
	// not hold (cache set --nx/--xx), gRPC FailedPrecondition, Aborted or
	// AlreadyExists. Trying again later may succeed.
	exitConflict = 5
	// exitLost: a lock, permit or leadership was lost while held; anything done
	// under it may have overlapped with the next holder.
	exitLost = 6
)

// exitCodesHelp is the exit code table of `cairn --help` and of the client
// command groups.
const exitCodesHelp = `Exit codes (every command):
  0  ok
  1  other error
  2  usage: bad flag or argument, or a value the server refused as invalid
  3  not found: missing key, cache miss, no leader of an election
  4  unavailable: no endpoint reachable, no cluster found, no leader, timed out
  5  conflict: lock or permit held by others, --nx/--xx condition not met
  6  lost: a lock, permit or leadership was lost while held
A command run under a lock, permit or leadership exits with its own status.`

// exitError carries a specific process exit code through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// withExit gives err the exit code code (nil stays nil).
func withExit(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}

// usageErrorf is a bad flag or argument: exit code exitUsage.
func usageErrorf(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// reasonExitCodes maps the stable reason codes of the error contract
// (errdetails.ErrorInfo.Reason in a gRPC status) to exit codes. A reason found
// here wins over the status code; reasons not listed fall back to it.
var reasonExitCodes = map[string]int{}

// exitCode classifies err into the exit code table above. It is the only place
// that does: an explicit exitError first, then the reason code of a gRPC status
// (reasonExitCodes), then its status code, then context errors.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if st, ok := status.FromError(err); ok && st.Code() != codes.Unknown {
		if code, ok := reasonExitCodes[statusReason(st)]; ok {
			return code
		}
		return grpcExitCode(st.Code())
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return exitUnavailable
	}
	return exitFailure
}

// statusReason returns the reason of the first detail of st that has one
// (errdetails.ErrorInfo), or "".
func statusReason(st *status.Status) string {
	for _, d := range st.Details() {
		if r, ok := d.(interface{ GetReason() string }); ok && r.GetReason() != "" {
			return r.GetReason()
		}
	}
	return ""
}

// grpcExitCode maps a gRPC status code to an exit code.
func grpcExitCode(c codes.Code) int {
	switch c {
	case codes.OK:
		return exitOK
	case codes.InvalidArgument, codes.OutOfRange:
		return exitUsage
	case codes.NotFound:
		return exitNotFound
	case codes.Unavailable, codes.DeadlineExceeded:
		return exitUnavailable
	case codes.FailedPrecondition, codes.Aborted, codes.AlreadyExists:
		return exitConflict
	}
	return exitFailure
}

// markUsageErrors makes every error that a command of the tree under root
// returns before its Run starts — flag parsing, argument counts, unknown
// commands, required and mutually exclusive flags, PersistentPreRunE checks —
// exit with exitUsage. It wraps each command's Args (which cobra runs after
// parsing the flags and before anything else) and checks the flag rules there
// too. Call it once the tree is complete.
func markUsageErrors(root *cobra.Command) {
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &exitError{code: exitUsage, err: err}
	})
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		check := c.Args
		switch {
		case check == nil && c.HasSubCommands():
			check = cobra.NoArgs // an unknown subcommand
		case check == nil:
			check = cobra.ArbitraryArgs
		}
		c.Args = func(cmd *cobra.Command, args []string) error {
			err := check(cmd, args)
			if err == nil {
				err = cmd.ValidateRequiredFlags()
			}
			if err == nil {
				err = cmd.ValidateFlagGroups()
			}
			return asUsage(cmd, err)
		}
		if !c.Runnable() && c.HasSubCommands() {
			// A group: with no subcommand, its help; check rejects the rest.
			c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
		}
		if pre := c.PersistentPreRunE; pre != nil {
			c.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
				return asUsage(nil, pre(cmd, args))
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// asUsage gives err exitUsage unless it already has an exit code; with cmd, the
// message ends with the command's usage line.
func asUsage(cmd *cobra.Command, err error) error {
	var ee *exitError
	if err == nil || errors.As(err, &ee) {
		return err
	}
	if cmd != nil {
		err = fmt.Errorf("%w (usage: %s)", err, cmd.UseLine())
	}
	return &exitError{code: exitUsage, err: err}
}
