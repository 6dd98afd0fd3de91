package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"time"
)

// options are the command's flags.
type options struct {
	pg, cairn       string
	seed            uint64
	random          int
	onlyCorpus      bool
	randomIndex     int
	schema, queries string
	scale           int
	tz              string
	protocol        string
	timeout         time.Duration
	maxRows, width  int
	verbose         bool
}

func main() {
	var o options
	flag.StringVar(&o.pg, "pg", "", "URL of the anchor (PostgreSQL), e.g. postgres://postgres@127.0.0.1:25432/sqldiff")
	flag.StringVar(&o.cairn, "cairn", "", "URL of cairn's PostgreSQL endpoint (`cairn sql url`)")
	flag.Uint64Var(&o.seed, "seed", 0, "seed of the data and of the random queries (0: from the clock; logged)")
	flag.IntVar(&o.random, "random", 300, "number of random queries")
	flag.BoolVar(&o.onlyCorpus, "only-corpus", false, "run no random queries")
	flag.IntVar(&o.randomIndex, "random-index", -1, "run only random query #i of the seed (to reproduce a difference), no corpus")
	flag.StringVar(&o.schema, "schema", "bench/sqldiff/schema.sql", "schema file")
	flag.StringVar(&o.queries, "queries", "bench/sqldiff/queries.sql", "query corpus file")
	flag.IntVar(&o.scale, "scale", 1, "multiplies the generated row counts")
	flag.StringVar(&o.tz, "timezone", "UTC", "TimeZone startup parameter of both sessions (empty: the servers' default)")
	flag.StringVar(&o.protocol, "protocol", "extended", "simple (Query) or extended (Parse/Bind/Execute with text results)")
	flag.DurationVar(&o.timeout, "timeout", 30*time.Second, "per-statement timeout")
	flag.IntVar(&o.maxRows, "show-rows", 8, "rows shown per side in a difference")
	flag.IntVar(&o.width, "show-width", 60, "characters shown per value in a difference")
	flag.BoolVar(&o.verbose, "v", false, "print every statement as it runs")
	flag.Parse()
	if o.pg == "" || o.cairn == "" {
		fmt.Fprintln(os.Stderr, "sqldiff: --pg and --cairn are required")
		flag.Usage()
		os.Exit(2)
	}
	if o.protocol != "simple" && o.protocol != "extended" {
		fmt.Fprintf(os.Stderr, "sqldiff: --protocol %q: want simple or extended\n", o.protocol)
		os.Exit(2)
	}
	if o.seed == 0 {
		o.seed = uint64(time.Now().UnixNano()) % 1_000_000_000
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	code, err := run(ctx, o, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sqldiff:", err)
		os.Exit(2)
	}
	os.Exit(code)
}

// differ collects the outcome of the comparisons.
type differ struct {
	o                       options
	out                     io.Writer
	agreed, both, different int
	corpusBugs              int
	known, stale            int // corpus differences marked @known; @known statements that agreed
	skipped                 int // corpus statements with @params under the simple protocol
	randomNonEmpty          int // random queries whose anchor result had rows
}

// check runs sql on both targets, compares, and reports a difference.
// label names the statement (file:line or random #i).
// A difference on a statement with a known reason is counted and listed
// apart (details with -v); a known statement that agrees is reported too.
func (d *differ) check(ctx context.Context, a, b *target, label, sql string, mode compareMode, known string, args ...string) (*result, *result, bool) {
	if len(args) > 0 {
		sql += "\n-- parameters: " + formatArgs(args)
	}
	if d.o.verbose {
		fmt.Fprintf(d.out, "-- %s\n%s;\n", label, sql)
	}
	ra, rb := a.run(ctx, sql, args...), b.run(ctx, sql, args...)
	same, why := compare(ra, rb, mode)
	switch {
	case !same && known != "":
		d.known++
		fmt.Fprintf(d.out, "\nknown  %s: %s (%s)\n", label, why, known)
		if d.o.verbose {
			d.report(label, sql, why, ra, rb, mode, a.name, b.name)
		}
	case known != "":
		d.stale++
		fmt.Fprintf(d.out, "\nAGREED %s, marked @known (%s): remove the directive\n", label, known)
	case !same:
		d.different++
		d.report(label, sql, why, ra, rb, mode, a.name, b.name)
	case ra.failed():
		d.both++
		if d.o.verbose {
			fmt.Fprintf(d.out, "-- both failed: %s %s\n", ra.code, ra.msg)
		}
	default:
		d.agreed++
		if d.o.verbose {
			fmt.Fprintf(d.out, "-- agreed: %q, %d rows\n", ra.tag, len(ra.rows))
		}
	}
	return ra, rb, same
}

// report prints one difference.
func (d *differ) report(label, sql, why string, ra, rb *result, mode compareMode, an, bn string) {
	fmt.Fprintf(d.out, "\nDIFFER %s (seed %d): %s\n", label, d.o.seed, why)
	for _, l := range strings.Split(sql, "\n") {
		fmt.Fprintf(d.out, "    %s\n", l)
	}
	if mode == unordered && !ra.failed() && !rb.failed() && len(ra.names) == len(rb.names) {
		oa, ob := onlyIn(ra.rows, rb.rows), onlyIn(rb.rows, ra.rows)
		if len(oa)+len(ob) > 0 {
			fmt.Fprintf(d.out, "  %s: %s", an, ra.format("", rowCount, 0, d.o.width))
			fmt.Fprintf(d.out, "  %s: %s", bn, rb.format("", rowCount, 0, d.o.width))
			fmt.Fprintf(d.out, "  only in %s:\n", an)
			fmt.Fprint(d.out, (&result{names: ra.names, oids: ra.oids, rows: oa}).rowsText("    ", d.o.maxRows, d.o.width))
			fmt.Fprintf(d.out, "  only in %s:\n", bn)
			fmt.Fprint(d.out, (&result{names: rb.names, oids: rb.oids, rows: ob}).rowsText("    ", d.o.maxRows, d.o.width))
			return
		}
	}
	fmt.Fprintf(d.out, "  %s:\n%s", an, ra.format("    ", mode, d.o.maxRows, d.o.width))
	fmt.Fprintf(d.out, "  %s:\n%s", bn, rb.format("    ", mode, d.o.maxRows, d.o.width))
}

// formatArgs prints placeholder values for a report: $1='x', $2='3'.
func formatArgs(args []string) string {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = fmt.Sprintf("$%d=%s", i+1, quote(a))
	}
	return strings.Join(parts, ", ")
}

