package query

import (
	"encoding/json"
	"path"
	"strings"
)

// sourceFilter is the _source option: off, or includes and excludes
// patterns over dotted field paths with * wildcards. Including a path keeps
// its whole subtree; excludes win.
type sourceFilter struct {
	disabled           bool
	includes, excludes []string
}

func parseSourceFilter(raw json.RawMessage) (sourceFilter, error) {
	var f sourceFilter
	s := strings.TrimSpace(string(raw))
	switch {
	case s == "true":
		return f, nil
	case s == "false":
		f.disabled = true
		return f, nil
	case isObject(raw):
		o, err := decodeObject(raw, "_source")
		if err != nil {
			return f, err
		}
		for _, k := range o.keys() {
			kp := "_source." + k
			switch k {
			case "includes", "include":
				if f.includes, err = asStrings(o[k], kp); err != nil {
					return f, err
				}
			case "excludes", "exclude":
				if f.excludes, err = asStrings(o[k], kp); err != nil {
					return f, err
				}
			default:
				return f, parseErr(kp, "unknown key [%s]", k)
			}
		}
		return f, nil
	}
	var err error
	f.includes, err = asStrings(raw, "_source")
	return f, err
}

// apply returns src filtered (nil when _source is off). Filtering
// re-encodes the object with its keys sorted.
func (f sourceFilter) apply(src []byte) []byte {
	if f.disabled {
		return nil
	}
	if len(f.includes) == 0 && len(f.excludes) == 0 {
		return src
	}
	var doc map[string]any
	dec := json.NewDecoder(strings.NewReader(string(src)))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return src
	}
	out := f.filter(doc, "", len(f.includes) == 0)
	b, err := json.Marshal(out)
	if err != nil {
		return src
	}
	return b
}

// filter keeps the keys of obj (at prefix) that the patterns select;
// included says an ancestor was included.
func (f sourceFilter) filter(obj map[string]any, prefix string, included bool) map[string]any {
	out := map[string]any{}
	for k, v := range obj {
		p := prefix + k
		if globAny(f.excludes, p) {
			continue
		}
		inc := included || globAny(f.includes, p)
		if sub, ok := v.(map[string]any); ok {
			if r := f.filter(sub, p+".", inc); inc || len(r) > 0 {
				out[k] = r
			}
			continue
		}
		if inc {
			out[k] = v
		}
	}
	return out
}

// globAny reports whether any pattern matches the dotted path p.
func globAny(patterns []string, p string) bool {
	for _, pat := range patterns {
		if pat == p {
			return true
		}
		if ok, _ := path.Match(strings.ReplaceAll(pat, ".", "/"), strings.ReplaceAll(p, ".", "/")); ok {
			return true
		}
		// "*" in Elasticsearch's source patterns crosses dots too.
		if strings.Contains(pat, "*") && wildcardMatch(pat, p) {
			return true
		}
	}
	return false
}

// wildcardMatch matches s against a pattern of literal bytes, * (any run)
// and ? (one byte).
func wildcardMatch(pat, s string) bool {
	px, sx := 0, 0
	starP, starS := -1, 0
	for sx < len(s) {
		switch {
		case px < len(pat) && (pat[px] == '?' || pat[px] == s[sx]):
			px++
			sx++
		case px < len(pat) && pat[px] == '*':
			starP, starS = px, sx
			px++
		case starP >= 0:
			px = starP + 1
			starS++
			sx = starS
		default:
			return false
		}
	}
	for px < len(pat) && pat[px] == '*' {
		px++
	}
	return px == len(pat)
}
