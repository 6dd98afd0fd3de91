package analysis

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// params is one definition's JSON object; its accessors record which keys
// they read so that unknown keys can be refused.
type params struct {
	path string
	raw  map[string]json.RawMessage
	used map[string]bool
}

func newParams(path string, raw json.RawMessage) (*params, error) {
	p := &params{path: path, used: map[string]bool{}}
	if err := json.Unmarshal(raw, &p.raw); err != nil || p.raw == nil {
		return nil, fmt.Errorf("%w: %s: must be an object", ErrSettings, path)
	}
	return p, nil
}

func (p *params) errorf(key, format string, args ...any) error {
	at := p.path
	if key != "" {
		at += "." + key
	}
	return fmt.Errorf("%w: %s: %s", ErrSettings, at, fmt.Sprintf(format, args...))
}

func (p *params) has(key string) bool { _, ok := p.raw[key]; return ok }

// str reads a string (def when absent).
func (p *params) str(key, def string) (string, error) {
	p.used[key] = true
	raw, ok := p.raw[key]
	if !ok || string(raw) == "null" {
		return def, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", p.errorf(key, "must be a string")
	}
	return s, nil
}

// integer reads a non-negative integer, given as a number or a numeric
// string as Elasticsearch allows.
func (p *params) integer(key string, def int) (int, error) {
	p.used[key] = true
	raw, ok := p.raw[key]
	if !ok || string(raw) == "null" {
		return def, nil
	}
	s := strings.Trim(string(raw), `"`)
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, p.errorf(key, "must be a non-negative integer, got %s", raw)
	}
	return n, nil
}

// boolean reads a boolean, given as true/false or "true"/"false".
func (p *params) boolean(key string, def bool) (bool, error) {
	p.used[key] = true
	raw, ok := p.raw[key]
	if !ok || string(raw) == "null" {
		return def, nil
	}
	switch strings.Trim(string(raw), `"`) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, p.errorf(key, "must be true or false, got %s", raw)
}

// strings reads a list of strings or a single string.
func (p *params) strings(key string) ([]string, bool, error) {
	p.used[key] = true
	raw, ok := p.raw[key]
	if !ok || string(raw) == "null" {
		return nil, false, nil
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, true, nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, false, p.errorf(key, "must be a string or a list of strings")
	}
	out := make([]string, len(list))
	for i, r := range list {
		if err := json.Unmarshal(r, &out[i]); err != nil {
			return nil, false, p.errorf(fmt.Sprintf("%s[%d]", key, i), "must be a string")
		}
	}
	return out, true, nil
}

// done refuses keys no accessor read; ignored names keys accepted without
// effect.
func (p *params) done(ignored ...string) error {
	for _, k := range ignored {
		p.used[k] = true
	}
	var unknown []string
	for k := range p.raw {
		if !p.used[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return p.errorf("", "unknown parameter [%s]", strings.Join(unknown, ", "))
	}
	return nil
}

// stopWords reads a stop word setting: "_english_", "_none_" or a list.
func (p *params) stopWords(key string, def []string) ([]string, error) {
	list, ok, err := p.strings(key)
	if err != nil || !ok {
		return def, err
	}
	if raw := p.raw[key]; len(raw) > 0 && raw[0] == '"' {
		switch list[0] {
		case "_english_":
			return englishStopWords, nil
		case "_none_":
			return nil, nil
		}
		return nil, p.errorf(key, "unknown stop word list %q (want \"_english_\", \"_none_\" or a list)", list[0])
	}
	return list, nil
}

func parseCharFilter(path string, raw json.RawMessage) (charFilter, error) {
	p, err := newParams(path, raw)
	if err != nil {
		return nil, err
	}
	typ, err := p.str("type", "")
	if err != nil {
		return nil, err
	}
	switch typ {
	case "html_strip":
		keep, _, err := p.strings("escaped_tags")
		if err != nil {
			return nil, err
		}
		f := htmlStripFilter{keep: map[string]bool{}}
		for _, t := range keep {
			f.keep[strings.ToLower(t)] = true
		}
		return f, p.done()
	case "mapping":
		if p.has("mappings_path") {
			return nil, p.errorf("mappings_path", "mapping files are not supported; list the rules in mappings")
		}
		rules, ok, err := p.strings("mappings")
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, p.errorf("mappings", "missing")
		}
		f := &mappingCharFilter{byFirst: map[byte][]mappingRule{}}
		for i, rule := range rules {
			from, to, found := strings.Cut(rule, "=>")
			from, to = strings.TrimSpace(from), strings.TrimSpace(to)
			if !found || from == "" {
				return nil, p.errorf(fmt.Sprintf("mappings[%d]", i), "want \"key => value\", got %q", rule)
			}
			from, to = unescapeMapping(from), unescapeMapping(to)
			f.byFirst[from[0]] = append(f.byFirst[from[0]], mappingRule{from: from, to: to})
		}
		for _, rs := range f.byFirst {
			slices.SortStableFunc(rs, func(a, b mappingRule) int { return len(b.from) - len(a.from) })
		}
		return f, p.done()
	case "":
		return nil, p.errorf("type", "missing")
	}
	return nil, p.errorf("type", "unknown char filter type [%s] (html_strip, mapping)", typ)
}

