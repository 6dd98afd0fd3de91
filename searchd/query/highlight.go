package query

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"

	"cairn.dev/cairn/searchd/analysis"
	"cairn.dev/cairn/searchd/mapping"
)

// highlightSpec is the highlight option. Defaults as Elasticsearch's:
// pre_tags <em>, post_tags </em>, fragment_size 100, number_of_fragments 5
// (0: the whole field), require_field_match true.
type highlightSpec struct {
	pre, post []string
	fields    []hlField
	hlOpts
}

type hlOpts struct {
	fragmentSize, numFragments int
	requireFieldMatch          bool
}

type hlField struct {
	name string
	hlOpts
	pre, post []string
}

func parseHighlight(raw json.RawMessage) (*highlightSpec, error) {
	o, err := decodeObject(raw, "highlight")
	if err != nil {
		return nil, err
	}
	h := &highlightSpec{pre: []string{"<em>"}, post: []string{"</em>"},
		hlOpts: hlOpts{fragmentSize: 100, numFragments: 5, requireFieldMatch: true}}
	if err := parseHlOpts(o, "highlight", &h.hlOpts, &h.pre, &h.post, true); err != nil {
		return nil, err
	}
	fv, ok := o["fields"]
	if !ok {
		return nil, parseErr("highlight", "missing [fields]")
	}
	var entries []object
	if isObject(fv) {
		fo, err := decodeObject(fv, "highlight.fields")
		if err != nil {
			return nil, err
		}
		for _, k := range fo.keys() {
			entries = append(entries, object{k: fo[k]})
		}
	} else {
		items, err := decodeArray(fv, "highlight.fields", false)
		if err != nil {
			return nil, err
		}
		for i, it := range items {
			fo, err := decodeObject(it, "highlight.fields["+strconv.Itoa(i)+"]")
			if err != nil {
				return nil, err
			}
			entries = append(entries, fo)
		}
	}
	for _, e := range entries {
		for _, name := range e.keys() {
			path := "highlight.fields." + name
			f := hlField{name: name, hlOpts: h.hlOpts, pre: h.pre, post: h.post}
			if string(e[name]) != "null" {
				fo, err := decodeObject(e[name], path)
				if err != nil {
					return nil, err
				}
				if err := parseHlOpts(fo, path, &f.hlOpts, &f.pre, &f.post, false); err != nil {
					return nil, err
				}
			}
			h.fields = append(h.fields, f)
		}
	}
	return h, nil
}

// parseHlOpts parses the options shared by the highlight object and its
// fields.
func parseHlOpts(o object, path string, opts *hlOpts, pre, post *[]string, top bool) error {
	var err error
	for _, k := range o.keys() {
		kp := path + "." + k
		v := o[k]
		switch k {
		case "fields":
			if !top {
				return parseErr(kp, "unknown key [%s]", k)
			}
		case "pre_tags":
			*pre, err = asStrings(v, kp)
		case "post_tags":
			*post, err = asStrings(v, kp)
		case "fragment_size":
			opts.fragmentSize, err = asInt(v, kp)
			if err == nil && opts.fragmentSize <= 0 {
				err = parseErr(kp, "must be positive")
			}
		case "number_of_fragments":
			opts.numFragments, err = asInt(v, kp)
			if err == nil && opts.numFragments < 0 {
				err = parseErr(kp, "must not be negative")
			}
		case "require_field_match":
			opts.requireFieldMatch, err = asBool(v, kp)
		case "type", "order", "encoder", "tags_schema", "boundary_scanner", "no_match_size", "fragmenter":
		default:
			return parseErr(kp, "unknown key [%s]", k)
		}
		if err != nil {
			return err
		}
	}
	if len(*pre) == 0 || len(*post) == 0 {
		return parseErr(path, "pre_tags and post_tags must not be empty")
	}
	return nil
}

