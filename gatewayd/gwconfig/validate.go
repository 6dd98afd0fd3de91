package gwconfig

import (
	"fmt"
	"time"

	"cairn.dev/cairn/node/yamldoc"
)

// Count limits Validate enforces, so a document cannot make the gateway
// hold unbounded state.
const (
	MaxUpstreams       = 1000
	MaxTargets         = 1000 // per upstream
	MaxJWTProviders    = 100
	MaxKeys            = 100 // per provider
	MaxConsumers       = 10000
	MaxRoutes          = 1000
	MaxRouteItems      = 100 // hosts, paths, methods, headers, splits per route
	MaxRateLimits      = 10  // per route
	MaxEdits           = 100 // entries in each transform list or map
	MaxRouteMaxBody    = 1 * GiB
	MaxCacheMaxBody    = 64 * MiB
	MaxFallbackBody    = 64 * KiB
	MaxRetryAttempts   = 5
	MaxWeight          = 1000
	MaxLeeway          = 5 * time.Minute
	MinRateLimitPeriod = time.Second
)

// checker collects the problems Validate finds.
type checker struct{ errs Errors }

func (c *checker) add(path, format string, args ...any) {
	c.errs = append(c.errs, &Error{Path: path, Message: fmt.Sprintf(format, args...)})
}

// count reports a list longer than limit.
func (c *checker) count(path string, n, limit int) {
	if n > limit {
		c.add(path, "has %d entries, the limit is %d", n, limit)
	}
}

// unique reports empty, invalid and repeated names in a list at path.
func (c *checker) names(path string, n int, name func(int) string, valid func(string) bool, what string) map[string]int {
	seen := make(map[string]int, n)
	for i := 0; i < n; i++ {
		p := yamldoc.FieldPath(yamldoc.IndexPath(path, i), "name")
		s := name(i)
		switch first, dup := seen[s]; {
		case s == "":
			c.add(p, "is required")
		case !valid(s):
			c.add(p, "%q is not a valid %s", s, what)
		case dup:
			c.add(p, "%q is already the name of %s", s, yamldoc.IndexPath(path, first))
		default:
			seen[s] = i
		}
	}
	return seen
}

// Validate checks every rule of the document (see the field comments and
// the count limits above) on a document with defaults filled. It returns nil
// or an Errors listing every problem sorted by path; the lines are known
// only when Parse calls it.
func (d *Document) Validate() error {
	c := &checker{}
	if d.Version != 1 {
		c.add("version", "%d is not a supported version (only 1)", d.Version)
	}
	c.count("upstreams", len(d.Upstreams), MaxUpstreams)
	c.count("jwt_providers", len(d.JWTProviders), MaxJWTProviders)
	c.count("consumers", len(d.Consumers), MaxConsumers)
	c.count("routes", len(d.Routes), MaxRoutes)

	ups := c.names("upstreams", len(d.Upstreams), func(i int) string { return d.Upstreams[i].Name }, isName, "upstream name (letters, digits, . _ -)")
	provs := c.names("jwt_providers", len(d.JWTProviders), func(i int) string { return d.JWTProviders[i].Name }, isName, "provider name (letters, digits, . _ -)")
	c.names("consumers", len(d.Consumers), func(i int) string { return d.Consumers[i].Name }, isLabel, "consumer name (printable, no spaces)")
	c.names("routes", len(d.Routes), func(i int) string { return d.Routes[i].Name }, isName, "route name (letters, digits, . _ -)")

	for i := range d.Upstreams {
		c.upstream(yamldoc.IndexPath("upstreams", i), &d.Upstreams[i])
	}
	for i := range d.JWTProviders {
		c.provider(yamldoc.IndexPath("jwt_providers", i), &d.JWTProviders[i])
	}
	for i := range d.Consumers {
		c.consumer(yamldoc.IndexPath("consumers", i), &d.Consumers[i])
	}
	refs := refs{doc: d, upstreams: ups, providers: provs}
	for i := range d.Routes {
		c.route(yamldoc.IndexPath("routes", i), &d.Routes[i], refs)
	}
	if len(c.errs) == 0 {
		return nil
	}
	return sortErrors(c.errs)
}

func (c *checker) consumer(path string, u *Consumer) {
	c.labels(yamldoc.FieldPath(path, "groups"), u.Groups, "group")
	c.labels(yamldoc.FieldPath(path, "scopes"), u.Scopes, "scope")
}

// labels checks a list of groups, scopes or roles.
func (c *checker) labels(path string, ls []string, what string) {
	c.count(path, len(ls), MaxEdits)
	seen := map[string]bool{}
	for i, l := range ls {
		switch {
		case !isLabel(l):
			c.add(yamldoc.IndexPath(path, i), "%q is not a valid %s (printable, no spaces)", l, what)
		case seen[l]:
			c.add(yamldoc.IndexPath(path, i), "%q is listed twice", l)
		}
		seen[l] = true
	}
}

// oneOf reports unless exactly one (or, with optional, at most one) of the
// named fields is set.
func (c *checker) oneOf(path string, optional bool, fields ...any) {
	var set, names []string
	for i := 0; i+1 < len(fields); i += 2 {
		names = append(names, fields[i].(string))
		if fields[i+1].(bool) {
			set = append(set, fields[i].(string))
		}
	}
	switch {
	case len(set) > 1:
		c.add(path, "sets %s: only one of %s may be set", joinOr(set, "and"), joinOr(names, "or"))
	case len(set) == 0 && !optional:
		c.add(path, "needs one of %s", joinOr(names, "or"))
	}
}

func joinOr(s []string, word string) string {
	switch len(s) {
	case 1:
		return s[0]
	case 2:
		return s[0] + " " + word + " " + s[1]
	}
	out := ""
	for i, x := range s {
		switch {
		case i == len(s)-1:
			out += " " + word + " "
		case i > 0:
			out += ", "
		}
		out += x
	}
	return out
}

func (c *checker) positive(path string, d time.Duration) {
	if d <= 0 {
		c.add(path, "must be positive, not %s", d)
	}
}

func (c *checker) between(path string, v, lo, hi int) {
	if v < lo || v > hi {
		c.add(path, "must be %d..%d, not %d", lo, hi, v)
	}
}
