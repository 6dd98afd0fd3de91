package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
	"cairn.dev/cairn/raftkv/client"
)

func newKVTxnCmd(g *kvGlobals) *cobra.Command {
	var ifs, thens, elses []string
	cmd := &cobra.Command{
		Use:   "txn --if COMPARE... --then OP... [--else OP...]",
		Short: "Run a transaction: if every compare holds run the --then ops, else the --else ops",
		Long: `Run a transaction atomically, as one revision.

A compare is TARGET(KEY) OP VALUE:
  TARGET  value, version, create, mod, lease, or changed (the revision of the
          key's latest put or delete, deletes included)
  KEY     raw up to ')' or a Go-quoted string: value("a key)")
  OP      =, ==, !=, < or >
  VALUE   a quoted string for value ("v" or ` + "`v`" + `), or a bare word;
          an integer for the others (0x... for hex)
An op is one of:
  put KEY VALUE [--lease=ID]
  put KEY --file=PATH [--lease=ID]   the value is the file's content (--file=-: stdin,
                                     for at most one op)
  get KEY [--prefix|--from-key|--range-end=END]
  del KEY [--prefix|--from-key|--range-end=END]
with words quoted like a shell: "two words", 'raw', "esc\"aped".

Example:
  cairn kv txn --if 'value(k) = "v"' --if 'mod(k) > 3' --then 'put k v2' --then 'get k' --else 'del k'

Prints SUCCESS or FAILURE, then the result of each op run (OK for a put, the key
and value lines for a get, the number deleted for a del).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var cmps []client.Cmp
			for _, s := range ifs {
				c, err := parseCompare(s)
				if err != nil {
					return usageErrorf("--if %q: %w", s, err)
				}
				cmps = append(cmps, c)
			}
			readFile := func(path string) ([]byte, error) {
				return (&valueInput{file: path}).read(cmd, nil, 0)
			}
			thenOps, err := parseTxnOps("--then", thens, readFile)
			if err != nil {
				return err
			}
			elseOps, err := parseTxnOps("--else", elses, readFile)
			if err != nil {
				return err
			}
			return g.run(cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				resp, err := c.Txn(ctx).If(cmps...).Then(thenOps...).Else(elseOps...).Commit()
				if err != nil {
					return err
				}
				if g.json() {
					return writeJSON(w, resp)
				}
				printTxn(w, resp)
				return nil
			})
		},
	}
	cmd.Flags().StringArrayVar(&ifs, "if", nil, `a compare, e.g. 'value(k) = "v"' (repeatable; all must hold)`)
	cmd.Flags().StringArrayVar(&thens, "then", nil, "an op run when the compares hold (repeatable)")
	cmd.Flags().StringArrayVar(&elses, "else", nil, "an op run otherwise (repeatable)")
	return cmd
}

func printTxn(w io.Writer, resp *raftkvv1.TxnResponse) {
	if resp.GetSucceeded() {
		fmt.Fprintln(w, "SUCCESS")
	} else {
		fmt.Fprintln(w, "FAILURE")
	}
	for _, r := range resp.GetResponses() {
		fmt.Fprintln(w)
		switch r := r.GetResponse().(type) {
		case *raftkvv1.ResponseOp_ResponsePut:
			fmt.Fprintln(w, "OK")
		case *raftkvv1.ResponseOp_ResponseRange:
			printKVs(w, r.ResponseRange.GetKvs(), false)
		case *raftkvv1.ResponseOp_ResponseDeleteRange:
			fmt.Fprintln(w, r.ResponseDeleteRange.GetDeleted())
		}
	}
}

// parseTxnOps parses the ops of flag; readFile reads the value of a put with
// --file=PATH.
func parseTxnOps(flag string, specs []string, readFile func(path string) ([]byte, error)) ([]client.Op, error) {
	ops := make([]client.Op, 0, len(specs))
	for _, s := range specs {
		op, err := parseTxnOp(s, readFile)
		if err != nil {
			return nil, usageErrorf("%s %q: %w", flag, s, err)
		}
		ops = append(ops, op)
	}
	return ops, nil
}

// compareTargets maps the target names of a compare expression to constructors.
var compareTargets = map[string]func(string) client.Cmp{
	"value":   client.Value,
	"version": client.Version,
	"create":  client.CreateRevision,
	"mod":     client.ModRevision,
	"lease":   client.LeaseValue,
	"changed": client.Changed,
}

// parseCompare parses TARGET(KEY) OP VALUE, see `cairn kv txn --help`.
func parseCompare(s string) (client.Cmp, error) {
	rest := strings.TrimSpace(s)
	open := strings.IndexByte(rest, '(')
	if open < 0 {
		return client.Cmp{}, errors.New(`want TARGET(KEY) OP VALUE, e.g. value(k) = "v"`)
	}
	name := strings.ToLower(strings.TrimSpace(rest[:open]))
	mk, ok := compareTargets[name]
	if !ok {
		return client.Cmp{}, fmt.Errorf("unknown target %q (want value, version, create, mod, lease or changed)", name)
	}
	rest = rest[open+1:]
	var key string
	if strings.HasPrefix(rest, `"`) || strings.HasPrefix(rest, "`") {
		q, err := strconv.QuotedPrefix(rest)
		if err != nil {
			return client.Cmp{}, fmt.Errorf("bad quoted key: %w", err)
		}
		key, _ = strconv.Unquote(q)
		rest = strings.TrimLeft(rest[len(q):], " \t")
		if !strings.HasPrefix(rest, ")") {
			return client.Cmp{}, errors.New("missing ')' after the key")
		}
		rest = rest[1:]
	} else {
		end := strings.IndexByte(rest, ')')
		if end < 0 {
			return client.Cmp{}, errors.New("missing ')' after the key")
		}
		key, rest = rest[:end], rest[end+1:]
	}
	if key == "" {
		return client.Cmp{}, errors.New("empty key")
	}
	rest = strings.TrimSpace(rest)
	var op string
	for _, candidate := range []string{"==", "!=", "=", "<", ">"} {
		if strings.HasPrefix(rest, candidate) {
			op = candidate
			break
		}
	}
	if op == "" {
		return client.Cmp{}, fmt.Errorf("want an operator =, !=, < or > after %s(%s)", name, key)
	}
	rest = strings.TrimSpace(rest[len(op):])
	if rest == "" {
		return client.Cmp{}, errors.New("missing value after the operator")
	}
	if strings.ContainsAny(rest[:1], "=!<>") {
		return client.Cmp{}, fmt.Errorf("unexpected %q after %q (operators are =, !=, < and >)", rest[:1], op)
	}
	var v any
	if name == "value" {
		if rest[0] == '"' || rest[0] == '`' {
			q, err := strconv.QuotedPrefix(rest)
			if err != nil {
				return client.Cmp{}, fmt.Errorf("bad quoted value: %w", err)
			}
			if strings.TrimSpace(rest[len(q):]) != "" {
				return client.Cmp{}, fmt.Errorf("unexpected %q after the value", rest[len(q):])
			}
			val, _ := strconv.Unquote(q)
			v = val
		} else {
			if strings.ContainsAny(rest, " \t\"`") {
				return client.Cmp{}, fmt.Errorf("value %q: quote a value that has spaces or quotes", rest)
			}
			v = rest
		}
	} else {
		n, err := strconv.ParseInt(rest, 0, 64)
		if err != nil {
			return client.Cmp{}, fmt.Errorf("%s wants an integer, got %q", name, rest)
		}
		v = n
	}
	c := client.Compare(mk(key), op, v)
	return c, c.Err()
}

