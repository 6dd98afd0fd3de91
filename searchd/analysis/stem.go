package analysis

import (
	"strings"
	"sync"

	snowball "github.com/blevesearch/snowballstem"
	"github.com/blevesearch/snowballstem/english"
	"github.com/blevesearch/snowballstem/porter"
)

// stemShards and stemShardSize shape each stemmer's memo of stems: words
// are Zipf distributed, so a memo of the frequent ones saves most of the
// stemming work and its allocations. Each shard holds at most
// stemShardSize words; past that, words are stemmed every time.
const (
	stemShards    = 64
	stemShardSize = 1 << 11
)

// stemmer applies a Snowball stemmer to lower-case terms, remembering the
// stems of frequent words. Safe for concurrent use.
type stemmer struct {
	stem   func(*snowball.Env) bool
	envs   sync.Pool
	shards [stemShards]stemShard
}

type stemShard struct {
	mu sync.RWMutex // protects m
	m  map[string]string
	_  [32]byte // keep shards' locks on separate cache lines
}

func newStemmer(stem func(*snowball.Env) bool) *stemmer {
	s := &stemmer{stem: stem}
	s.envs.New = func() any { return snowball.NewEnv("") }
	for i := range s.shards {
		s.shards[i].m = make(map[string]string)
	}
	return s
}

// porter2 is the Snowball English ("porter2") stemmer, shared by every
// analyzer that stems English.
var porter2 = newStemmer(english.Stem)

// porter1 is the original Porter stemmer (Elasticsearch's porter_stem).
var porter1 = newStemmer(porter.Stem)

// shardOf returns the memo shard of word (FNV-1a of its bytes).
func shardOf[W string | []byte](s *stemmer, word W) *stemShard {
	h := uint32(2166136261)
	for i := 0; i < len(word); i++ {
		h ^= uint32(word[i])
		h *= 16777619
	}
	return &s.shards[h%stemShards]
}

// Stem returns the stem of term, which must be lower case.
func (s *stemmer) Stem(term string) string {
	if term == "" {
		return term
	}
	sh := shardOf(s, term)
	sh.mu.RLock()
	v, ok := sh.m[term]
	sh.mu.RUnlock()
	if ok {
		return v
	}
	if len(term) < 3 {
		return term // both algorithms leave words of one or two letters alone
	}
	// Clone: term may be a substring of a large text the memo must not
	// keep alive.
	return s.miss(sh, strings.Clone(term))
}

// stemBytes is Stem of string(word), allocating only when word is not in
// the memo.
func (s *stemmer) stemBytes(word []byte) string {
	if len(word) == 0 {
		return ""
	}
	sh := shardOf(s, word)
	sh.mu.RLock()
	v, ok := sh.m[string(word)]
	sh.mu.RUnlock()
	if ok {
		return v
	}
	return s.miss(sh, string(word))
}

// miss stems term (which no caller's text holds) and remembers it.
func (s *stemmer) miss(sh *stemShard, term string) string {
	stemmed := term
	if len(term) >= 3 {
		env := s.envs.Get().(*snowball.Env)
		env.SetCurrent(term)
		s.stem(env)
		stemmed = env.Current()
		env.SetCurrent("")
		s.envs.Put(env)
	}
	sh.mu.Lock()
	if len(sh.m) < stemShardSize {
		sh.m[term] = stemmed
	}
	sh.mu.Unlock()
	return stemmed
}

// stemFilter stems terms.
type stemFilter struct{ s *stemmer }

func (f stemFilter) Filter(toks []Token) []Token { return mapTerms(toks, f.s.Stem) }

// englishFilter is possessiveFilter, lowercaseFilter, asciiFoldingFilter,
// a stop filter and a stemFilter in one pass, allocating only for words
// outside the stem memo and for non-ASCII words.
type englishFilter struct {
	stop *stopFilter
	stem *stemmer
}

func (f englishFilter) Filter(toks []Token) []Token {
	var buf [64]byte
	out := toks[:0]
	for _, t := range toks {
		term := stripPossessive(t.Term)
		ascii, upper := true, false
		for i := 0; i < len(term); i++ {
			c := term[i]
			if c >= 0x80 {
				ascii = false
				break
			}
			upper = upper || ('A' <= c && c <= 'Z')
		}
		switch {
		case ascii && upper:
			b := append(buf[:0], term...)
			for i, c := range b {
				if 'A' <= c && c <= 'Z' {
					b[i] = c + 'a' - 'A'
				}
			}
			if _, stop := f.stop.words[string(b)]; stop {
				continue
			}
			t.Term = f.stem.stemBytes(b)
		default:
			if !ascii {
				term = foldString(lowerString(term))
			}
			if _, stop := f.stop.words[term]; stop {
				continue
			}
			t.Term = f.stem.Stem(term)
		}
		out = append(out, t)
	}
	return out
}
