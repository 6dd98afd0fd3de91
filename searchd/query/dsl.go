package query

import (
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"cairn.dev/cairn/searchd/analysis"
	"cairn.dev/cairn/searchd/datemath"
	"cairn.dev/cairn/searchd/index"
	"cairn.dev/cairn/searchd/mapping"
)

// maxDepth bounds the nesting of compound queries.
const maxDepth = 32

// parser parses query clauses against one mapping and registry.
type parser struct {
	m      *mapping.Mapping
	reg    *analysis.Registry
	limits Limits
	now    time.Time
}

// parseQuery parses one query clause object at path.
func (p *parser) parseQuery(raw json.RawMessage, path string, depth int) (node, error) {
	if depth > maxDepth {
		return nil, limitErr(ErrLimit, path, depth, "max_query_depth", maxDepth)
	}
	o, err := decodeObject(raw, path)
	if err != nil {
		return nil, err
	}
	typ, body, err := singleKey(o, path, "query type")
	if err != nil {
		return nil, err
	}
	path += "." + typ
	switch typ {
	case "match":
		return p.parseMatch(body, path, false, false)
	case "match_phrase":
		return p.parseMatch(body, path, true, false)
	case "match_phrase_prefix":
		return p.parseMatch(body, path, true, true)
	case "multi_match":
		return p.parseMultiMatch(body, path)
	case "bool":
		return p.parseBool(body, path, depth)
	case "dis_max":
		return p.parseDisMax(body, path, depth)
	case "constant_score":
		return p.parseConstantScore(body, path, depth)
	case "term":
		return p.parseTerm(body, path)
	case "terms":
		return p.parseTerms(body, path)
	case "prefix", "wildcard", "fuzzy":
		return p.parseMultiTerm(typ, body, path)
	case "range":
		return p.parseRange(body, path)
	case "exists":
		return p.parseExists(body, path)
	case "ids":
		return p.parseIDs(body, path)
	case "match_all":
		b, err := p.boostOnly(body, path)
		return &matchAllNode{boost: b}, err
	case "match_none":
		_, err := p.boostOnly(body, path)
		return &matchNoneNode{}, err
	}
	return nil, parseErr(path, "unknown query type [%s]", typ)
}

// boostOnly parses an object whose only allowed key is boost (and _name).
func (p *parser) boostOnly(raw json.RawMessage, path string) (float64, error) {
	o, err := decodeObject(raw, path)
	if err != nil {
		return 0, err
	}
	boost := 1.0
	for _, k := range o.keys() {
		switch k {
		case "boost":
			if boost, err = asBoost(o[k], path+".boost"); err != nil {
				return 0, err
			}
		case "_name":
		default:
			return 0, parseErr(path+"."+k, "unknown key [%s]", k)
		}
	}
	return boost, nil
}

// fieldClause splits {"field": value-or-object} into the field, and either
// the object's keys (long form) or the short-form value under shortKey.
func fieldClause(raw json.RawMessage, path, shortKey string) (field string, o object, fpath string, err error) {
	top, err := decodeObject(raw, path)
	if err != nil {
		return "", nil, "", err
	}
	// boost and _name may sit beside the field in the short form.
	var extra object
	for _, k := range []string{"boost", "_name"} {
		if v, ok := top[k]; ok && len(top) > 1 {
			if extra == nil {
				extra = object{}
			}
			extra[k] = v
			delete(top, k)
		}
	}
	field, v, err := singleKey(top, path, "field")
	if err != nil {
		return "", nil, "", err
	}
	fpath = path + "." + field
	if isObject(v) {
		if o, err = decodeObject(v, fpath); err != nil {
			return "", nil, "", err
		}
	} else {
		o = object{shortKey: v}
	}
	for k, v := range extra {
		o[k] = v
	}
	return field, o, fpath, nil
}

// lookup returns a field's mapping (nil when unmapped: the query matches
// nothing, as Elasticsearch's queries on unmapped fields).
func (p *parser) lookup(field string) *mapping.Field {
	if p.m == nil {
		return nil
	}
	f, ok := p.m.Lookup(field)
	if !ok {
		return nil
	}
	return f
}