// formatCompare prints a compare in the syntax parseCompare reads.
func formatCompare(c *raftkvv1.Compare) string {
	var name string
	switch c.GetTarget() {
	case raftkvv1.Compare_COMPARE_TARGET_VALUE:
		name = "value"
	case raftkvv1.Compare_COMPARE_TARGET_VERSION:
		name = "version"
	case raftkvv1.Compare_COMPARE_TARGET_CREATE:
		name = "create"
	case raftkvv1.Compare_COMPARE_TARGET_MOD:
		name = "mod"
	case raftkvv1.Compare_COMPARE_TARGET_LEASE:
		name = "lease"
	case raftkvv1.Compare_COMPARE_TARGET_CHANGED:
		name = "changed"
	}
	op := map[raftkvv1.Compare_CompareResult]string{
		raftkvv1.Compare_COMPARE_RESULT_EQUAL:     "=",
		raftkvv1.Compare_COMPARE_RESULT_NOT_EQUAL: "!=",
		raftkvv1.Compare_COMPARE_RESULT_LESS:      "<",
		raftkvv1.Compare_COMPARE_RESULT_GREATER:   ">",
	}[c.GetResult()]
	var v string
	switch u := c.GetTargetUnion().(type) {
	case *raftkvv1.Compare_Value:
		v = strconv.Quote(string(u.Value))
	case *raftkvv1.Compare_Version:
		v = strconv.FormatInt(u.Version, 10)
	case *raftkvv1.Compare_CreateRevision:
		v = strconv.FormatInt(u.CreateRevision, 10)
	case *raftkvv1.Compare_ModRevision:
		v = strconv.FormatInt(u.ModRevision, 10)
	case *raftkvv1.Compare_Lease:
		v = strconv.FormatInt(u.Lease, 10)
	}
	return fmt.Sprintf("%s(%s) %s %s", name, strconv.Quote(string(c.GetKey())), op, v)
}

