package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// step kinds.
const (
	stepCommand = iota
	stepFlush   // "---": FLUSHALL
	stepInline  // "inline …": the text as an inline command
)

// step is one line of a corpus file.
type step struct {
	file    string
	line    int
	text    string // the line as written (the key of expected differences)
	kind    int
	args    []string // stepCommand
	inline  string   // stepInline
	compare bool     // false for "?"
	tol     int64    // "~": integer replies may differ by this much
}

// loadCorpus reads every *.txt file of dir, in name order.
func loadCorpus(dir string) (map[string][]step, []string, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil {
		return nil, nil, err
	}
	sort.Strings(names)
	files := map[string][]step{}
	var order []string
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, nil, err
		}
		base := filepath.Base(name)
		steps, err := parseCorpus(base, string(b))
		if err != nil {
			return nil, nil, err
		}
		files[base] = steps
		order = append(order, base)
	}
	if len(order) == 0 {
		return nil, nil, fmt.Errorf("no *.txt files in %s", dir)
	}
	return files, order, nil
}

// parseCorpus parses one corpus file (see the package doc).
func parseCorpus(file, text string) ([]step, error) {
	var steps []step
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		s := step{file: file, line: n, text: trimmed, compare: true}
		rest := trimmed
		switch {
		case rest == "---":
			s.kind = stepFlush
			steps = append(steps, s)
			continue
		case strings.HasPrefix(rest, "?"):
			s.compare = false
			rest = strings.TrimSpace(rest[1:])
		case strings.HasPrefix(rest, "~"):
			mark, after, _ := strings.Cut(rest, " ")
			s.tol = 2
			if len(mark) > 1 {
				tol, err := strconv.ParseInt(mark[1:], 10, 64)
				if err != nil || tol < 0 {
					return nil, fmt.Errorf("%s:%d: bad tolerance %q", file, n, mark)
				}
				s.tol = tol
			}
			rest = strings.TrimSpace(after)
		}
		if cmd, ok := strings.CutPrefix(rest, "inline "); ok {
			s.kind, s.inline = stepInline, cmd
			steps = append(steps, s)
			continue
		}
		args, err := splitArgs(rest)
		if err != nil || len(args) == 0 {
			return nil, fmt.Errorf("%s:%d: %q: cannot split the arguments", file, n, line)
		}
		s.args = args
		steps = append(steps, s)
	}
	return steps, sc.Err()
}

// splitArgs splits a line into arguments as redis-cli does.
func splitArgs(line string) ([]string, error) {
	var out []string
	i := 0
	for {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		if i == len(line) {
			return out, nil
		}
		var b strings.Builder
		var quote byte
		for ; i < len(line); i++ {
			c := line[i]
			if quote == 0 {
				if c == ' ' || c == '\t' {
					break
				}
				if c == '"' || c == '\'' {
					quote = c
					continue
				}
				b.WriteByte(c)
				continue
			}
			if c == quote {
				quote = 0
				if i+1 < len(line) && line[i+1] != ' ' && line[i+1] != '\t' {
					return nil, fmt.Errorf("closing quote must be followed by a blank")
				}
				continue
			}
			if c == '\\' && i+1 < len(line) {
				next := line[i+1]
				switch {
				case quote == '\'' && next == '\'':
					b.WriteByte('\'')
					i++
					continue
				case quote == '\'':
				case next == 'x' && i+3 < len(line) && isHex(line[i+2]) && isHex(line[i+3]):
					v, _ := strconv.ParseUint(line[i+2:i+4], 16, 8)
					b.WriteByte(byte(v))
					i += 3
					continue
				default:
					r, ok := escapes[next]
					if !ok {
						r = next
					}
					b.WriteByte(r)
					i++
					continue
				}
			}
			b.WriteByte(c)
		}
		if quote != 0 {
			return nil, fmt.Errorf("unbalanced quotes")
		}
		out = append(out, b.String())
	}
}

// escapes are the one-letter escapes of double-quoted arguments.
var escapes = map[byte]byte{'n': '\n', 'r': '\r', 't': '\t', 'b': '\b', 'a': '\a'}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