// analyzer returns the analyzer a query on f uses: override, else the
// field's query analyzer (search_analyzer, analyzer, the index's
// default_search or default, analysis.DefaultText).
func (p *parser) analyzer(f *mapping.Field, override, path string) (analysis.Analyzer, error) {
	name := override
	if name == "" {
		name = f.QueryAnalyzer()
	}
	if p.reg == nil {
		return nil, parseErr(path, "no analyzers to analyze with")
	}
	a, ok := p.reg.Lookup(name)
	if !ok {
		return nil, parseErr(path, "unknown analyzer [%s]", name)
	}
	return a, nil
}

// keyword returns v as a keyword field indexes it: through the field's
// normalizer, if any.
func (p *parser) keyword(f *mapping.Field, v string) string {
	if f == nil || f.Type != mapping.Keyword || f.Normalizer == "" || p.reg == nil {
		return v
	}
	if n, ok := p.reg.Normalizer(f.Normalizer); ok {
		return n.Normalize(v)
	}
	return v
}

// date evaluates date math on a date field, absolute dates in the field's
// format.
func (p *parser) date(f *mapping.Field, s string, roundUp bool) (int64, error) {
	return datemath.Eval(s, p.now, roundUp, func(v string) (int64, error) {
		if ms, err := f.ParseDate(v); err == nil {
			return ms, nil
		}
		t, err := parseDate(v)
		if err != nil {
			return 0, err
		}
		return t.UnixMilli(), nil
	})
}

// matchOpts are the options of match and its relatives.
type matchOpts struct {
	query          string
	operatorAnd    bool
	msm            string
	fuzziness      string
	prefixLen      int
	maxExpansions  int
	transpositions bool
	analyzer       string
	slop           int
	boost          float64
	zeroTermsAll   bool
}

func defaultMatchOpts() matchOpts {
	return matchOpts{maxExpansions: DefaultMaxExpansions, transpositions: true, boost: 1}
}

// parseMatchOpt parses one option of match/match_phrase/multi_match; false
// when k is not one.
func parseMatchOpt(mo *matchOpts, k string, v json.RawMessage, path string) (bool, error) {
	var err error
	switch k {
	case "query":
		mo.query, err = asText(v, path)
	case "operator":
		var op string
		if op, err = asString(v, path); err == nil {
			switch strings.ToLower(op) {
			case "and":
				mo.operatorAnd = true
			case "or":
				mo.operatorAnd = false
			default:
				err = parseErr(path, "operator must be and or or, got [%s]", op)
			}
		}
	case "minimum_should_match":
		mo.msm, err = asText(v, path)
	case "fuzziness":
		mo.fuzziness, err = asText(v, path)
		if err == nil {
			_, err = fuzzyEdits(mo.fuzziness, "", path)
		}
	case "prefix_length":
		mo.prefixLen, err = asInt(v, path)
	case "max_expansions":
		mo.maxExpansions, err = asInt(v, path)
		if err == nil && mo.maxExpansions <= 0 {
			err = parseErr(path, "must be positive")
		}
	case "fuzzy_transpositions":
		mo.transpositions, err = asBool(v, path)
	case "analyzer":
		mo.analyzer, err = asString(v, path)
	case "slop":
		mo.slop, err = asInt(v, path)
		if err == nil && mo.slop < 0 {
			err = parseErr(path, "slop must not be negative")
		}
	case "boost":
		mo.boost, err = asBoost(v, path)
	case "zero_terms_query":
		var z string
		if z, err = asString(v, path); err == nil {
			switch z {
			case "none":
			case "all":
				mo.zeroTermsAll = true
			default:
				err = parseErr(path, "zero_terms_query must be none or all")
			}
		}
	case "lenient", "auto_generate_synonyms_phrase_query", "_name", "fuzzy_rewrite":
	default:
		return false, nil
	}
	return true, err
}

// fuzzyEdits resolves fuzziness for term: 0, 1, 2 or AUTO (0 edits for 1-2
// characters, 1 for 3-5, 2 for more; AUTO:low,high moves the bounds).
func fuzzyEdits(fuzziness, term, path string) (int, error) {
	f := strings.TrimSpace(fuzziness)
	if f == "" {
		return 0, nil
	}
	if strings.HasPrefix(strings.ToUpper(f), "AUTO") {
		low, high := 3, 6
		if rest := f[4:]; rest != "" {
			parts := strings.Split(strings.TrimPrefix(rest, ":"), ",")
			if !strings.HasPrefix(rest, ":") || len(parts) != 2 {
				return 0, parseErr(path, "fuzziness [%s]: want AUTO or AUTO:low,high", f)
			}
			var err1, err2 error
			low, err1 = strconv.Atoi(parts[0])
			high, err2 = strconv.Atoi(parts[1])
			if err1 != nil || err2 != nil || low < 0 || high < low {
				return 0, parseErr(path, "fuzziness [%s]: want AUTO or AUTO:low,high", f)
			}
		}
		n := utf8.RuneCountInString(term)
		switch {
		case n < low:
			return 0, nil
		case n < high:
			return 1, nil
		}
		return 2, nil
	}
	n, err := strconv.ParseFloat(f, 64)
	if err != nil || n < 0 || n > 2 || n != math.Trunc(n) {
		return 0, parseErr(path, "fuzziness [%s]: want 0, 1, 2 or AUTO", f)
	}
	return int(n), nil
}

