package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// negativeNumber matches a word that is a negative number or duration (-5,
// -0x10, -1.5, -30s), never a flag: no cairn flag has a digit as shorthand.
var negativeNumber = regexp.MustCompile(`^-[0-9.]`)

// negativeNumbersAsArgs rewrites a command line so that negative numbers given
// as arguments reach the command as arguments (and its validation names them)
// instead of failing as unknown shorthand flags: `kv lease grant -5` becomes
// `kv lease grant -- -5`. Each negative number, and every argument after it,
// moves behind a "--" at the end, in order; flags stay in front, with their
// values even when those are negative (`cache incr k --by -3`). A command line
// that already has a "--" is returned as it is, so that "--" keeps its meaning
// (the command run by `lock acquire`).
func negativeNumbersAsArgs(root *cobra.Command, args []string) []string {
	if !hasNegative(args) {
		return args
	}
	for _, a := range args {
		if a == "--" {
			return args
		}
	}
	cmd, _, err := root.Find(args)
	if err != nil {
		return args
	}
	flags := pflag.NewFlagSet("all", pflag.ContinueOnError)
	flags.AddFlagSet(cmd.Flags())
	flags.AddFlagSet(cmd.InheritedFlags())
	var front, back []string
	expectValue := false
	for _, a := range args {
		neg := negativeNumber.MatchString(a)
		switch {
		case expectValue:
			front = append(front, a)
			expectValue = false
		case strings.HasPrefix(a, "-") && a != "-" && !neg: // a flag
			front = append(front, a)
			expectValue = takesValue(flags, a)
		case neg || len(back) > 0:
			back = append(back, a)
		default:
			front = append(front, a)
		}
	}
	if len(back) == 0 {
		return args
	}
	return append(append(front, "--"), back...)
}

func hasNegative(args []string) bool {
	for _, a := range args {
		if negativeNumber.MatchString(a) {
			return true
		}
	}
	return false
}

// takesValue reports whether word is a flag of flags whose value is the next
// word: --name or -n without "=" or an attached value, of a flag that is not a
// boolean-like one (NoOptDefVal set).
func takesValue(flags *pflag.FlagSet, word string) bool {
	var f *pflag.Flag
	switch {
	case strings.HasPrefix(word, "--"):
		if strings.Contains(word, "=") {
			return false
		}
		f = flags.Lookup(word[2:])
	case strings.HasPrefix(word, "-") && len(word) == 2:
		f = flags.ShorthandLookup(word[1:])
	}
	return f != nil && f.NoOptDefVal == ""
}

// parseLeaseID reads a lease id: decimal as cairn prints it, or hex with 0x as
// etcd-style tools print it. Anything else ("abc", "12ab") is an error.
func parseLeaseID(s string) (int64, error) {
	t := strings.TrimSpace(s)
	base := 10
	if strings.HasPrefix(t, "0x") || strings.HasPrefix(t, "0X") {
		t, base = t[2:], 16
	}
	id, err := strconv.ParseInt(t, base, 64)
	if err != nil {
		return 0, fmt.Errorf("bad lease id %q: want decimal, or hex with 0x", s)
	}
	return id, nil
}

// parseSeconds reads a TTL in whole seconds: a Go duration ("30s", "1m30s",
// "2h") or, for compatibility with etcdctl, a plain integer of seconds ("30").
// It must be positive and a whole number of seconds.
func parseSeconds(what, s string) (int64, error) {
	var d time.Duration
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n > int64(time.Duration(1<<63-1)/time.Second) {
			return 0, usageErrorf("%s: %q is too long", what, s)
		}
		d = time.Duration(n) * time.Second
	} else if d, err = time.ParseDuration(s); err != nil {
		return 0, usageErrorf("%s: want a duration such as 30s or 5m (or whole seconds), got %q", what, s)
	}
	switch {
	case d <= 0:
		return 0, usageErrorf("%s: must be positive, got %s", what, s)
	case d%time.Second != 0:
		return 0, usageErrorf("%s: must be whole seconds, got %s", what, s)
	}
	return int64(d / time.Second), nil
}