// unescapeMapping decodes the escapes of a mapping rule's side (\n, \t,
// \uXXXX, \\ and escaped characters).
func unescapeMapping(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	if u, err := strconv.Unquote(`"` + strings.ReplaceAll(s, `"`, `\"`) + `"`); err == nil {
		return u
	}
	return s
}

// filterFactory builds a defined filter for one analyzer; pre analyses with
// the analyzer's tokenizer and the filters before this one (synonyms
// analyse their rules with it).
type filterFactory func(pre Analyzer) (TokenFilter, error)

// settings is the parsed top level of settings.analysis.
type settings struct {
	Analyzer   map[string]json.RawMessage `json:"analyzer"`
	Filter     map[string]json.RawMessage `json:"filter"`
	Tokenizer  map[string]json.RawMessage `json:"tokenizer"`
	CharFilter map[string]json.RawMessage `json:"char_filter"`
	Normalizer map[string]json.RawMessage `json:"normalizer"`
}

// NewRegistry builds the registry of an index from Elasticsearch's
// settings.analysis JSON (nil or empty: built-ins only). Errors wrap
// ErrSettings and name the offending path (e.g.
// "analysis.filter.my_syn.synonyms[2]"). Supported: custom analyzers (a
// tokenizer, filters and char filters html_strip and mapping), normalizers
// (of one-to-one filters), the built-in analyzer
// types with their stopwords parameter, tokenizers standard, letter,
// lowercase, whitespace, keyword, ngram and edge_ngram, and filters
// lowercase, uppercase, asciifolding, stop, stemmer (english/porter2,
// porter, possessive_english), snowball, porter_stem, synonym,
// synonym_graph, ngram, edge_ngram, length, truncate, trim, unique,
// reverse and apostrophe.
func NewRegistry(settingsJSON []byte) (*Registry, error) {
	r := &Registry{analyzers: map[string]Analyzer{}, normalizers: map[string]*Normalizer{}}
	trimmed := bytes.TrimSpace(settingsJSON)
	if len(trimmed) == 0 || string(trimmed) == "null" || string(trimmed) == "{}" {
		return r, nil
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &top); err != nil {
		return nil, fmt.Errorf("%w: analysis: %v", ErrSettings, err)
	}
	if inner, ok := top["analysis"]; ok && len(top) == 1 {
		trimmed = inner
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	var s settings
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%w: analysis: %v", ErrSettings, err)
	}
	charFilters := map[string]charFilter{}
	for _, name := range sortedKeys(s.CharFilter) {
		cf, err := parseCharFilter("analysis.char_filter."+name, s.CharFilter[name])
		if err != nil {
			return nil, err
		}
		charFilters[name] = cf
	}
	tokenizers := map[string]Tokenizer{}
	for _, name := range sortedKeys(s.Tokenizer) {
		t, err := parseTokenizer("analysis.tokenizer."+name, s.Tokenizer[name])
		if err != nil {
			return nil, err
		}
		tokenizers[name] = t
	}
	filters := map[string]filterFactory{}
	for _, name := range sortedKeys(s.Filter) {
		f, err := parseFilter("analysis.filter."+name, s.Filter[name])
		if err != nil {
			return nil, err
		}
		// Check the definition once on its own, so that errors in filters
		// no analyzer uses are reported too.
		if _, err := f(builtinAnalyzers["standard"]); err != nil {
			return nil, err
		}
		filters[name] = f
	}
	for _, name := range sortedKeys(s.Analyzer) {
		a, err := parseAnalyzer("analysis.analyzer."+name, s.Analyzer[name], charFilters, tokenizers, filters)
		if err != nil {
			return nil, err
		}
		r.analyzers[name] = a
	}
	for _, name := range sortedKeys(s.Normalizer) {
		n, err := parseNormalizer("analysis.normalizer."+name, s.Normalizer[name], filters)
		if err != nil {
			return nil, err
		}
		r.normalizers[name] = n
	}
	return r, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// lowercaseTokenizer is the letter tokenizer followed by lowercasing.
type lowercaseTokenizer struct{}

func (lowercaseTokenizer) Tokenize(text string, dst []Token) []Token {
	start := len(dst)
	dst = letterTokenizer{}.Tokenize(text, dst)
	mapTerms(dst[start:], lowerString)
	return dst
}

func builtinTokenizer(name string) (Tokenizer, bool) {
	if name == "lowercase" {
		return lowercaseTokenizer{}, true
	}
	t, ok := builtinTokenizers[name]
	return t, ok
}

func parseTokenizer(path string, raw json.RawMessage) (Tokenizer, error) {
	p, err := newParams(path, raw)
	if err != nil {
		return nil, err
	}
	typ, err := p.str("type", "")
	if err != nil {
		return nil, err
	}
	var t Tokenizer
	switch typ {
	case "standard":
		n, err := p.integer("max_token_length", defaultMaxTokenLength)
		if err != nil {
			return nil, err
		}
		if n < 1 {
			return nil, p.errorf("max_token_length", "must be at least 1")
		}
		t = standardTokenizer{maxLen: n}
	case "edge_ngram", "edgeNGram", "ngram", "nGram":
		lo, hi, err := gramRange(p, 1, 2)
		if err != nil {
			return nil, err
		}
		classes, _, err := p.strings("token_chars")
		if err != nil {
			return nil, err
		}
		custom, err := p.str("custom_token_chars", "")
		if err != nil {
			return nil, err
		}
		chars, unknown := tokenChars(classes, custom)
		if unknown != "" {
			return nil, p.errorf("token_chars", "unknown character class [%s] (letter, digit, whitespace, punctuation, symbol, custom)", unknown)
		}
		t = ngramTokenizer{min: lo, max: hi, edge: typ == "edge_ngram" || typ == "edgeNGram", chars: chars}
	case "letter", "whitespace", "keyword", "lowercase":
		t, _ = builtinTokenizer(typ)
		if err := p.done("max_token_length", "buffer_size"); err != nil {
			return nil, err
		}
	case "":
		return nil, p.errorf("type", "missing")
	default:
		return nil, p.errorf("type", "unknown tokenizer type [%s]", typ)
	}
	return t, p.done()
}

func parseFilter(path string, raw json.RawMessage) (filterFactory, error) {
	p, err := newParams(path, raw)
	if err != nil {
		return nil, err
	}
	typ, err := p.str("type", "")
	if err != nil {
		return nil, err
	}
	fixed := func(f TokenFilter) (filterFactory, error) {
		return func(Analyzer) (TokenFilter, error) { return f, nil }, p.done()
	}
	switch typ {
	case "":
		return nil, p.errorf("type", "missing")
	case "lowercase":
		if lang, err := p.str("language", ""); err != nil || lang != "" {
			if err == nil {
				err = p.errorf("language", "language-specific lowercasing [%s] is not supported", lang)
			}
			return nil, err
		}
		return fixed(lowercaseFilter{})
	case "uppercase", "trim", "reverse", "apostrophe":
		f := builtinFilters[typ]
		return fixed(f)
	case "asciifolding":
		keep, err := p.boolean("preserve_original", false)
		if err != nil {
			return nil, err
		}
		return fixed(asciiFoldingFilter{preserveOriginal: keep})
	case "stop":
		words, err := p.stopWords("stopwords", englishStopWords)
		if err != nil {
			return nil, err
		}
		if p.has("stopwords_path") {
			return nil, p.errorf("stopwords_path", "stop word files are not supported; list the words in stopwords")
		}
		ignoreCase, err := p.boolean("ignore_case", false)
		if err != nil {
			return nil, err
		}
		if _, err := p.boolean("remove_trailing", true); err != nil {
			return nil, err
		}
		return fixed(newStopFilter(words, ignoreCase))
	case "stemmer", "snowball":
		lang, err := p.str("language", "english")
		if err != nil {
			return nil, err
		}
		key := "language"
		if typ == "stemmer" && p.has("name") {
			if lang, err = p.str("name", ""); err != nil {
				return nil, err
			}
			key = "name"
		}
		f, ok := stemmerByLanguage(strings.ToLower(lang))
		if !ok {
			return nil, p.errorf(key, "unsupported stemmer language [%s] (supported: english, porter2, porter, possessive_english)", lang)
		}
		return fixed(f)
	case "porter_stem":
		return fixed(stemFilter{porter1})
	case "synonym", "synonym_graph":
		if p.has("synonyms_path") {
			return nil, p.errorf("synonyms_path", "synonym files are not supported; list the rules in synonyms")
		}
		if p.has("format") {
			format, err := p.str("format", "solr")
			if err != nil {
				return nil, err
			}
			if format != "solr" {
				return nil, p.errorf("format", "only the solr synonym format is supported")
			}
		}
		rules, ok, err := p.strings("synonyms")
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, p.errorf("synonyms", "missing")
		}
		expand, err := p.boolean("expand", true)
		if err != nil {
			return nil, err
		}
		if err := p.done("lenient", "updateable", "tokenizer", "ignore_case"); err != nil {
			return nil, err
		}
		synPath := path + ".synonyms"
		return func(pre Analyzer) (TokenFilter, error) {
			return parseSynonyms(rules, expand, pre, synPath)
		}, nil
	case "ngram", "nGram":
		lo, hi, err := gramRange(p, 1, 2)
		if err != nil {
			return nil, err
		}
		keep, err := p.boolean("preserve_original", false)
		if err != nil {
			return nil, err
		}
		return fixed(ngramFilter{min: lo, max: hi, preserveOriginal: keep})
	case "edge_ngram", "edgeNGram":
		lo, hi, err := gramRange(p, 1, 2)
		if err != nil {
			return nil, err
		}
		keep, err := p.boolean("preserve_original", false)
		if err != nil {
			return nil, err
		}
		if side, err := p.str("side", "front"); err != nil || side != "front" {
			if err == nil {
				err = p.errorf("side", "only side \"front\" is supported")
			}
			return nil, err
		}
		return fixed(edgeNGramFilter{min: lo, max: hi, preserveOriginal: keep})
	case "length":
		lo, err := p.integer("min", 0)
		if err != nil {
			return nil, err
		}
		hi, err := p.integer("max", math.MaxInt32)
		if err != nil {
			return nil, err
		}
		if hi < lo {
			return nil, p.errorf("max", "max (%d) is below min (%d)", hi, lo)
		}
		return fixed(lengthFilter{min: lo, max: hi})
	case "truncate":
		n, err := p.integer("length", 10)
		if err != nil {
			return nil, err
		}
		if n < 1 {
			return nil, p.errorf("length", "must be at least 1")
		}
		return fixed(truncateFilter{n: n})
	case "unique":
		same, err := p.boolean("only_on_same_position", false)
		if err != nil {
			return nil, err
		}
		return fixed(uniqueFilter{onlySamePosition: same})
	}
	return nil, p.errorf("type", "unknown filter type [%s]", typ)
}