// randomQuery is random query i of the seed: with --protocol extended,
// every odd-numbered one sends its constants as parameters.
func randomQuery(o options, i int) (string, compareMode, []string) {
	if o.protocol == "extended" && i%2 == 1 {
		sql, args, mode := genQueryParams(o.seed, i)
		return sql, mode, args
	}
	sql, mode := genQuery(o.seed, i)
	return sql, mode, nil
}

// onlyIn is the rows of a not matched by a row of b (multiset difference).
func onlyIn(a, b [][]*string) [][]*string {
	count := map[string]int{}
	for _, r := range b {
		count[rowKey(r)]++
	}
	var out [][]*string
	for _, r := range a {
		k := rowKey(r)
		if count[k] > 0 {
			count[k]--
			continue
		}
		out = append(out, r)
	}
	sort.SliceStable(out, func(i, j int) bool { return rowKey(out[i]) < rowKey(out[j]) })
	return out
}

// run does the whole comparison and returns the exit status: 0 when
// everything agreed, 1 on any difference.
func run(ctx context.Context, o options, out io.Writer) (int, error) {
	schema, err := loadStatements(o.schema)
	if err != nil {
		return 0, err
	}
	corpus, err := loadStatements(o.queries)
	if err != nil {
		return 0, err
	}
	fmt.Fprintf(out, "sqldiff: seed %d (rerun with --seed %d); %s protocol; anchor %s; cairn %s\n",
		o.seed, o.seed, o.protocol, redact(o.pg), redact(o.cairn))
	a := &target{name: "pg", url: o.pg, tz: o.tz, extended: o.protocol == "extended", timeout: o.timeout}
	b := &target{name: "cairn", url: o.cairn, tz: o.tz, extended: o.protocol == "extended", timeout: o.timeout}
	for _, t := range []*target{a, b} {
		if err := t.connect(ctx); err != nil {
			return 0, err
		}
		defer t.close()
	}
	d := &differ{o: o, out: out}

	// Schema: every statement must succeed on both (a failure stops the run).
	for _, s := range schema {
		ra, _, same := d.check(ctx, a, b, fmt.Sprintf("%s:%d", s.file, s.line), s.sql, unordered, "")
		if !same || ra.failed() {
			d.summary(len(corpus))
			fmt.Fprintf(out, "sqldiff: stopped: the schema did not apply on both targets\n")
			return 1, nil
		}
	}

	// Data: the same rows on both; the ids are each target's own.
	start := time.Now()
	data := genData(o.seed, o.scale)
	ids := map[*target]map[string][]string{a: {}, b: {}}
	total := 0
	for _, t := range model {
		rows := data.rows[t.name]
		total += len(rows)
		for _, bt := range batches(t.name, rows, 50) {
			for _, tg := range []*target{a, b} {
				sql, err := insertSQL(data, t.name, bt[0], bt[1], ids[tg])
				if err != nil {
					return 0, err
				}
				res := tg.run(ctx, sql)
				if res.failed() || len(res.rows) != bt[1]-bt[0] {
					d.different++
					d.report(fmt.Sprintf("load of %s rows %d-%d on %s", t.name, bt[0], bt[1]-1, tg.name), cut(sql, 400),
						"the load failed", res, &result{}, rowCount, tg.name, "(nothing)")
					d.summary(len(corpus))
					fmt.Fprintf(out, "sqldiff: stopped: the data did not load\n")
					return 1, nil
				}
				for _, row := range res.rows {
					if row[0] == nil {
						return 0, fmt.Errorf("%s: INSERT … RETURNING id returned NULL", tg.name)
					}
					ids[tg][t.name] = append(ids[tg][t.name], *row[0])
				}
			}
		}
		if !equalStrings(ids[a][t.name], ids[b][t.name]) {
			d.different++
			fmt.Fprintf(out, "\nDIFFER load of %s (seed %d): the SERIAL ids differ (anchor %s…, cairn %s…); the rows are the same\n",
				t.name, o.seed, strings.Join(head(ids[a][t.name], 5), ","), strings.Join(head(ids[b][t.name], 5), ","))
		}
	}
	fmt.Fprintf(out, "sqldiff: loaded %d rows into %d tables on both in %s\n", total, len(model), time.Since(start).Round(time.Millisecond))

	// Random queries first, on the data as loaded (the corpus modifies it).
	if o.randomIndex >= 0 {
		sql, mode, args := randomQuery(o, o.randomIndex)
		d.check(ctx, a, b, fmt.Sprintf("random #%d", o.randomIndex), sql, mode, "", args...)
		d.summary(0)
		return d.exitCode(), nil
	}
	if !o.onlyCorpus {
		for i := 0; i < o.random; i++ {
			if ctx.Err() != nil {
				return 0, ctx.Err()
			}
			sql, mode, args := randomQuery(o, i)
			ra, _, _ := d.check(ctx, a, b, fmt.Sprintf("random #%d (--seed %d --random-index %d)", i, o.seed, i), sql, mode, "", args...)
			if len(ra.rows) > 0 {
				d.randomNonEmpty++
			}
		}
	}

	// The corpus, in order, on one session per target.
	for _, s := range corpus {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		mode := unordered
		if s.ordered {
			mode = ordered
		} else if s.rowsOnly {
			mode = rowCount
		}
		label := fmt.Sprintf("%s:%d", s.file, s.line)
		if len(s.params) > 0 && o.protocol != "extended" {
			d.skipped++
			continue
		}
		ra, _, _ := d.check(ctx, a, b, label, s.sql, mode, s.known, s.params...)
		if s.wantCode != "" && ra.code != s.wantCode {
			d.corpusBugs++
			fmt.Fprintf(out, "\nCORPUS %s: the anchor answered %q, the corpus expects SQLSTATE %s (fix the corpus)\n",
				label, ra.code, s.wantCode)
		} else if s.wantCode == "" && ra.failed() {
			d.corpusBugs++
			fmt.Fprintf(out, "\nCORPUS %s: the anchor failed (%s: %s) but the corpus expects no error (fix the corpus or add @error)\n",
				label, ra.code, ra.msg)
		}
	}
	d.summary(len(corpus))
	return d.exitCode(), nil
}

