package query

import (
	"encoding/json"
	"sort"
	"strings"

	"cairn.dev/cairn/searchd/analysis"
	"cairn.dev/cairn/searchd/index"
	"cairn.dev/cairn/searchd/mapping"
)

// SuggestSuffix names the hidden field holding a text field's unstemmed
// words ("title" → "title._suggest"): the engine indexes each text value's
// mapping.FieldValue.Surface there, and suggestions come from it (a
// suggestion must be a word, not a stem). Without it, the field's own
// terms are used.
const SuggestSuffix = "._suggest"

// suggestSpec is one named suggestion of the suggest option: the term
// suggester ("did you mean") or the completion suggester.
type suggestSpec struct {
	name, text string
	completion bool
	field      string
	size       int
	// term suggester
	mode          string // missing (default), popular, always
	maxEdits      int
	prefixLength  int
	minWordLength int
	// completion
	fuzzy bool
}

func parseSuggest(raw json.RawMessage, m *mapping.Mapping) ([]suggestSpec, error) {
	o, err := decodeObject(raw, "suggest")
	if err != nil {
		return nil, err
	}
	global := ""
	if v, ok := o["text"]; ok {
		if global, err = asText(v, "suggest.text"); err != nil {
			return nil, err
		}
	}
	var out []suggestSpec
	for _, name := range o.keys() {
		if name == "text" {
			continue
		}
		path := "suggest." + name
		so, err := decodeObject(o[name], path)
		if err != nil {
			return nil, err
		}
		s := suggestSpec{name: name, text: global, size: 5, mode: "missing", maxEdits: 2, prefixLength: 1, minWordLength: 4}
		var body json.RawMessage
		for _, k := range so.keys() {
			kp := path + "." + k
			switch k {
			case "text", "prefix":
				if s.text, err = asText(so[k], kp); err != nil {
					return nil, err
				}
			case "term", "completion":
				if body != nil {
					return nil, parseErr(kp, "only one suggester per suggestion")
				}
				body = so[k]
				s.completion = k == "completion"
			default:
				return nil, parseErr(kp, "unknown key [%s]", k)
			}
		}
		if body == nil {
			return nil, parseErr(path, "missing a term or completion suggester")
		}
		kind := "term"
		if s.completion {
			kind = "completion"
		}
		bp := path + "." + kind
		bo, err := decodeObject(body, bp)
		if err != nil {
			return nil, err
		}
		for _, k := range bo.keys() {
			kp := bp + "." + k
			v := bo[k]
			switch {
			case k == "field":
				s.field, err = asString(v, kp)
			case k == "size":
				s.size, err = asInt(v, kp)
				if err == nil && (s.size <= 0 || s.size > 100) {
					err = parseErr(kp, "must be in 1..100")
				}
			case k == "suggest_mode" && !s.completion:
				s.mode, err = asString(v, kp)
				if err == nil && s.mode != "missing" && s.mode != "popular" && s.mode != "always" {
					err = parseErr(kp, "must be missing, popular or always")
				}
			case k == "max_edits" && !s.completion:
				s.maxEdits, err = asInt(v, kp)
				if err == nil && (s.maxEdits < 1 || s.maxEdits > 2) {
					err = parseErr(kp, "must be 1 or 2")
				}
			case k == "prefix_length" && !s.completion:
				s.prefixLength, err = asInt(v, kp)
			case k == "min_word_length" && !s.completion:
				s.minWordLength, err = asInt(v, kp)
			case k == "fuzzy" && s.completion:
				if isObject(v) {
					s.fuzzy = true
				} else {
					s.fuzzy, err = asBool(v, kp)
				}
			case k == "analyzer" || k == "sort" || k == "string_distance" || k == "skip_duplicates":
			default:
				err = parseErr(kp, "unknown key [%s]", k)
			}
			if err != nil {
				return nil, err
			}
		}
		if s.field == "" {
			return nil, parseErr(bp, "missing [field]")
		}
		if f, ok := lookupField(m, s.field); ok && f.Type != mapping.Text && f.Type != mapping.Keyword {
			return nil, parseErr(bp+".field", "[%s] is not a text field", s.field)
		}
		out = append(out, s)
	}
	return out, nil
}

