package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// maxInputValueBytes bounds what the CLI reads from stdin or a --file for one
// value: above every server's limit (raftkv's max_value_bytes is 1 MiB by
// default, 8 MiB at most), so the server names its own limit in the error, and
// small enough that a mistaken `< /dev/zero` cannot exhaust memory.
const maxInputValueBytes = 64 << 20

// valueInput is how a command that takes a value gets it: the <value> argument
// itself, "-" for everything on stdin, or --file PATH (then without a <value>
// argument). A literal "-" is stored with --file or from stdin. Every command
// that takes a value uses one: kv put, cache set, election campaign.
type valueInput struct {
	file string
}

// addValueInput registers --file on cmd.
func addValueInput(cmd *cobra.Command) *valueInput {
	v := &valueInput{}
	cmd.Flags().StringVar(&v.file, "file", "", `read the value from this file instead of the <value> argument ("-" for stdin)`)
	return v
}

// valueArgs is the Args check of a command whose arguments are n names followed
// by <value>, which --file replaces.
func (v *valueInput) valueArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if cmd.Flags().Changed("file") {
			if len(args) != n {
				return fmt.Errorf("with --file, want %d argument(s) before it and no <value>, got %d", n, len(args))
			}
			return nil
		}
		if len(args) != n+1 {
			return fmt.Errorf("want %d argument(s), got %d (or give --file PATH, or <value> - to read stdin)", n+1, len(args))
		}
		return nil
	}
}

// read returns the value: from --file, from stdin if the value argument
// (args[n]) is "-", else that argument.
func (v *valueInput) read(cmd *cobra.Command, args []string, n int) ([]byte, error) {
	switch {
	case v.file == "-":
		return readValue(cmd.InOrStdin(), "stdin")
	case v.file != "":
		f, err := os.Open(v.file)
		if err != nil {
			return nil, usageErrorf("--file: %w", err)
		}
		defer f.Close()
		return readValue(f, v.file)
	case args[n] == "-":
		return readValue(cmd.InOrStdin(), "stdin")
	}
	return []byte(args[n]), nil
}

// readValue reads all of r, up to maxInputValueBytes.
func readValue(r io.Reader, what string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxInputValueBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read the value from %s: %w", what, err)
	}
	if len(b) > maxInputValueBytes {
		return nil, usageErrorf("the value from %s is larger than %d bytes", what, maxInputValueBytes)
	}
	return b, nil
}
