package analysis

import (
	"fmt"
	"slices"
	"strings"
)

// synonymRule rewrites one sequence of terms.
type synonymRule struct {
	from []string
	// to are the replacement term sequences; keep says the original tokens
	// stay (the rule maps from to itself too).
	to   [][]string
	keep bool
}

// synonymFilter applies Solr-format synonym rules: "a, b, c" makes the
// terms equivalent (each adds the others at its position; with expand false
// each is replaced by the first) and "a, b => c" replaces a or b by c.
// Phrases may have several words: the words of a replacement take
// consecutive positions from the matched token's, and every added token
// carries the byte span of the whole matched phrase.
type synonymFilter struct {
	// rules by first term, longest first.
	rules map[string][]*synonymRule
}

// parseSynonyms builds a synonym filter from rules, analysing each phrase
// with pre (the analyzer's tokenizer and the filters before the synonym
// filter). Errors name path and the rule's index.
func parseSynonyms(rules []string, expand bool, pre Analyzer, path string) (*synonymFilter, error) {
	type key = string
	byFrom := make(map[key]*synonymRule)
	var order []key
	add := func(from, to []string) {
		k := strings.Join(from, "\x00")
		r, ok := byFrom[k]
		if !ok {
			r = &synonymRule{from: from}
			byFrom[k] = r
			order = append(order, k)
		}
		if slices.Equal(from, to) {
			r.keep = true
			return
		}
		for _, t := range r.to {
			if slices.Equal(t, to) {
				return
			}
		}
		r.to = append(r.to, to)
	}
	var buf []Token
	phrase := func(s string, i int) ([]string, error) {
		buf = pre.Analyze(strings.TrimSpace(s), buf[:0])
		if len(buf) == 0 {
			return nil, fmt.Errorf("%w: %s[%d]: %q has no terms after analysis", ErrSettings, path, i, strings.TrimSpace(s))
		}
		terms := make([]string, len(buf))
		for j := range buf {
			terms[j] = strings.Clone(buf[j].Term)
		}
		return terms, nil
	}
	phrases := func(list string, i int) ([][]string, error) {
		var out [][]string
		for _, p := range strings.Split(list, ",") {
			if strings.TrimSpace(p) == "" {
				continue
			}
			terms, err := phrase(p, i)
			if err != nil {
				return nil, err
			}
			out = append(out, terms)
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("%w: %s[%d]: empty side in rule", ErrSettings, path, i)
		}
		return out, nil
	}
	for i, line := range rules {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if lhs, rhs, explicit := strings.Cut(line, "=>"); explicit {
			if strings.Contains(rhs, "=>") {
				return nil, fmt.Errorf("%w: %s[%d]: more than one \"=>\"", ErrSettings, path, i)
			}
			froms, err := phrases(lhs, i)
			if err != nil {
				return nil, err
			}
			tos, err := phrases(rhs, i)
			if err != nil {
				return nil, err
			}
			for _, f := range froms {
				for _, t := range tos {
					add(f, t)
				}
			}
			continue
		}
		list, err := phrases(line, i)
		if err != nil {
			return nil, err
		}
		for _, f := range list {
			if !expand {
				add(f, list[0])
				continue
			}
			for _, t := range list {
				add(f, t)
			}
		}
	}
	f := &synonymFilter{rules: make(map[string][]*synonymRule)}
	for _, k := range order {
		r := byFrom[k]
		f.rules[r.from[0]] = append(f.rules[r.from[0]], r)
	}
	for _, rs := range f.rules {
		slices.SortStableFunc(rs, func(a, b *synonymRule) int { return len(b.from) - len(a.from) })
	}
	return f, nil
}

// match returns the longest rule matching toks from i.
func (f *synonymFilter) match(toks []Token, i int) *synonymRule {
	for _, r := range f.rules[toks[i].Term] {
		if i+len(r.from) > len(toks) {
			continue
		}
		ok := true
		for k := 1; k < len(r.from); k++ {
			if toks[i+k].Term != r.from[k] {
				ok = false
				break
			}
		}
		if ok {
			return r
		}
	}
	return nil
}

func (f *synonymFilter) Filter(toks []Token) []Token {
	var out []Token // nil until a rule matches
	for i := 0; i < len(toks); {
		r := f.match(toks, i)
		if r == nil {
			if out != nil {
				out = append(out, toks[i])
			}
			i++
			continue
		}
		if out == nil {
			out = append(make([]Token, 0, len(toks)+4), toks[:i]...)
		}
		n := len(r.from)
		width := n
		for _, t := range r.to {
			width = max(width, len(t))
		}
		base, start, end := toks[i].Position, toks[i].Start, toks[i+n-1].End
		for k := 0; k < width; k++ {
			if r.keep && k < n {
				out = append(out, toks[i+k])
			}
			for _, t := range r.to {
				if k < len(t) {
					out = append(out, Token{Term: t[k], Position: base + k, Start: start, End: end})
				}
			}
		}
		i += n
	}
	if out == nil {
		return toks
	}
	return out
}