// gramRange reads min_gram and max_gram.
func gramRange(p *params, defMin, defMax int) (int, int, error) {
	lo, err := p.integer("min_gram", defMin)
	if err != nil {
		return 0, 0, err
	}
	hi, err := p.integer("max_gram", defMax)
	if err != nil {
		return 0, 0, err
	}
	if lo < 1 || hi < lo {
		return 0, 0, p.errorf("max_gram", "need 1 <= min_gram (%d) <= max_gram (%d)", lo, hi)
	}
	if hi-lo > maxNGramDiff {
		return 0, 0, p.errorf("max_gram", "max_gram - min_gram is %d, the limit is %d", hi-lo, maxNGramDiff)
	}
	return lo, hi, nil
}

func stemmerByLanguage(lang string) (TokenFilter, bool) {
	switch lang {
	case "english", "porter2":
		return stemFilter{porter2}, true
	case "porter":
		return stemFilter{porter1}, true
	case "possessive_english":
		return possessiveFilter{}, true
	}
	return nil, false
}

func parseAnalyzer(path string, raw json.RawMessage, charFilters map[string]charFilter, tokenizers map[string]Tokenizer, filters map[string]filterFactory) (Analyzer, error) {
	p, err := newParams(path, raw)
	if err != nil {
		return nil, err
	}
	typ, err := p.str("type", "")
	if err != nil {
		return nil, err
	}
	if typ == "" && p.has("tokenizer") {
		typ = "custom"
	}
	switch typ {
	case "custom":
		return parseCustomAnalyzer(p, charFilters, tokenizers, filters)
	case "standard", "english", "stop":
		def := map[string][]string{"standard": nil, "english": englishStopWords, "stop": englishStopWords}[typ]
		words, err := p.stopWords("stopwords", def)
		if err != nil {
			return nil, err
		}
		maxLen, err := p.integer("max_token_length", defaultMaxTokenLength)
		if err != nil {
			return nil, err
		}
		if maxLen < 1 {
			return nil, p.errorf("max_token_length", "must be at least 1")
		}
		if p.has("stem_exclusion") {
			return nil, p.errorf("stem_exclusion", "not supported")
		}
		if err := p.done(); err != nil {
			return nil, err
		}
		stop := newStopFilter(words, false)
		switch typ {
		case "standard":
			return &chain{tokenizer: standardTokenizer{maxLen: maxLen}, filters: []TokenFilter{lowercaseFilter{}, stop}}, nil
		case "stop":
			return &chain{tokenizer: letterTokenizer{}, filters: []TokenFilter{lowercaseFilter{}, stop}}, nil
		}
		return &chain{tokenizer: standardTokenizer{maxLen: maxLen}, filters: []TokenFilter{englishFilter{stop: stop, stem: porter2}}}, nil
	case "simple", "whitespace", "keyword":
		return builtinAnalyzers[typ], p.done()
	case "snowball":
		lang, err := p.str("language", "English")
		if err != nil {
			return nil, err
		}
		if !strings.EqualFold(lang, "english") {
			return nil, p.errorf("language", "unsupported snowball language [%s]", lang)
		}
		words, err := p.stopWords("stopwords", englishStopWords)
		if err != nil {
			return nil, err
		}
		return &chain{tokenizer: builtinTokenizers["standard"], filters: []TokenFilter{lowercaseFilter{}, newStopFilter(words, false), stemFilter{porter2}}}, p.done()
	case "":
		return nil, p.errorf("type", "missing (or give a tokenizer for a custom analyzer)")
	}
	return nil, p.errorf("type", "unknown analyzer type [%s]", typ)
}