// parseMatch parses match, match_phrase and match_phrase_prefix.
func (p *parser) parseMatch(raw json.RawMessage, path string, phrase, prefix bool) (node, error) {
	field, o, fpath, err := fieldClause(raw, path, "query")
	if err != nil {
		return nil, err
	}
	mo := defaultMatchOpts()
	for _, k := range o.keys() {
		ok, err := parseMatchOpt(&mo, k, o[k], fpath+"."+k)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, parseErr(fpath+"."+k, "unknown key [%s]", k)
		}
	}
	if _, ok := o["query"]; !ok {
		return nil, parseErr(fpath, "missing [query]")
	}
	return p.buildMatch(field, mo, fpath, phrase, prefix)
}

// buildMatch builds the query of match options on one field.
func (p *parser) buildMatch(field string, mo matchOpts, path string, phrase, prefix bool) (node, error) {
	f := p.lookup(field)
	if f == nil {
		return &matchNoneNode{}, nil
	}
	switch f.Type {
	case mapping.Text:
	case mapping.Keyword:
		mo.query = p.keyword(f, mo.query)
		if prefix {
			return &multiTermNode{kind: multiPrefix, field: field, text: mo.query, maxExpansions: mo.maxExpansions, boost: mo.boost}, nil
		}
		edits, err := fuzzyEdits(mo.fuzziness, mo.query, path)
		if err != nil {
			return nil, err
		}
		if edits > 0 && !phrase {
			return &multiTermNode{kind: multiFuzzy, field: field, text: mo.query, edits: edits, prefixLen: mo.prefixLen,
				transpositions: mo.transpositions, maxExpansions: mo.maxExpansions, boost: mo.boost}, nil
		}
		return &termNode{field: field, term: mo.query, boost: mo.boost, scoring: true}, nil
	default:
		term, err := p.termOf(f, json.RawMessage(strconv.Quote(mo.query)), path)
		if err != nil {
			return nil, err
		}
		return &termNode{field: field, term: term, boost: mo.boost}, nil
	}
	a, err := p.analyzer(f, mo.analyzer, path)
	if err != nil {
		return nil, err
	}
	toks := a.Analyze(mo.query, nil)
	if len(toks) == 0 {
		if mo.zeroTermsAll {
			return &matchAllNode{boost: mo.boost}, nil
		}
		return &matchNoneNode{}, nil
	}
	// Group tokens by position: tokens sharing one are synonyms.
	sort.SliceStable(toks, func(i, j int) bool { return toks[i].Position < toks[j].Position })
	var slots [][]string
	var offsets []int
	for i, t := range toks {
		if i > 0 && t.Position == toks[i-1].Position {
			last := slots[len(slots)-1]
			if !containsStr(last, t.Term) {
				slots[len(slots)-1] = append(last, t.Term)
			}
			continue
		}
		slots = append(slots, []string{t.Term})
		offsets = append(offsets, t.Position-toks[0].Position)
	}
	if phrase {
		if len(slots) == 1 && !prefix {
			return p.slotNode(field, slots[0], mo, path, mo.boost)
		}
		if len(slots) == 1 && prefix {
			return &multiTermNode{kind: multiPrefix, field: field, text: slots[0][0], maxExpansions: mo.maxExpansions, boost: mo.boost}, nil
		}
		return &phraseNode{field: field, slots: slots, offsets: offsets, slop: mo.slop, prefixLast: prefix,
			maxExpansions: mo.maxExpansions, boost: mo.boost}, nil
	}
	subs := make([]node, 0, len(slots))
	for _, s := range slots {
		n, err := p.slotNode(field, s, mo, path, 1)
		if err != nil {
			return nil, err
		}
		subs = append(subs, n)
	}
	if len(subs) == 1 {
		return withBoost(subs[0], mo.boost), nil
	}
	if mo.operatorAnd {
		return &boolNode{must: subs, msm: 0, boost: mo.boost}, nil
	}
	msm := 1
	if mo.msm != "" {
		n, err := minShouldMatch(mo.msm, len(subs), path+".minimum_should_match")
		if err != nil {
			return nil, err
		}
		msm = max(n, 1)
	}
	return &boolNode{should: subs, msm: msm, boost: mo.boost}, nil
}

