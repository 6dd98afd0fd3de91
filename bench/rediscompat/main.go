package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// target is a server the corpus runs against.
type target struct {
	name, addr string
}

// known is one line of the expected-differences file.
type known struct {
	reason string
	seen   bool
}

func main() {
	redisAddr := flag.String("redis", "127.0.0.1:26500", "redis-server address")
	cachedAddrs := flag.String("cached", "", "comma-separated RESP addresses of the cached nodes")
	corpusDir := flag.String("corpus", "bench/rediscompat/corpus", "directory of corpus files")
	expectedFile := flag.String("expected", "bench/rediscompat/expected-differences.txt", "known differences")
	verbose := flag.Bool("v", false, "print the known differences too")
	flag.Parse()
	if *cachedAddrs == "" {
		fmt.Fprintln(os.Stderr, "rediscompat: -cached is required")
		os.Exit(2)
	}
	files, order, err := loadCorpus(*corpusDir)
	if err != nil {
		fail(err)
	}
	expected, err := loadExpected(*expectedFile)
	if err != nil {
		fail(err)
	}
	targets := []target{{"redis", *redisAddr}}
	for i, a := range strings.Split(*cachedAddrs, ",") {
		targets = append(targets, target{fmt.Sprintf("cached-%d", i+1), strings.TrimSpace(a)})
	}
	agree, differ, knownDiff := 0, 0, 0
	for _, file := range order {
		steps := files[file]
		replies := make([][]string, len(targets))
		for i, tg := range targets {
			if replies[i], err = runFile(tg, steps); err != nil {
				fail(fmt.Errorf("%s on %s: %w", file, tg.name, err))
			}
		}
		for j, s := range steps {
			if s.kind == stepFlush || !s.compare {
				continue
			}
			key := s.file + ": " + s.text
			k := expected[key]
			var diffs []string
			for i := 1; i < len(targets); i++ {
				if !same(replies[0][j], replies[i][j], s.tol) {
					diffs = append(diffs, fmt.Sprintf("    %-9s %q", targets[i].name, replies[i][j]))
				}
			}
			switch {
			case len(diffs) == 0:
				agree++
				continue
			case k != nil:
				k.seen = true
				knownDiff++
				if !*verbose {
					continue
				}
				fmt.Printf("known   %s:%d: %s  (%s)\n", s.file, s.line, s.text, k.reason)
			default:
				differ++
				fmt.Printf("DIFFER  %s:%d: %s\n", s.file, s.line, s.text)
			}
			fmt.Printf("    %-9s %q\n", "redis", replies[0][j])
			for _, d := range diffs {
				fmt.Println(d)
			}
		}
	}
	stale := 0
	for key, k := range expected {
		if !k.seen {
			stale++
			fmt.Printf("listed but not different (remove it from %s): %s\n", *expectedFile, key)
		}
	}
	fmt.Printf("rediscompat: %d agree, %d differ (%d known, %d unexpected); %d cached nodes; %d listed differences no longer differ\n",
		agree, knownDiff+differ, knownDiff, differ, len(targets)-1, stale)
	if differ > 0 {
		os.Exit(1)
	}
}

// runFile runs every step of one file against tg and returns the replies.
func runFile(tg target, steps []step) ([]string, error) {
	c, err := dial(tg.addr)
	if err != nil {
		return nil, err
	}
	defer func() { c.close() }()
	out := make([]string, len(steps))
	flush := func() error {
		rep, err := c.command([]string{"FLUSHALL"})
		if err == nil && rep != "+OK\r\n" {
			err = fmt.Errorf("FLUSHALL answered %q", rep)
		}
		return err
	}
	if err := flush(); err != nil {
		return nil, err
	}
	for i, s := range steps {
		switch s.kind {
		case stepFlush:
			err = flush()
		case stepCommand:
			out[i], err = c.command(s.args)
		case stepInline:
			var ic *conn
			if ic, err = dial(tg.addr); err == nil {
				out[i], err = ic.send([]byte(s.inline + "\r\n"))
				ic.close()
			}
		}
		if err != nil {
			return nil, fmt.Errorf("line %d (%s): %w", s.line, s.text, err)
		}
	}
	return out, nil
}

// same compares two raw replies; with tol > 0, two integer replies within
// tol of each other are the same.
func same(a, b string, tol int64) bool {
	if a == b {
		return true
	}
	if tol == 0 || !strings.HasPrefix(a, ":") || !strings.HasPrefix(b, ":") {
		return false
	}
	x, err1 := strconv.ParseInt(strings.TrimSuffix(a[1:], "\r\n"), 10, 64)
	y, err2 := strconv.ParseInt(strings.TrimSuffix(b[1:], "\r\n"), 10, 64)
	if err1 != nil || err2 != nil {
		return false
	}
	d := x - y
	return -tol <= d && d <= tol
}

// loadExpected reads the expected-differences file (see the package doc).
func loadExpected(path string) (map[string]*known, error) {
	out := map[string]*known{}
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, reason, ok := strings.Cut(line, " -- ")
		if !ok || !strings.Contains(key, ": ") || strings.TrimSpace(reason) == "" {
			return nil, fmt.Errorf("%s:%d: want `file: corpus line -- reason`", path, n)
		}
		out[strings.TrimSpace(key)] = &known{reason: strings.TrimSpace(reason)}
	}
	return out, sc.Err()
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "rediscompat:", err)
	os.Exit(2)
}
