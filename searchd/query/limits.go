package query

import "math"

// Defaults of Limits and Settings.
const (
	DefaultMaxClauses      = 1024
	DefaultMaxExpansions   = 50
	DefaultMaxResultWindow = 10000
	DefaultTrackTotalHits  = 10000
	DefaultK1              = 1.2
	DefaultB               = 0.75
)

// withDefaults fills zero fields with their defaults.
func (l Limits) withDefaults() Limits {
	if l.MaxClauses <= 0 {
		l.MaxClauses = DefaultMaxClauses
	}
	if l.MaxExpansions <= 0 {
		l.MaxExpansions = DefaultMaxExpansions
	}
	if l.MaxResultWindow <= 0 {
		l.MaxResultWindow = DefaultMaxResultWindow
	}
	return l
}

// withDefaults fills zero (or invalid) parameters with BM25's defaults.
func (s Settings) withDefaults() Settings {
	if s.K1 <= 0 || math.IsNaN(s.K1) {
		s.K1 = DefaultK1
	}
	if s.B <= 0 || s.B > 1 || math.IsNaN(s.B) {
		s.B = DefaultB
	}
	return s
}