func parseNormalizer(path string, raw json.RawMessage, filters map[string]filterFactory) (*Normalizer, error) {
	p, err := newParams(path, raw)
	if err != nil {
		return nil, err
	}
	if typ, err := p.str("type", "custom"); err != nil || typ != "custom" {
		if err == nil {
			err = p.errorf("type", "must be custom")
		}
		return nil, err
	}
	if cf, _, err := p.strings("char_filter"); err != nil || len(cf) > 0 {
		if err == nil {
			err = p.errorf("char_filter", "char filters are not supported")
		}
		return nil, err
	}
	names, _, err := p.strings("filter")
	if err != nil {
		return nil, err
	}
	if err := p.done(); err != nil {
		return nil, err
	}
	n := &Normalizer{}
	for i, name := range names {
		at := fmt.Sprintf("filter[%d]", i)
		var f TokenFilter
		if build, ok := filters[name]; ok {
			if f, err = build(builtinAnalyzers["keyword"]); err != nil {
				return nil, err
			}
		} else if f, ok = builtinFilters[name]; !ok {
			return nil, p.errorf(at, "unknown filter [%s]", name)
		}
		if !oneToOne(f) {
			return nil, p.errorf(at, "filter [%s] cannot be used in a normalizer (only lowercase, uppercase, asciifolding, trim, reverse, truncate)", name)
		}
		n.filters = append(n.filters, f)
	}
	return n, nil
}

