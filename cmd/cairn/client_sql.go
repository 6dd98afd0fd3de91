package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/spf13/cobra"

	"cairn.dev/cairn/cluster"
)

// sqlFlags are the flags of `cairn sql`.
type sqlFlags struct {
	commands   []string
	files      []string
	url        string
	clusterDir string
	output     string
	timeout    time.Duration
}

// Values of --output besides table and json.
const outputCSV = "csv"

// newSQLCmd is `cairn sql`: a PostgreSQL client for the SQL layer of raftkv.
func newSQLCmd() *cobra.Command {
	f := &sqlFlags{}
	cmd := &cobra.Command{
		Use:   "sql",
		Short: "Run SQL against raftkv's PostgreSQL endpoint: -c, -f, or an interactive shell",
		Long: `Run SQL against the PostgreSQL endpoint every raftkv node serves.

  cairn sql -c "SELECT count(*) FROM orders"     one query string (several statements
                                                  separated by ';' run in one round trip)
  cairn sql -f schema.sql                        a script, statement by statement
  cairn sql                                      an interactive shell on a terminal
                                                  (statements end with ';', \q quits);
                                                  a script read from stdin otherwise
  cairn sql url                                  the libpq URL, for psql "$(cairn sql url)"

The connection comes from --url, else from the local cluster (--cluster-dir,
$` + cluster.EnvDir + `, or ` + cluster.DefaultDir + `): every raftkv node's SQL port, tried in order,
over mutual TLS with the cluster's client certificate, as user ` + cluster.SQLUser + `.
-c and -f may be repeated; they run in the order given and stop at the first
error, which is printed as psql prints it, with its SQLSTATE.

--output table (default) prints aligned columns as psql does; csv prints a
header line and rows (NULL is empty); json prints one JSON object per row
(numbers and booleans as JSON values, jsonb as JSON, NULL as null) and one
{"command": tag} object per statement that returns no rows.

Exit codes: 0 ok; 1 other SQL error; 2 usage, syntax or a bad value (SQLSTATE
classes 42, 22, 0A); 4 unavailable (no node reachable, class 08, 57); 5 conflict
(constraint violations, class 23; serialization failures, class 40).`,
		Args: cobra.NoArgs,
		PreRunE: func(*cobra.Command, []string) error {
			switch f.output {
			case outputTable, outputJSON, outputCSV:
			default:
				return usageErrorf("--output: want table, json or csv, got %q", f.output)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error { return runSQL(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringArrayVarP(&f.commands, "command", "c", nil, "run this query string (repeatable)")
	fl.StringArrayVarP(&f.files, "file", "f", nil, "run the statements of this file, '-' for stdin (repeatable)")
	fl.StringVar(&f.url, "url", "", "PostgreSQL URL to connect to (default: the local cluster's, see 'cairn sql url')")
	fl.StringVar(&f.clusterDir, "cluster-dir", "", "cluster directory (default $"+cluster.EnvDir+" or "+cluster.DefaultDir+")")
	fl.StringVarP(&f.output, "output", "o", outputTable, "output format: table, json or csv")
	fl.DurationVar(&f.timeout, "connect-timeout", 10*time.Second, "how long to try the nodes before giving up")
	cmd.AddCommand(newSQLURLCmd(f))
	return cmd
}

// newSQLURLCmd is `cairn sql url`.
func newSQLURLCmd(f *sqlFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "url",
		Short: "Print the libpq URL of the cluster's SQL endpoints, for psql \"$(cairn sql url)\"",
		Long: `Print the libpq URL of the local cluster's SQL endpoints: every raftkv node's
SQL port as a host list (psql, pgx and libpq try them in order), user ` + cluster.SQLUser + `,
database ` + cluster.SQLDatabase + `, and on a TLS cluster sslmode=verify-full with the cluster's
CA, client certificate and key.

  psql "$(cairn sql url)" -c "SELECT 1"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			u, err := f.resolveURL()
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), u)
			return nil
		},
	}
}

// resolveURL returns --url or the local cluster's SQL URL.
func (f *sqlFlags) resolveURL() (string, error) {
	if f.url != "" {
		return f.url, nil
	}
	dir, err := cluster.ResolveDir(f.clusterDir)
	if err != nil {
		return "", usageErrorf("--cluster-dir: %w", err)
	}
	st, err := cluster.LoadState(dir)
	if err != nil {
		return "", withExit(exitUnavailable, fmt.Errorf("no --url given and discovery failed: %w", err))
	}
	u := st.SQLURL()
	if u == "" {
		return "", withExit(exitUnavailable, fmt.Errorf("no --url given and the cluster in %s has no raftkv node with a SQL port (start it with 'cairn cluster up --services raftkv,…')", dir))
	}
	return u, nil
}

// runSQL connects and runs -c, -f, or the shell.
func runSQL(cmd *cobra.Command, f *sqlFlags) error {
	u, err := f.resolveURL()
	if err != nil {
		return err
	}
	ctx, stop := signalContext(cmd)
	defer stop()
	cfg, err := pgconn.ParseConfig(u)
	if err != nil {
		return usageErrorf("--url: %w", err)
	}
	cfg.ConnectTimeout = f.timeout
	conn, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		return withExit(exitUnavailable, fmt.Errorf("connect: %w", err))
	}
	defer conn.Close(context.Background())
	out := newSQLPrinter(cmd.OutOrStdout(), f.output)
	if len(f.commands) == 0 && len(f.files) == 0 {
		in := cmd.InOrStdin()
		if file, ok := in.(*os.File); ok && isTerminal(file) {
			return sqlShell(ctx, conn, in, cmd.ErrOrStderr(), out)
		}
		return runSQLScript(ctx, conn, in, out)
	}
	for _, c := range f.commands {
		if err := execSQL(ctx, conn, c, out); err != nil {
			return err
		}
	}
	for _, name := range f.files {
		if err := runSQLFile(ctx, conn, name, cmd.InOrStdin(), out); err != nil {
			return err
		}
	}
	return nil
}

// runSQLFile runs the statements of the file name ("-" for stdin).
func runSQLFile(ctx context.Context, conn *pgconn.PgConn, name string, stdin io.Reader, out *sqlPrinter) error {
	if name == "-" {
		return runSQLScript(ctx, conn, stdin, out)
	}
	fh, err := os.Open(name)
	if err != nil {
		return usageErrorf("--file: %w", err)
	}
	defer fh.Close()
	return runSQLScript(ctx, conn, fh, out)
}

// runSQLScript runs a script statement by statement, stopping at the first error.
func runSQLScript(ctx context.Context, conn *pgconn.PgConn, r io.Reader, out *sqlPrinter) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	for _, stmt := range splitSQL(string(b)) {
		if err := execSQL(ctx, conn, stmt, out); err != nil {
			return err
		}
	}
	return nil
}

// sqlShell is the interactive shell: it reads statements ending with ';',
// runs each, and keeps going after errors (printing them).
func sqlShell(ctx context.Context, conn *pgconn.PgConn, in io.Reader, errw io.Writer, out *sqlPrinter) error {
	fmt.Fprintf(errw, "cairn sql (server %s). End statements with ';'. \\q quits, \\? helps.\n", conn.ParameterStatus("server_version"))
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var buf strings.Builder
	prompt := func() {
		if buf.Len() == 0 {
			fmt.Fprint(errw, "cairn=> ")
		} else {
			fmt.Fprint(errw, "cairn-> ")
		}
	}
	for prompt(); sc.Scan(); prompt() {
		line := sc.Text()
		if buf.Len() == 0 {
			switch strings.TrimSpace(line) {
			case `\q`, "quit", "exit":
				return nil
			case `\?`, "help":
				fmt.Fprintln(errw, `Statements end with ';' (several lines are fine). \q quits. Ctrl-C cancels a running statement.`)
				continue
			case "":
				continue
			}
		}
		buf.WriteString(line)
		buf.WriteByte('\n')
		if !sqlComplete(buf.String()) {
			continue
		}
		text := buf.String()
		buf.Reset()
		if err := execSQL(ctx, conn, text, out); err != nil {
			if conn.IsClosed() {
				return err
			}
			fmt.Fprintln(errw, err)
		}
	}
	return sc.Err()
}

// execSQL sends one query string (simple protocol: several statements run in
// one round trip) and prints each result; a SQL error becomes an exit error.
func execSQL(ctx context.Context, conn *pgconn.PgConn, text string, out *sqlPrinter) error {
	mrr := conn.Exec(ctx, text)
	for mrr.NextResult() {
		rr := mrr.ResultReader()
		fields := rr.FieldDescriptions()
		if len(fields) > 0 {
			if err := out.begin(fields); err != nil {
				return err
			}
		}
		for rr.NextRow() {
			if err := out.row(rr.Values()); err != nil {
				return err
			}
		}
		tag, err := rr.Close()
		if err != nil {
			mrr.Close()
			return sqlExitError(err)
		}
		if err := out.end(len(fields) > 0, tag.String()); err != nil {
			return err
		}
	}
	if err := mrr.Close(); err != nil {
		return sqlExitError(err)
	}
	return nil
}

// sqlExitError formats a server error as psql does and picks the exit code
// from its SQLSTATE class.
func sqlExitError(err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		if pgconn.SafeToRetry(err) || pgconn.Timeout(err) {
			return withExit(exitUnavailable, err)
		}
		return withExit(exitUnavailable, fmt.Errorf("connection: %w", err))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s:  %s (SQLSTATE %s)", pe.Severity, pe.Message, pe.Code)
	if pe.Detail != "" {
		fmt.Fprintf(&b, "\nDETAIL:  %s", pe.Detail)
	}
	if pe.Hint != "" {
		fmt.Fprintf(&b, "\nHINT:  %s", pe.Hint)
	}
	code := exitFailure
	switch pe.Code[:2] {
	case "42", "22", "0A":
		code = exitUsage
	case "08", "57":
		code = exitUnavailable
	case "23", "40":
		code = exitConflict
	}
	return withExit(code, errors.New(b.String()))
}