// parseTxnOp parses one --then/--else op, see `cairn kv txn --help`; readFile
// reads the value of a put with --file=PATH.
func parseTxnOp(s string, readFile func(path string) ([]byte, error)) (client.Op, error) {
	words, err := splitWords(s)
	if err != nil {
		return client.Op{}, err
	}
	if len(words) == 0 {
		return client.Op{}, errors.New("empty op (want put, get or del)")
	}
	verb, args := strings.ToLower(words[0]), words[1:]
	var (
		pos   []string
		opts  []client.OpOption
		value []byte
		file  bool
	)
	for _, a := range args {
		if !strings.HasPrefix(a, "--") {
			pos = append(pos, a)
			continue
		}
		name, val, hasVal := strings.Cut(a[2:], "=")
		switch {
		case name == "prefix" && !hasVal && verb != "put":
			opts = append(opts, client.WithPrefix())
		case name == "from-key" && !hasVal && verb != "put":
			opts = append(opts, client.WithFromKey())
		case name == "range-end" && hasVal && verb != "put":
			opts = append(opts, client.WithRange(val))
		case name == "file" && hasVal && val != "" && verb == "put" && !file:
			b, err := readFile(val)
			if err != nil {
				return client.Op{}, err
			}
			value, file = b, true
		case name == "lease" && hasVal && verb == "put":
			id, err := parseLeaseID(val)
			if err != nil {
				return client.Op{}, fmt.Errorf("--lease: %w", err)
			}
			opts = append(opts, client.WithLease(id))
		default:
			return client.Op{}, fmt.Errorf("unknown option %q for %s", a, verb)
		}
	}
	switch verb {
	case "put":
		switch {
		case file && len(pos) == 1:
			return client.OpPut(pos[0], string(value), opts...), nil
		case file:
			return client.Op{}, fmt.Errorf("put with --file wants KEY alone, got %d words", len(pos))
		case len(pos) != 2:
			return client.Op{}, fmt.Errorf("put wants KEY VALUE, got %d words", len(pos))
		}
		return client.OpPut(pos[0], pos[1], opts...), nil
	case "get", "del", "delete":
		if len(pos) != 1 {
			return client.Op{}, fmt.Errorf("%s wants one KEY, got %d words", verb, len(pos))
		}
		if verb == "get" {
			return client.OpGet(pos[0], opts...), nil
		}
		return client.OpDelete(pos[0], opts...), nil
	}
	return client.Op{}, fmt.Errorf("unknown op %q (want put, get or del)", verb)
}

// splitWords splits s at blanks, honouring "double-quoted" (Go escapes) and
// 'single-quoted' (raw) words.
func splitWords(s string) ([]string, error) {
	var (
		words  []string
		cur    strings.Builder
		inWord bool
	)
	for i := 0; i < len(s); {
		switch ch := s[i]; {
		case ch == ' ' || ch == '\t' || ch == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
			i++
		case ch == '"':
			q, err := strconv.QuotedPrefix(s[i:])
			if err != nil {
				return nil, fmt.Errorf("bad quoted word at %q", s[i:])
			}
			u, _ := strconv.Unquote(q)
			cur.WriteString(u)
			inWord = true
			i += len(q)
		case ch == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("unterminated ' at %q", s[i:])
			}
			cur.WriteString(s[i+1 : i+1+end])
			inWord = true
			i += end + 2
		default:
			_, size := utf8.DecodeRuneInString(s[i:])
			cur.WriteString(s[i : i+size])
			inWord = true
			i += size
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
