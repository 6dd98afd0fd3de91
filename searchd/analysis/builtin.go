package analysis

import "math"

// builtinTokenizers are the tokenizers a custom analyzer may name without
// defining them.
var builtinTokenizers = map[string]Tokenizer{
	"standard":   standardTokenizer{maxLen: defaultMaxTokenLength},
	"letter":     letterTokenizer{},
	"whitespace": whitespaceTokenizer{},
	"keyword":    keywordTokenizer{},
	"ngram":      ngramTokenizer{min: 1, max: 2},
	"edge_ngram": ngramTokenizer{min: 1, max: 2, edge: true},
}

// englishStop is the "_english_" stop filter.
var englishStop = newStopFilter(englishStopWords, false)

// builtinFilters are the token filters a custom analyzer may name without
// defining them.
var builtinFilters = map[string]TokenFilter{
	"lowercase":    lowercaseFilter{},
	"uppercase":    uppercaseFilter{},
	"asciifolding": asciiFoldingFilter{},
	"stop":         englishStop,
	"porter_stem":  stemFilter{porter1},
	"snowball":     stemFilter{porter2},
	"stemmer":      stemFilter{porter2},
	"trim":         trimFilter{},
	"unique":       uniqueFilter{},
	"reverse":      reverseFilter{},
	"apostrophe":   apostropheFilter{},
	"length":       lengthFilter{min: 0, max: math.MaxInt},
	"edge_ngram":   edgeNGramFilter{min: 1, max: 2},
	"ngram":        ngramFilter{min: 1, max: 2},
}

// englishChain is the "english" analyzer: the standard tokenizer, English
// possessive removal, lowercase, ASCII folding, English stop words and the
// Snowball English (porter2) stemmer.
var englishChain = &chain{
	tokenizer: builtinTokenizers["standard"],
	filters:   []TokenFilter{englishFilter{stop: englishStop, stem: porter2}},
}

// builtinAnalyzers are the analyzers every index has.
var builtinAnalyzers = map[string]Analyzer{
	"standard":   &chain{tokenizer: builtinTokenizers["standard"], filters: []TokenFilter{lowercaseFilter{}}},
	"simple":     &chain{tokenizer: letterTokenizer{}, filters: []TokenFilter{lowercaseFilter{}}},
	"whitespace": &chain{tokenizer: whitespaceTokenizer{}},
	"keyword":    &chain{tokenizer: keywordTokenizer{}},
	"stop":       &chain{tokenizer: letterTokenizer{}, filters: []TokenFilter{lowercaseFilter{}, englishStop}},
	"english":    englishChain,
}
