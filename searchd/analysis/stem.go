package analysis

import (
	"strings"
	"sync"
	"sync/atomic"

	snowball "github.com/blevesearch/snowballstem"
	"github.com/blevesearch/snowballstem/english"
	"github.com/blevesearch/snowballstem/porter"
)

// stemCacheSize bounds each stemmer's memo of stems: words are Zipf
// distributed, so a memo of the frequent ones saves most of the stemming
// work and its allocations; past the bound, words are stemmed every time.
const stemCacheSize = 1 << 16

// stemmer applies a Snowball stemmer to lower-case terms, remembering the
// stems of up to stemCacheSize words. Safe for concurrent use.
type stemmer struct {
	stem  func(*snowball.Env) bool
	memo  sync.Map // string → string
	count atomic.Int64
	envs  sync.Pool
}

func newStemmer(stem func(*snowball.Env) bool) *stemmer {
	s := &stemmer{stem: stem}
	s.envs.New = func() any { return snowball.NewEnv("") }
	return s
}

// porter2 is the Snowball English ("porter2") stemmer, shared by every
// analyzer that stems English.
var porter2 = newStemmer(english.Stem)

// porter1 is the original Porter stemmer (Elasticsearch's porter_stem).
var porter1 = newStemmer(porter.Stem)

// Stem returns the stem of term, which must be lower case.
func (s *stemmer) Stem(term string) string {
	if len(term) < 3 {
		return term // both algorithms leave words of one or two letters alone
	}
	if v, ok := s.memo.Load(term); ok {
		return v.(string)
	}
	env := s.envs.Get().(*snowball.Env)
	env.SetCurrent(term)
	s.stem(env)
	stemmed := env.Current()
	env.SetCurrent("")
	s.envs.Put(env)
	if s.count.Load() < stemCacheSize {
		// Clone: term and its stem may be substrings of a large text the
		// memo must not keep alive.
		if _, loaded := s.memo.LoadOrStore(strings.Clone(term), strings.Clone(stemmed)); !loaded {
			s.count.Add(1)
		}
	}
	return stemmed
}

// stemFilter stems terms.
type stemFilter struct{ s *stemmer }

func (f stemFilter) Filter(toks []Token) []Token { return mapTerms(toks, f.s.Stem) }