// slotNode matches one position's terms (one term, or synonyms), fuzzily
// when the options say so.
func (p *parser) slotNode(field string, terms []string, mo matchOpts, path string, boost float64) (node, error) {
	subs := make([]node, 0, len(terms))
	for _, t := range terms {
		edits, err := fuzzyEdits(mo.fuzziness, t, path+".fuzziness")
		if err != nil {
			return nil, err
		}
		if edits > 0 {
			subs = append(subs, &multiTermNode{kind: multiFuzzy, field: field, text: t, edits: edits, prefixLen: mo.prefixLen,
				transpositions: mo.transpositions, maxExpansions: mo.maxExpansions, boost: 1})
		} else {
			subs = append(subs, &termNode{field: field, term: t, boost: 1, scoring: true})
		}
	}
	if len(subs) == 1 {
		return withBoost(subs[0], boost), nil
	}
	return &boolNode{should: subs, msm: 1, boost: boost}, nil
}

// withBoost multiplies n's boost by b.
func withBoost(n node, b float64) node {
	if b == 1 {
		return n
	}
	switch n := n.(type) {
	case *termNode:
		c := *n
		c.boost *= b
		return &c
	case *multiTermNode:
		c := *n
		c.boost *= b
		return &c
	case *boolNode:
		c := *n
		c.boost *= b
		return &c
	}
	return &boolNode{must: []node{n}, boost: b}
}

func containsStr(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// minShouldMatch resolves minimum_should_match for n optional clauses: an
// integer ("2"; negative: n minus it) or a percentage ("75%", "-25%"),
// rounded down as Elasticsearch does; the result is clamped to [0, n].
func minShouldMatch(spec string, n int, path string) (int, error) {
	s := strings.TrimSpace(spec)
	var r int
	if strings.HasSuffix(s, "%") {
		pct, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
		if err != nil {
			return 0, parseErr(path, "bad minimum_should_match [%s]", spec)
		}
		k := int(math.Floor(float64(n) * math.Abs(pct) / 100))
		if pct < 0 {
			r = n - k
		} else {
			r = k
		}
	} else {
		v, err := strconv.Atoi(s)
		if err != nil {
			return 0, parseErr(path, "bad minimum_should_match [%s] (want an integer or a percentage)", spec)
		}
		if v < 0 {
			r = n + v
		} else {
			r = v
		}
	}
	return min(max(r, 0), n), nil
}

// parseMultiMatch parses multi_match: best_fields (a dis_max of the
// per-field matches with tie_breaker), most_fields and cross_fields (a sum
// of them: cross_fields is treated as most_fields), phrase and
// phrase_prefix (a dis_max of per-field phrases). Fields take "^boost" and
// may be patterns ("title*", "*") over the text fields; without fields,
// every text field is searched.
func (p *parser) parseMultiMatch(raw json.RawMessage, path string) (node, error) {
	o, err := decodeObject(raw, path)
	if err != nil {
		return nil, err
	}
	mo := defaultMatchOpts()
	typ := "best_fields"
	tie := 0.0
	var fields []string
	for _, k := range o.keys() {
		kp := path + "." + k
		switch k {
		case "fields":
			if fields, err = asStrings(o[k], kp); err != nil {
				return nil, err
			}
		case "type":
			if typ, err = asString(o[k], kp); err != nil {
				return nil, err
			}
			switch typ {
			case "best_fields", "most_fields", "cross_fields", "phrase", "phrase_prefix":
			default:
				return nil, parseErr(kp, "unknown multi_match type [%s]", typ)
			}
		case "tie_breaker":
			if tie, err = asFloat(o[k], kp); err != nil {
				return nil, err
			}
		default:
			ok, err := parseMatchOpt(&mo, k, o[k], kp)
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, parseErr(kp, "unknown key [%s]", k)
			}
		}
	}
	if _, ok := o["query"]; !ok {
		return nil, parseErr(path, "missing [query]")
	}
	if len(fields) == 0 {
		fields = textFields(p.m)
	}
	var subs []node
	for i, f := range fields {
		name, boost := f, 1.0
		if j := strings.LastIndexByte(f, '^'); j >= 0 {
			b, err := strconv.ParseFloat(f[j+1:], 64)
			if err != nil || b < 0 {
				return nil, parseErr(path+".fields["+strconv.Itoa(i)+"]", "bad boost in [%s]", f)
			}
			name, boost = f[:j], b
		}
		names := []string{name}
		if strings.ContainsAny(name, "*?") {
			// A pattern names the text fields it matches.
			names = nil
			for _, tf := range textFields(p.m) {
				if wildcardMatch(name, tf) {
					names = append(names, tf)
				}
			}
		}
		for _, name := range names {
			fo := mo
			fo.boost = boost
			n, err := p.buildMatch(name, fo, path+".fields["+strconv.Itoa(i)+"]", typ == "phrase" || typ == "phrase_prefix", typ == "phrase_prefix")
			if err != nil {
				return nil, err
			}
			if _, none := n.(*matchNoneNode); !none {
				subs = append(subs, n)
			}
		}
	}
	if len(subs) == 0 {
		return &matchNoneNode{}, nil
	}
	if typ == "most_fields" || typ == "cross_fields" {
		return &boolNode{should: subs, msm: 1, boost: mo.boost}, nil
	}
	return &disMaxNode{subs: subs, tie: tie, boost: mo.boost}, nil
}