// highlightDoc highlights a document's source: every requested field's
// text (from _source) is analysed again with the field's analyzer and the
// tokens whose terms the query matched are wrapped in the tags. Fragments
// of about fragment_size bytes around the matches are returned in text
// order, the number_of_fragments with the most matches; fields without a
// match are left out.
func highlightDoc(sp *spec, ex *execCtx, src []byte) map[string][]string {
	var doc map[string]any
	dec := json.NewDecoder(strings.NewReader(string(src)))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil
	}
	all := map[string]bool{}
	for _, ts := range ex.highlight {
		for t := range ts {
			all[t] = true
		}
	}
	out := map[string][]string{}
	for _, f := range sp.highlight.fields {
		names := []string{f.name}
		if strings.ContainsAny(f.name, "*?") {
			names = nil
			for _, n := range textFields(sp.mapping) {
				if wildcardMatch(f.name, n) {
					names = append(names, n)
				}
			}
		}
		for _, name := range names {
			terms := ex.highlight[name]
			if !f.requireFieldMatch {
				terms = all
			}
			if len(terms) == 0 {
				continue
			}
			frags := highlightField(sp, name, sourceValues(doc, name), terms, f)
			if len(frags) > 0 {
				out[name] = frags
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// sourceValues returns the strings at a dotted path of a source (a
// multi-field "title.keyword" reads "title").
func sourceValues(doc map[string]any, path string) []string {
	for p := path; p != ""; {
		if v, ok := lookupPath(doc, p); ok {
			return flattenStrings(v, nil)
		}
		i := strings.LastIndexByte(p, '.')
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return nil
}

func lookupPath(doc map[string]any, path string) (any, bool) {
	if v, ok := doc[path]; ok {
		return v, true
	}
	for i := 0; i < len(path); i++ {
		if path[i] != '.' {
			continue
		}
		if sub, ok := doc[path[:i]].(map[string]any); ok {
			if v, ok := lookupPath(sub, path[i+1:]); ok {
				return v, true
			}
		}
	}
	return nil, false
}

func flattenStrings(v any, dst []string) []string {
	switch x := v.(type) {
	case string:
		return append(dst, x)
	case []any:
		for _, e := range x {
			dst = flattenStrings(e, dst)
		}
	case json.Number:
		return append(dst, x.String())
	}
	return dst
}

// highlightField highlights one field's values.
func highlightField(sp *spec, name string, values []string, terms map[string]bool, f hlField) []string {
	var fm *mapping.Field
	if sp.mapping != nil {
		fm, _ = sp.mapping.Lookup(name)
	}
	var a analysis.Analyzer
	if fm != nil && fm.Type == mapping.Text && sp.reg != nil {
		a, _ = sp.reg.Lookup(fm.IndexAnalyzer())
	}
	type frag struct {
		text    string
		matches int
		order   int
	}
	var frags []frag
	for _, v := range values {
		var spans [][2]int
		if a == nil {
			if terms[v] {
				spans = append(spans, [2]int{0, len(v)})
			}
		} else {
			for _, t := range a.Analyze(v, nil) {
				if terms[t.Term] && t.Start >= 0 && t.End <= len(v) && t.Start < t.End {
					spans = append(spans, [2]int{t.Start, t.End})
				}
			}
		}
		if len(spans) == 0 {
			continue
		}
		sort.Slice(spans, func(i, j int) bool { return spans[i][0] < spans[j][0] })
		if f.numFragments == 0 {
			frags = append(frags, frag{text: tag(v, 0, len(v), spans, f), matches: len(spans), order: len(frags)})
			continue
		}
		for i := 0; i < len(spans); {
			start, end := fragmentBounds(v, spans[i], f.fragmentSize)
			j := i
			for j < len(spans) && spans[j][1] <= end {
				j++
			}
			if j == i {
				j = i + 1
				end = max(end, spans[i][1])
			}
			frags = append(frags, frag{text: tag(v, start, end, spans[i:j], f), matches: j - i, order: len(frags)})
			i = j
		}
	}
	if f.numFragments > 0 && len(frags) > f.numFragments {
		sort.SliceStable(frags, func(i, j int) bool { return frags[i].matches > frags[j].matches })
		frags = frags[:f.numFragments]
		sort.Slice(frags, func(i, j int) bool { return frags[i].order < frags[j].order })
	}
	out := make([]string, len(frags))
	for i, fr := range frags {
		out[i] = fr.text
	}
	return out
}

// fragmentBounds picks a fragment of about size bytes holding the match,
// starting and ending at word boundaries.
func fragmentBounds(v string, m [2]int, size int) (int, int) {
	if len(v) <= size {
		return 0, len(v)
	}
	start := max(0, m[0]-(size-(m[1]-m[0]))/2)
	if start > 0 {
		if k := strings.IndexByte(v[start:m[0]], ' '); k >= 0 {
			start += k + 1
		} else {
			start = m[0]
		}
	}
	end := min(len(v), start+size)
	if end < len(v) {
		if k := strings.LastIndexByte(v[m[1]:end], ' '); k >= 0 {
			end = m[1] + k
		} else {
			end = m[1]
		}
	}
	return start, max(end, m[1])
}

// tag wraps the spans of v[start:end] in the field's tags.
func tag(v string, start, end int, spans [][2]int, f hlField) string {
	var b strings.Builder
	pos := start
	for _, s := range spans {
		if s[0] < pos || s[1] > end {
			continue
		}
		b.WriteString(v[pos:s[0]])
		b.WriteString(f.pre[0])
		b.WriteString(v[s[0]:s[1]])
		b.WriteString(f.post[0])
		pos = s[1]
	}
	b.WriteString(v[pos:end])
	return strings.TrimSpace(b.String())
}