// exitCode is 1 after an unexpected difference or a corpus problem, else 0.
func (d *differ) exitCode() int {
	if d.different > 0 || d.corpusBugs > 0 || d.stale > 0 {
		return 1
	}
	return 0
}

// summary prints the final counts.
func (d *differ) summary(corpus int) {
	if !d.o.onlyCorpus && d.o.random > 0 && d.o.randomIndex < 0 {
		fmt.Fprintf(d.out, "\nsqldiff: %d of %d random queries returned rows on the anchor\n", d.randomNonEmpty, d.o.random)
	}
	if d.skipped > 0 {
		fmt.Fprintf(d.out, "sqldiff: %d corpus statements with parameters skipped (simple protocol)\n", d.skipped)
	}
	fmt.Fprintf(d.out, "sqldiff: %d statements agreed, %d differed (%d more known), %d failed on both with the same SQLSTATE; %d corpus expectations unmet, %d @known that agreed (seed %d, %d random, %d corpus)\n",
		d.agreed, d.different, d.known, d.both, d.corpusBugs, d.stale, d.o.seed, d.o.random*boolInt(!d.o.onlyCorpus), corpus)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func head(xs []string, n int) []string {
	if len(xs) > n {
		return xs[:n]
	}
	return xs
}

// redact hides a password in a URL for the log.
func redact(url string) string {
	at := strings.LastIndex(url, "@")
	scheme := strings.Index(url, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return url
	}
	userinfo := url[scheme+3 : at]
	if u, _, ok := strings.Cut(userinfo, ":"); ok {
		return url[:scheme+3] + u + ":***" + url[at:]
	}
	return url
}
