package rules

import (
	"io"
	"time"
)

// Limits on a document.
const (
	// MaxDocumentBytes is the largest YAML document Parse accepts.
	MaxDocumentBytes = 1 << 20
	// MaxPatternBytes is the longest regexp, glob or location template.
	MaxPatternBytes = 4096
	// MaxItems is the most entries in any one list or map of a document.
	MaxItems = 10000
	// DefaultABMaxAge is an A/B cookie's lifetime when max_age is absent.
	DefaultABMaxAge = 30 * 24 * time.Hour
)

// Config is the edge logic of one site. Parse fills it from YAML; a Config
// built in Go is checked by Validate and Compile the same way.
type Config struct {
	Rewrites  []Rewrite   `yaml:"rewrites"`
	Redirects []Redirect  `yaml:"redirects"`
	Normalize Normalize   `yaml:"normalize"`
	AB        []ABTest    `yaml:"ab"`
	Headers   HeaderRules `yaml:"headers"`
	Deny      Deny        `yaml:"deny"`

	// Random is where A/B tests read new visitor ids from (nil: crypto/rand).
	// The Engine compiled from this Config serialises its reads; a reader
	// other than crypto/rand must not be shared with another Engine. Tests
	// set a seeded source.
	Random io.Reader `yaml:"-"`
}

// Rewrite replaces the request path when Match (an RE2 regexp on the
// decoded path; every regexp of a document has flag s set, so "." also
// matches a newline) matches: Replace is expanded as by regexp.Expand ($1,
// ${name}; captured text is path-escaped into the template, so a "?" or "#"
// it holds stays in the path). When the result has a "?" (from the
// template), the part after it is appended to the request's query; the part
// before it is the new path, unescaped. Replace must start with "/".
type Rewrite struct {
	Match   string `yaml:"match"`
	Replace string `yaml:"replace"`
}

// Redirect answers a request whose decoded path Match matches with Status
// (301, 302, 307 or 308; required) and Location, the template expanded as by
// regexp.Expand with each captured text path-escaped (and control
// characters, spaces and non-ASCII bytes of the result percent-encoded). PreserveQuery appends the request's query to the location
// (with "&" when the location already has one).
type Redirect struct {
	Match         string `yaml:"match"`
	Location      string `yaml:"location"`
	Status        int    `yaml:"status"`
	PreserveQuery bool   `yaml:"preserve_query"`
}

// Normalize makes equivalent requests look the same, so they share a cache
// entry.
type Normalize struct {
	// LowercaseHost lowercases the Host (and a trailing dot is dropped).
	LowercaseHost bool `yaml:"lowercase_host"`
	// SortQuery orders query parameters by name (stably: repeated names keep
	// their order), leaving their encoding as sent.
	SortQuery bool `yaml:"sort_query"`
	// DropQuery removes query parameters whose decoded name matches one of
	// these globs (path.Match syntax: "utm_*", "fbclid").
	DropQuery []string `yaml:"drop_query"`
	// StripCookies removes every request cookie except the A/B tests' ones.
	StripCookies bool `yaml:"strip_cookies"`
}

// ABTest splits visitors into weighted buckets, sticky by a cookie.
//
// The cookie holds a random visitor id (32 hex digits), issued with
// Set-Cookie when the request has none (or a malformed one); the bucket is a
// hash of the test's name and the id, mapped onto the buckets by weight, so
// every edge node puts a visitor in the same bucket and changing one weight
// moves only the visitors it must. The bucket's name is set in the request
// header Header (replacing any value the client sent) and becomes part of
// the cache key Apply returns.
type ABTest struct {
	Name    string        `yaml:"name"`    // a token: letters, digits, '-', '_'
	Cookie  string        `yaml:"cookie"`  // required: a cookie name
	Header  string        `yaml:"header"`  // default "Cairn-AB-<Name>"
	MaxAge  time.Duration `yaml:"max_age"` // default DefaultABMaxAge
	Buckets []Bucket      `yaml:"buckets"` // at least one, with weights summing above 0
}

// Bucket is one arm of an A/B test; Weight is its share (>= 0) of the total.
type Bucket struct {
	Name   string `yaml:"name"`
	Weight int    `yaml:"weight"`
}

// HeaderRules edits headers: on the request before it goes to the cache and
// origin, and on the response before it goes to the client. Removals run
// before sets.
type HeaderRules struct {
	RequestSet     map[string]string `yaml:"request_set"`
	RequestRemove  []string          `yaml:"request_remove"`
	ResponseSet    map[string]string `yaml:"response_set"`
	ResponseRemove []string          `yaml:"response_remove"`
}

// Deny answers 403 to requests from these networks, with these user agents,
// or for these paths.
type Deny struct {
	// CIDRs are matched against the request's RemoteAddr (the edge is the
	// first hop; forwarded-for headers are not trusted).
	CIDRs []string `yaml:"cidrs"`
	// UserAgents are case-insensitive substrings of User-Agent, or regexps
	// when written "re:<regexp>".
	UserAgents []string `yaml:"user_agents"`
	// Paths are prefixes of the cleaned, decoded request path (plain string
	// prefixes: "/admin" also denies "/administrator").
	Paths []string `yaml:"paths"`
}