// suggestPartial is one shard's answer to one suggestion.
type suggestPartial struct {
	Completion bool           `json:"completion,omitempty"`
	Entries    []suggestEntry `json:"entries"`
}

type suggestEntry struct {
	Text    string          `json:"text"`
	Offset  int             `json:"offset"`
	Length  int             `json:"length"`
	Options []suggestOption `json:"options"`
}

type suggestOption struct {
	Text  string  `json:"text"`
	Score float64 `json:"score"`
	Freq  int64   `json:"freq"`
	Edits int     `json:"edits,omitempty"`
}

// shardSuggest computes the shard's partial suggestions.
func shardSuggest(sp *spec, r *index.Reader) ([]byte, error) {
	out := map[string]suggestPartial{}
	for _, s := range sp.suggest {
		if s.completion {
			p := suggestPartial{Completion: true}
			e := suggestEntry{Text: s.text, Offset: 0, Length: len(s.text)}
			for _, c := range Complete(r, []string{s.field}, s.text, s.size, s.fuzzy) {
				e.Options = append(e.Options, suggestOption{Text: c.Text, Score: float64(c.DocFreq), Freq: c.DocFreq, Edits: c.Edits})
			}
			p.Entries = []suggestEntry{e}
			out[s.name] = p
			continue
		}
		out[s.name] = suggestPartial{Entries: termSuggest(sp, r, s)}
	}
	return json.Marshal(out)
}

// vocabField returns the field suggestions for field read: its _suggest
// field when a segment has it.
func vocabField(r *index.Reader, field string) string {
	if strings.HasSuffix(field, SuggestSuffix) {
		return field
	}
	for _, seg := range r.Segments {
		if seg.Terms(field+SuggestSuffix) != nil {
			return field + SuggestSuffix
		}
	}
	return field
}

// termSuggest suggests, for each word of the text, index words within
// max_edits (the first prefix_length bytes kept), scored 1 - edits/length
// of the longer word, then by frequency. Words shorter than
// min_word_length get none; in mode missing, words the index holds get
// none; in mode popular, only more frequent words are offered.
func termSuggest(sp *spec, r *index.Reader, s suggestSpec) []suggestEntry {
	vocab := vocabField(r, s.field)
	var entries []suggestEntry
	for _, w := range suggestWords(sp, s) {
		e := suggestEntry{Text: s.text[w.start:w.end], Offset: w.start, Length: w.end - w.start}
		word := w.word
		if len([]rune(word)) < s.minWordLength {
			entries = append(entries, e)
			continue
		}
		dfs := map[string]int64{}
		var own int64
		for _, seg := range r.Segments {
			td := seg.Terms(vocab)
			if td == nil {
				continue
			}
			if info, ok := td.Get([]byte(word)); ok {
				own += int64(info.DocFreq)
			}
			p := runePrefix(word, s.prefixLength)
			var start, end []byte
			if p != "" {
				start, end = []byte(p), prefixEnd(p)
			}
			it := td.Iterate(newLevAutomaton(word, s.maxEdits, true, false), start, end)
			for it.Next() {
				dfs[string(it.Term())] += int64(it.Info().DocFreq)
			}
		}
		if s.mode == "missing" && own > 0 {
			entries = append(entries, e)
			continue
		}
		for t, df := range dfs {
			if t == word || (s.mode == "popular" && df <= own) {
				continue
			}
			ed := editDistance(word, t, true)
			e.Options = append(e.Options, suggestOption{Text: t, Freq: df, Score: 1 - float64(ed)/float64(max(len(word), len(t)))})
		}
		sortOptions(e.Options, false)
		if len(e.Options) > s.size {
			e.Options = e.Options[:s.size]
		}
		entries = append(entries, e)
	}
	return entries
}

type suggestWord struct {
	word       string
	start, end int
}