// oneToOne reports whether f maps each token to exactly one token.
func oneToOne(f TokenFilter) bool {
	switch f := f.(type) {
	case lowercaseFilter, uppercaseFilter, trimFilter, reverseFilter, truncateFilter:
		return true
	case asciiFoldingFilter:
		return !f.preserveOriginal
	}
	return false
}

func parseCustomAnalyzer(p *params, charFilters map[string]charFilter, tokenizers map[string]Tokenizer, filters map[string]filterFactory) (Analyzer, error) {
	tname, err := p.str("tokenizer", "")
	if err != nil {
		return nil, err
	}
	if tname == "" {
		return nil, p.errorf("tokenizer", "missing")
	}
	tok, ok := tokenizers[tname]
	if !ok {
		if tok, ok = builtinTokenizer(tname); !ok {
			return nil, p.errorf("tokenizer", "unknown tokenizer [%s]", tname)
		}
	}
	cfNames, _, err := p.strings("char_filter")
	if err != nil {
		return nil, err
	}
	c := &chain{tokenizer: tok}
	for i, name := range cfNames {
		cf, ok := charFilters[name]
		if !ok && name == "html_strip" {
			cf, ok = htmlStripFilter{}, true
		}
		if !ok {
			return nil, p.errorf(fmt.Sprintf("char_filter[%d]", i), "unknown char filter [%s]", name)
		}
		c.charFilters = append(c.charFilters, cf)
	}
	names, _, err := p.strings("filter")
	if err != nil {
		return nil, err
	}
	if _, err := p.integer("position_increment_gap", 100); err != nil {
		return nil, err
	}
	if err := p.done(); err != nil {
		return nil, err
	}
	for i, name := range names {
		at := fmt.Sprintf("filter[%d]", i)
		if build, ok := filters[name]; ok {
			pre := &chain{tokenizer: tok, filters: slices.Clone(c.filters)} // synonym rules are not char-filtered
			f, err := build(pre)
			if err != nil {
				return nil, err
			}
			c.filters = append(c.filters, f)
			continue
		}
		f, ok := builtinFilters[name]
		if !ok {
			return nil, p.errorf(at, "unknown filter [%s]", name)
		}
		c.filters = append(c.filters, f)
	}
	return c, nil
}