// textFields lists the mapping's text fields (with multi-fields), sorted.
func textFields(m *mapping.Mapping) []string {
	var out []string
	var walk func(prefix string, props map[string]*mapping.Field)
	walk = func(prefix string, props map[string]*mapping.Field) {
		for name, f := range props {
			path := prefix + name
			if f.Type == mapping.Text {
				out = append(out, path)
			}
			for sub, sf := range f.Fields {
				if sf.Type == mapping.Text {
					out = append(out, path+"."+sub)
				}
			}
			walk(path+".", f.Properties)
		}
	}
	if m != nil {
		walk("", m.Properties)
	}
	sort.Strings(out)
	return out
}

// parseBool parses bool: must, should, must_not, filter (an object or an
// array each), minimum_should_match, boost.
func (p *parser) parseBool(raw json.RawMessage, path string, depth int) (node, error) {
	o, err := decodeObject(raw, path)
	if err != nil {
		return nil, err
	}
	b := &boolNode{msm: -1, boost: 1}
	var msm string
	for _, k := range o.keys() {
		kp := path + "." + k
		var dst *[]node
		switch k {
		case "must":
			dst = &b.must
		case "should":
			dst = &b.should
		case "must_not":
			dst = &b.mustNot
		case "filter":
			dst = &b.filter
		case "minimum_should_match":
			if msm, err = asText(o[k], kp); err != nil {
				return nil, err
			}
			continue
		case "boost":
			if b.boost, err = asBoost(o[k], kp); err != nil {
				return nil, err
			}
			continue
		case "_name", "adjust_pure_negative":
			continue
		default:
			return nil, parseErr(kp, "unknown key [%s]", k)
		}
		items, err := decodeArray(o[k], kp, true)
		if err != nil {
			return nil, err
		}
		isArr := len(items) != 1 || !isObject(o[k])
		for i, it := range items {
			ip := kp
			if isArr {
				ip = kp + "[" + strconv.Itoa(i) + "]"
			}
			n, err := p.parseQuery(it, ip, depth+1)
			if err != nil {
				return nil, err
			}
			*dst = append(*dst, n)
		}
	}
	if msm != "" {
		if b.msm, err = minShouldMatch(msm, len(b.should), path+".minimum_should_match"); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// parseDisMax parses dis_max: queries, tie_breaker, boost.
func (p *parser) parseDisMax(raw json.RawMessage, path string, depth int) (node, error) {
	o, err := decodeObject(raw, path)
	if err != nil {
		return nil, err
	}
	d := &disMaxNode{boost: 1}
	for _, k := range o.keys() {
		kp := path + "." + k
		switch k {
		case "queries":
			items, err := decodeArray(o[k], kp, false)
			if err != nil {
				return nil, err
			}
			for i, it := range items {
				n, err := p.parseQuery(it, kp+"["+strconv.Itoa(i)+"]", depth+1)
				if err != nil {
					return nil, err
				}
				d.subs = append(d.subs, n)
			}
		case "tie_breaker":
			if d.tie, err = asFloat(o[k], kp); err != nil {
				return nil, err
			}
		case "boost":
			if d.boost, err = asBoost(o[k], kp); err != nil {
				return nil, err
			}
		case "_name":
		default:
			return nil, parseErr(kp, "unknown key [%s]", k)
		}
	}
	return d, nil
}

// parseConstantScore parses constant_score: filter, boost.
func (p *parser) parseConstantScore(raw json.RawMessage, path string, depth int) (node, error) {
	o, err := decodeObject(raw, path)
	if err != nil {
		return nil, err
	}
	c := &constNode{boost: 1}
	for _, k := range o.keys() {
		kp := path + "." + k
		switch k {
		case "filter":
			if c.filter, err = p.parseQuery(o[k], kp, depth+1); err != nil {
				return nil, err
			}
		case "boost":
			if c.boost, err = asBoost(o[k], kp); err != nil {
				return nil, err
			}
		case "_name":
		default:
			return nil, parseErr(kp, "unknown key [%s]", k)
		}
	}
	if c.filter == nil {
		return nil, parseErr(path, "missing [filter]")
	}
	return c, nil
}

// termOf converts a JSON value to the index term of field f: the text of
// text and keyword fields, EncodeInt/EncodeFloat of numbers, epoch
// milliseconds of dates, 0/1 of booleans.
func (p *parser) termOf(f *mapping.Field, v json.RawMessage, path string) (string, error) {
	switch f.Type {
	case mapping.Text, mapping.Keyword:
		t, err := asText(v, path)
		return p.keyword(f, t), err
	case mapping.Long, mapping.Integer, mapping.Short, mapping.Byte:
		n, err := asFloat(v, path)
		if err != nil {
			return "", err
		}
		if n != math.Trunc(n) {
			return "", parseErr(path, "[%v] is not an integer", n)
		}
		return string(index.EncodeInt(int64(n))), nil
	case mapping.Double, mapping.Float:
		n, err := asFloat(v, path)
		if err != nil {
			return "", err
		}
		return string(index.EncodeFloat(n)), nil
	case mapping.Date:
		s, err := asText(v, path)
		if err != nil {
			return "", err
		}
		ms, err := p.date(f, s, false)
		if err != nil {
			return "", parseErr(path, "%v", err)
		}
		return string(index.EncodeInt(ms)), nil
	case mapping.Boolean:
		b, err := asBool(v, path)
		if err != nil {
			return "", err
		}
		if b {
			return string(index.EncodeInt(1)), nil
		}
		return string(index.EncodeInt(0)), nil
	}
	return "", parseErr(path, "field of type [%s] cannot be queried", f.Type)
}

// parseTerm parses term: {"field": value} or {"field": {"value", "boost"}}.
func (p *parser) parseTerm(raw json.RawMessage, path string) (node, error) {
	field, o, fpath, err := fieldClause(raw, path, "value")
	if err != nil {
		return nil, err
	}
	boost := 1.0
	var value json.RawMessage
	for _, k := range o.keys() {
		switch k {
		case "value":
			value = o[k]
		case "boost":
			if boost, err = asBoost(o[k], fpath+".boost"); err != nil {
				return nil, err
			}
		case "_name", "case_insensitive":
		default:
			return nil, parseErr(fpath+"."+k, "unknown key [%s]", k)
		}
	}
	if value == nil {
		return nil, parseErr(fpath, "missing [value]")
	}
	f := p.lookup(field)
	if f == nil {
		return &matchNoneNode{}, nil
	}
	term, err := p.termOf(f, value, fpath+".value")
	if err != nil {
		return nil, err
	}
	return &termNode{field: field, term: term, boost: boost, scoring: f.Type == mapping.Text || f.Type == mapping.Keyword}, nil
}

// parseTerms parses terms: {"field": [values], "boost": b}.
func (p *parser) parseTerms(raw json.RawMessage, path string) (node, error) {
	o, err := decodeObject(raw, path)
	if err != nil {
		return nil, err
	}
	boost := 1.0
	if v, ok := o["boost"]; ok {
		if boost, err = asBoost(v, path+".boost"); err != nil {
			return nil, err
		}
		delete(o, "boost")
	}
	delete(o, "_name")
	field, v, err := singleKey(o, path, "field")
	if err != nil {
		return nil, err
	}
	fpath := path + "." + field
	items, err := decodeArray(v, fpath, false)
	if err != nil {
		return nil, err
	}
	f := p.lookup(field)
	if f == nil {
		return &matchNoneNode{}, nil
	}
	n := &termsNode{field: field, boost: boost}
	for i, it := range items {
		t, err := p.termOf(f, it, fpath+"["+strconv.Itoa(i)+"]")
		if err != nil {
			return nil, err
		}
		n.terms = append(n.terms, t)
	}
	return n, nil
}

// parseMultiTerm parses prefix, wildcard and fuzzy.
func (p *parser) parseMultiTerm(typ string, raw json.RawMessage, path string) (node, error) {
	field, o, fpath, err := fieldClause(raw, path, "value")
	if err != nil {
		return nil, err
	}
	n := &multiTermNode{field: field, boost: 1, maxExpansions: p.limits.MaxExpansions, transpositions: true}
	fuzziness := "AUTO"
	hasValue := false
	for _, k := range o.keys() {
		kp := fpath + "." + k
		v := o[k]
		switch {
		case k == "value" || (k == "wildcard" && typ == "wildcard"):
			if n.text, err = asText(v, kp); err != nil {
				return nil, err
			}
			hasValue = true
		case k == "boost":
			n.boost, err = asBoost(v, kp)
		case k == "fuzziness" && typ == "fuzzy":
			fuzziness, err = asText(v, kp)
		case k == "prefix_length" && typ == "fuzzy":
			n.prefixLen, err = asInt(v, kp)
		case k == "transpositions" && typ == "fuzzy":
			n.transpositions, err = asBool(v, kp)
		case k == "max_expansions" && typ == "fuzzy":
			n.maxExpansions, err = asInt(v, kp)
			if err == nil && n.maxExpansions <= 0 {
				err = parseErr(kp, "must be positive")
			}
		case k == "_name" || k == "rewrite" || k == "case_insensitive":
		default:
			return nil, parseErr(kp, "unknown key [%s]", k)
		}
		if err != nil {
			return nil, err
		}
	}
	if !hasValue {
		return nil, parseErr(fpath, "missing [value]")
	}
	n.maxExpansions = min(n.maxExpansions, p.limits.MaxExpansions)
	switch typ {
	case "prefix":
		n.kind = multiPrefix
	case "wildcard":
		n.kind = multiWildcard
	case "fuzzy":
		n.kind = multiFuzzy
		if n.edits, err = fuzzyEdits(fuzziness, n.text, fpath+".fuzziness"); err != nil {
			return nil, err
		}
	}
	f := p.lookup(field)
	if f != nil && f.Type == mapping.Keyword {
		n.text = p.keyword(f, n.text)
		if typ == "fuzzy" {
			if n.edits, err = fuzzyEdits(fuzziness, n.text, fpath+".fuzziness"); err != nil {
				return nil, err
			}
		}
	}
	if f == nil || (f.Type != mapping.Text && f.Type != mapping.Keyword) {
		if f != nil && typ == "fuzzy" {
			return nil, parseErr(fpath, "fuzzy needs a text or keyword field, [%s] is %s", field, f.Type)
		}
		if f != nil {
			return nil, parseErr(fpath, "%s needs a text or keyword field, [%s] is %s", typ, field, f.Type)
		}
		return &matchNoneNode{}, nil
	}
	return n, nil
}

// parseRange parses range: gt, gte, lt, lte (from/to/include_* too) on
// numeric, date (with date math) and keyword fields.
func (p *parser) parseRange(raw json.RawMessage, path string) (node, error) {
	field, o, fpath, err := fieldClause(raw, path, "")
	if err != nil {
		return nil, err
	}
	if _, short := o[""]; short {
		return nil, parseErr(fpath, "expected an object of bounds")
	}
	f := p.lookup(field)
	n := &rangeNode{field: field, boost: 1, loIncl: true, hiIncl: true}
	if f != nil {
		switch f.Type {
		case mapping.Double, mapping.Float:
			n.kind = rangeFloat
		case mapping.Keyword, mapping.Text:
			n.kind = rangeKeyword
		}
	}
	type bound struct {
		raw      json.RawMessage
		incl, lo bool
		key      string
	}
	var bounds []bound
	for _, k := range o.keys() {
		kp := fpath + "." + k
		v := o[k]
		switch k {
		case "gt":
			bounds = append(bounds, bound{v, false, true, k})
		case "gte", "from":
			bounds = append(bounds, bound{v, true, true, k})
		case "lt":
			bounds = append(bounds, bound{v, false, false, k})
		case "lte", "to":
			bounds = append(bounds, bound{v, true, false, k})
		case "boost":
			if n.boost, err = asBoost(v, kp); err != nil {
				return nil, err
			}
		case "format", "time_zone", "relation", "_name", "include_lower", "include_upper":
		default:
			return nil, parseErr(kp, "unknown key [%s]", k)
		}
	}
	if f == nil {
		return &matchNoneNode{}, nil
	}
	for _, b := range bounds {
		if string(b.raw) == "null" {
			continue
		}
		kp := fpath + "." + b.key
		incl := b.incl
		if b.key == "from" || b.key == "to" {
			incl = true
			ik := "include_lower"
			if b.key == "to" {
				ik = "include_upper"
			}
			if v, ok := o[ik]; ok {
				if incl, err = asBool(v, fpath+"."+ik); err != nil {
					return nil, err
				}
			}
		}
		term, err := p.rangeTerm(f, b.raw, kp, b.lo, &incl)
		if err != nil {
			return nil, err
		}
		if b.lo {
			n.lo, n.loIncl = term, incl
		} else {
			n.hi, n.hiIncl = term, incl
		}
	}
	return n, nil
}

// rangeTerm encodes one range bound. Integer bounds with fractions round
// inward (gte 1.5 on a long is gte 2); date math rounds up for gt and lte.
func (p *parser) rangeTerm(f *mapping.Field, v json.RawMessage, path string, lo bool, incl *bool) ([]byte, error) {
	switch f.Type {
	case mapping.Text, mapping.Keyword:
		s, err := asText(v, path)
		return []byte(p.keyword(f, s)), err
	case mapping.Long, mapping.Integer, mapping.Short, mapping.Byte:
		x, err := asFloat(v, path)
		if err != nil {
			return nil, err
		}
		if x != math.Trunc(x) {
			*incl = true
			if lo {
				x = math.Ceil(x)
			} else {
				x = math.Floor(x)
			}
		}
		return index.EncodeInt(int64(x)), nil
	case mapping.Double, mapping.Float:
		x, err := asFloat(v, path)
		if err != nil {
			return nil, err
		}
		return index.EncodeFloat(x), nil
	case mapping.Date:
		s, err := asText(v, path)
		if err != nil {
			return nil, err
		}
		roundUp := (lo && !*incl) || (!lo && *incl)
		ms, err := p.date(f, s, roundUp)
		if err != nil {
			return nil, parseErr(path, "%v", err)
		}
		return index.EncodeInt(ms), nil
	case mapping.Boolean:
		b, err := asBool(v, path)
		if err != nil {
			return nil, err
		}
		if b {
			return index.EncodeInt(1), nil
		}
		return index.EncodeInt(0), nil
	}
	return nil, parseErr(path, "range on a field of type [%s]", f.Type)
}

// parseExists parses exists: {"field": name}.
func (p *parser) parseExists(raw json.RawMessage, path string) (node, error) {
	o, err := decodeObject(raw, path)
	if err != nil {
		return nil, err
	}
	n := &existsNode{boost: 1}
	for _, k := range o.keys() {
		kp := path + "." + k
		switch k {
		case "field":
			if n.field, err = asString(o[k], kp); err != nil {
				return nil, err
			}
		case "boost":
			if n.boost, err = asBoost(o[k], kp); err != nil {
				return nil, err
			}
		case "_name":
		default:
			return nil, parseErr(kp, "unknown key [%s]", k)
		}
	}
	if n.field == "" {
		return nil, parseErr(path, "missing [field]")
	}
	return n, nil
}

// parseIDs parses ids: {"values": [...]}.
func (p *parser) parseIDs(raw json.RawMessage, path string) (node, error) {
	o, err := decodeObject(raw, path)
	if err != nil {
		return nil, err
	}
	n := &idsNode{ids: map[string]bool{}, boost: 1}
	for _, k := range o.keys() {
		kp := path + "." + k
		switch k {
		case "values":
			ids, err := asStrings(o[k], kp)
			if err != nil {
				return nil, err
			}
			for _, id := range ids {
				n.ids[id] = true
			}
		case "boost":
			if n.boost, err = asBoost(o[k], kp); err != nil {
				return nil, err
			}
		case "_name":
		default:
			return nil, parseErr(kp, "unknown key [%s]", k)
		}
	}
	return n, nil
}