// suggestWords splits the suggestion text into words with their offsets,
// lowercased and ASCII-folded but not stemmed.
func suggestWords(sp *spec, s suggestSpec) []suggestWord {
	var out []suggestWord
	text := s.text
	i := 0
	for i < len(text) {
		for i < len(text) && !isWordByte(text[i]) {
			i++
		}
		j := i
		for j < len(text) && isWordByte(text[j]) {
			j++
		}
		if j > i {
			forms := analysis.SurfaceForms(text[i:j], nil)
			if len(forms) > 0 {
				out = append(out, suggestWord{word: forms[0], start: i, end: j})
			}
		}
		i = j
	}
	return out
}

// isWordByte reports whether b belongs to a word (letters, digits, and
// every non-ASCII byte).
func isWordByte(b byte) bool {
	return b >= 0x80 || b == '\'' || (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z')
}

// sortOptions orders options: completions exact first then by frequency;
// term suggestions by score, then frequency; ties by text.
func sortOptions(opts []suggestOption, completion bool) {
	sort.Slice(opts, func(i, j int) bool {
		a, b := opts[i], opts[j]
		if completion {
			if a.Edits != b.Edits {
				return a.Edits < b.Edits
			}
		} else if a.Score != b.Score {
			return a.Score > b.Score
		}
		if a.Freq != b.Freq {
			return a.Freq > b.Freq
		}
		return a.Text < b.Text
	})
}

// Complete returns up to size completions of prefix from the words of the
// given text fields (all fields with a suggestion vocabulary when empty)
// in r: first the words starting with the prefix, by document frequency;
// then, with fuzzy and a prefix of 3 or more bytes, words that start with
// something one edit away from it ("lap" → "lamp"), by document frequency.
// The prefix is lowercased and ASCII-folded; with several words, the last
// one is completed and the others are kept in front. Document frequencies
// count deleted documents until their segments merge.
func Complete(r *index.Reader, fields []string, prefix string, size int, fuzzy bool) []Suggestion {
	words := analysis.SurfaceForms(prefix, nil)
	if len(words) == 0 || size <= 0 {
		return nil
	}
	lead := ""
	if len(words) > 1 {
		lead = strings.Join(words[:len(words)-1], " ") + " "
	}
	p := words[len(words)-1]
	var vocab []string
	if len(fields) == 0 {
		seen := map[string]bool{}
		for _, seg := range r.Segments {
			for _, f := range seg.Fields() {
				if strings.HasSuffix(f, SuggestSuffix) && !seen[f] {
					seen[f] = true
					vocab = append(vocab, f)
				}
			}
		}
		sort.Strings(vocab)
	} else {
		for _, f := range fields {
			vocab = append(vocab, vocabField(r, f))
		}
	}
	exact := map[string]int64{}
	near := map[string]int64{}
	for _, seg := range r.Segments {
		for _, f := range vocab {
			td := seg.Terms(f)
			if td == nil {
				continue
			}
			it := td.Iterate(nil, []byte(p), prefixEnd(p))
			for it.Next() {
				exact[string(it.Term())] += int64(it.Info().DocFreq)
			}
			if fuzzy && len(p) >= 3 {
				it := td.Iterate(newLevAutomaton(p, 1, true, true), nil, nil)
				for it.Next() {
					if t := string(it.Term()); !strings.HasPrefix(t, p) {
						near[t] += int64(it.Info().DocFreq)
					}
				}
			}
		}
	}
	var opts []suggestOption
	for t, df := range exact {
		opts = append(opts, suggestOption{Text: t, Freq: df})
	}
	for t, df := range near {
		opts = append(opts, suggestOption{Text: t, Freq: df, Edits: 1})
	}
	sortOptions(opts, true)
	if len(opts) > size {
		opts = opts[:size]
	}
	out := make([]Suggestion, len(opts))
	for i, o := range opts {
		out[i] = Suggestion{Text: lead + o.Text, DocFreq: o.Freq, Edits: o.Edits}
	}
	return out
}
