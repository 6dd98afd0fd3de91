package analysis

import (
	"html"
	"sort"
	"strings"
)

// charFilter rewrites text before it is tokenized, returning the offsets
// map from the rewritten text back to text.
type charFilter interface {
	apply(text string) (string, offsetMap)
}

// offsetMap maps offsets in a char filter's output to its input: from
// each point's out offset on, input = output + delta (until the next
// point). Points are in out order.
type offsetMap []offsetPoint

type offsetPoint struct {
	out, delta int
	// removed: the input before out was dropped (replaced by nothing).
	removed bool
}

// start maps the offset a token starts at.
func (m offsetMap) start(off int) int {
	i := sort.Search(len(m), func(i int) bool { return m[i].out > off })
	if i == 0 {
		return off
	}
	return off + m[i-1].delta
}

// end maps the offset a token ends at: input removed right at the end
// belongs to what follows, a replacement to the token.
func (m offsetMap) end(off int) int {
	i := sort.Search(len(m), func(i int) bool { return m[i].out > off })
	for i > 0 && m[i-1].out == off && m[i-1].removed {
		i--
	}
	if i == 0 {
		return off
	}
	return off + m[i-1].delta
}

// rewriter builds a char filter's output and offsets map.
type rewriter struct {
	out  strings.Builder
	offs offsetMap
}

// replace writes repl for in[from:to].
func (w *rewriter) replace(from, to int, repl string) {
	w.out.WriteString(repl)
	if to-from != len(repl) {
		w.offs = append(w.offs, offsetPoint{out: w.out.Len(), delta: to - w.out.Len(), removed: repl == ""})
	}
}

// htmlStripFilter removes HTML markup: tags (block-level ones become a
// line break so words do not run together), comments, and the contents of
// script and style elements; it decodes character entities. Tags named in
// keep stay.
type htmlStripFilter struct{ keep map[string]bool }

// blockTags are the elements whose tags separate words.
var blockTags = map[string]bool{
	"address": true, "article": true, "aside": true, "blockquote": true, "br": true,
	"dd": true, "div": true, "dl": true, "dt": true, "fieldset": true, "figcaption": true,
	"figure": true, "footer": true, "form": true, "h1": true, "h2": true, "h3": true,
	"h4": true, "h5": true, "h6": true, "header": true, "hr": true, "li": true,
	"main": true, "nav": true, "ol": true, "p": true, "pre": true, "section": true,
	"table": true, "td": true, "th": true, "title": true, "tr": true, "ul": true,
}

func (f htmlStripFilter) apply(text string) (string, offsetMap) {
	if strings.IndexByte(text, '<') < 0 && strings.IndexByte(text, '&') < 0 {
		return text, nil
	}
	w := &rewriter{}
	w.out.Grow(len(text))
	for i := 0; i < len(text); {
		switch text[i] {
		case '<':
			if end, repl, ok := f.markup(text, i); ok {
				w.replace(i, end, repl)
				i = end
				continue
			}
		case '&':
			if end := strings.IndexByte(text[i:min(len(text), i+12)], ';'); end > 1 {
				ent := text[i : i+end+1]
				if dec := html.UnescapeString(ent); dec != ent {
					if dec == "\u00a0" {
						dec = " "
					}
					w.replace(i, i+end+1, dec)
					i += end + 1
					continue
				}
			}
		}
		w.out.WriteByte(text[i])
		i++
	}
	return w.out.String(), w.offs
}

// markup recognises the markup starting at text[i] ('<'): it returns where
// it ends and what replaces it, or false when '<' is plain text.
func (f htmlStripFilter) markup(text string, i int) (int, string, bool) {
	rest := text[i:]
	if strings.HasPrefix(rest, "<!--") {
		end := strings.Index(rest[4:], "-->")
		if end < 0 {
			return len(text), "", true
		}
		return i + 4 + end + 3, "", true
	}
	if len(rest) < 2 {
		return 0, "", false
	}
	j := 1
	closing := rest[j] == '/'
	if closing {
		j++
	}
	if len(rest) > maxTagLen {
		rest = rest[:maxTagLen] // a longer "tag" is text: keeps stripping linear
	}
	if rest[1] == '!' || rest[1] == '?' { // doctype, processing instruction
		end := strings.IndexByte(rest, '>')
		if end < 0 {
			return 0, "", false
		}
		return i + end + 1, "", true
	}
	k := j
	for k < len(rest) && (isASCIILetter(rest[k]) || (k > j && rest[k] >= '0' && rest[k] <= '9')) {
		k++
	}
	if k == j {
		return 0, "", false // "a < b": not a tag
	}
	name := strings.ToLower(rest[j:k])
	end := strings.IndexByte(rest[k:], '>')
	if end < 0 {
		return 0, "", false
	}
	tagEnd := i + k + end + 1
	if f.keep[name] {
		return 0, "", false
	}
	if !closing && (name == "script" || name == "style") {
		// Drop the element's contents too.
		if close := indexFold(text[tagEnd:], "</"+name); close >= 0 {
			closeEnd := strings.IndexByte(text[tagEnd+close:], '>')
			if closeEnd >= 0 {
				return tagEnd + close + closeEnd + 1, "\n", true
			}
		}
		return len(text), "\n", true
	}
	if blockTags[name] {
		return tagEnd, "\n", true
	}
	return tagEnd, "", true
}

// maxTagLen bounds the length of a tag.
const maxTagLen = 4096

// indexFold is strings.Index ignoring ASCII case, for sub starting with '<'.
func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if j := strings.IndexByte(s[i:], '<'); j < 0 {
			return -1
		} else {
			i += j
		}
		if i+len(sub) <= len(s) && strings.EqualFold(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}

func isASCIILetter(c byte) bool { return (c|0x20) >= 'a' && (c|0x20) <= 'z' }

// mappingCharFilter replaces keys by their values, longest key first
// (Elasticsearch's "mapping" char filter).
type mappingCharFilter struct {
	// byFirst holds the rules by the key's first byte, longest key first.
	byFirst map[byte][]mappingRule
}

type mappingRule struct{ from, to string }

func (f *mappingCharFilter) apply(text string) (string, offsetMap) {
	var w *rewriter
	for i := 0; i < len(text); {
		var hit *mappingRule
		for k, r := range f.byFirst[text[i]] {
			if strings.HasPrefix(text[i:], r.from) {
				hit = &f.byFirst[text[i]][k]
				break
			}
		}
		if hit == nil {
			if w != nil {
				w.out.WriteByte(text[i])
			}
			i++
			continue
		}
		if w == nil {
			w = &rewriter{}
			w.out.Grow(len(text))
			w.out.WriteString(text[:i])
		}
		w.replace(i, i+len(hit.from), hit.to)
		i += len(hit.from)
	}
	if w == nil {
		return text, nil
	}
	return w.out.String(), w.offs
}
