package gwconfig

import (
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"cairn.dev/cairn/node/yamldoc"
)

// refs is what routes may refer to by name.
type refs struct {
	doc       *Document
	upstreams map[string]int // name → index
	providers map[string]int
}

var (
	rateLimitBy     = []string{"consumer", "route", "ip"}
	rateLimitScopes = []string{"global", "local"}
)

// Rate limit bounds.
const (
	MaxRateLimit       = 1_000_000_000
	MaxRateLimitPeriod = 24 * time.Hour
)

func (c *checker) route(path string, r *Route, rf refs) {
	c.match(yamldoc.FieldPath(path, "match"), &r.Match)

	c.oneOf(path, r.Fallback != nil, "upstream", r.Upstream != "", "split", len(r.Split) > 0)
	var targets []int // indices of referenced upstreams
	if r.Upstream != "" {
		if i, ok := rf.upstreams[r.Upstream]; ok {
			targets = append(targets, i)
		} else {
			c.add(yamldoc.FieldPath(path, "upstream"), "%q is not the name of an upstream", r.Upstream)
		}
	}
	sp := yamldoc.FieldPath(path, "split")
	c.count(sp, len(r.Split), MaxRouteItems)
	seen := map[string]bool{}
	for i, s := range r.Split {
		ip := yamldoc.IndexPath(sp, i)
		if j, ok := rf.upstreams[s.Upstream]; !ok {
			c.add(yamldoc.FieldPath(ip, "upstream"), "%q is not the name of an upstream", s.Upstream)
		} else if seen[s.Upstream] {
			c.add(yamldoc.FieldPath(ip, "upstream"), "%q is listed twice", s.Upstream)
		} else {
			targets = append(targets, j)
		}
		seen[s.Upstream] = true
		c.between(yamldoc.FieldPath(ip, "weight"), s.Weight, 1, MaxWeight)
	}

	c.rewrite(yamldoc.FieldPath(path, "rewrite"), r)
	if t := r.Transcode; t != nil {
		tp := yamldoc.FieldPath(path, "transcode")
		if !isServiceName(t.Service) {
			c.add(yamldoc.FieldPath(tp, "service"), "%q is not a full gRPC service name (like cairn.raftkv.v1.KVService)", t.Service)
		}
		for _, i := range targets {
			if u := rf.doc.Upstreams[i]; u.Protocol != "grpc" {
				c.add(tp, "needs upstream %q to have protocol grpc, not %s", u.Name, u.Protocol)
			}
		}
	}
	if a := r.Auth; a != nil {
		ap := yamldoc.FieldPath(path, "auth")
		if len(a.JWT) == 0 && !a.APIKey {
			c.add(ap, "needs jwt providers or api_key")
		}
		seen := map[string]bool{}
		for i, name := range a.JWT {
			if _, ok := rf.providers[name]; !ok {
				c.add(yamldoc.IndexPath(yamldoc.FieldPath(ap, "jwt"), i), "%q is not the name of a jwt provider", name)
			} else if seen[name] {
				c.add(yamldoc.IndexPath(yamldoc.FieldPath(ap, "jwt"), i), "%q is listed twice", name)
			}
			seen[name] = true
		}
	}
	if a := r.Authorize; a != nil {
		ap := yamldoc.FieldPath(path, "authorize")
		if r.Auth == nil {
			c.add(ap, "needs auth: only authenticated callers can be authorized")
		}
		if len(a.Scopes)+len(a.Roles)+len(a.Groups) == 0 {
			c.add(ap, "lists no scopes, roles or groups")
		}
		c.labels(yamldoc.FieldPath(ap, "scopes"), a.Scopes, "scope")
		c.labels(yamldoc.FieldPath(ap, "roles"), a.Roles, "role")
		c.labels(yamldoc.FieldPath(ap, "groups"), a.Groups, "group")
	}
	rp := yamldoc.FieldPath(path, "rate_limits")
	c.count(rp, len(r.RateLimits), MaxRateLimits)
	for i, rl := range r.RateLimits {
		c.rateLimit(yamldoc.IndexPath(rp, i), rl, r.Auth != nil)
	}
	if r.Request != nil {
		c.transform(yamldoc.FieldPath(path, "request"), r.Request, true)
	}
	if r.Response != nil {
		c.transform(yamldoc.FieldPath(path, "response"), r.Response, false)
	}
	if ca := r.Cache; ca != nil {
		c.cache(yamldoc.FieldPath(path, "cache"), ca, r.Match.Methods)
	}
	if f := r.Fallback; f != nil {
		fp := yamldoc.FieldPath(path, "fallback")
		c.between(yamldoc.FieldPath(fp, "status"), f.Status, 200, 599)
		if len(f.Body) > int(MaxFallbackBody) {
			c.add(yamldoc.FieldPath(fp, "body"), "is %d bytes, the limit is %d", len(f.Body), MaxFallbackBody)
		}
		c.headerMap(yamldoc.FieldPath(fp, "headers"), f.Headers)
	}
	if r.Timeout < 0 {
		c.add(yamldoc.FieldPath(path, "timeout"), "must not be negative")
	}
	if r.MaxBody < 1 || r.MaxBody > MaxRouteMaxBody {
		c.add(yamldoc.FieldPath(path, "max_body"), "must be 1B..%s, not %s", MaxRouteMaxBody, r.MaxBody)
	}
	c.headerMap(yamldoc.FieldPath(path, "headers"), r.Headers)
}

func (c *checker) match(path string, m *Match) {
	hp := yamldoc.FieldPath(path, "hosts")
	c.count(hp, len(m.Hosts), MaxRouteItems)
	seen := map[string]bool{}
	for i, h := range m.Hosts {
		name := strings.TrimPrefix(h, "*.")
		if !isHostName(name) || strings.HasPrefix(name, "[") && name != h {
			c.add(yamldoc.IndexPath(hp, i), "%q is not a host name or *.suffix (without a port)", h)
		} else if seen[strings.ToLower(h)] {
			c.add(yamldoc.IndexPath(hp, i), "%q is listed twice", h)
		}
		seen[strings.ToLower(h)] = true
	}
	pp := yamldoc.FieldPath(path, "paths")
	c.count(pp, len(m.Paths), MaxRouteItems)
	for i, p := range m.Paths {
		ip := yamldoc.IndexPath(pp, i)
		c.oneOf(ip, false, "exact", p.Exact != "", "prefix", p.Prefix != "", "pattern", p.Pattern != "")
		if p.Exact != "" {
			if err := checkPath(p.Exact, true); err != nil {
				c.add(yamldoc.FieldPath(ip, "exact"), "%q %v", p.Exact, err)
			}
		}
		if p.Prefix != "" {
			if err := checkPath(p.Prefix, false); err != nil {
				c.add(yamldoc.FieldPath(ip, "prefix"), "%q %v", p.Prefix, err)
			}
		}
		if p.Pattern != "" {
			if _, err := ParsePattern(p.Pattern); err != nil {
				c.add(yamldoc.FieldPath(ip, "pattern"), "%q: %s", p.Pattern, strings.TrimPrefix(err.Error(), "gwconfig: bad path pattern: "))
			}
		}
	}
	mp := yamldoc.FieldPath(path, "methods")
	c.count(mp, len(m.Methods), MaxRouteItems)
	seen = map[string]bool{}
	for i, meth := range m.Methods {
		switch {
		case !isToken(meth) || strings.ToUpper(meth) != meth:
			c.add(yamldoc.IndexPath(mp, i), "%q is not an upper-case method name", meth)
		case seen[meth]:
			c.add(yamldoc.IndexPath(mp, i), "%q is listed twice", meth)
		}
		seen[meth] = true
	}
	hdp := yamldoc.FieldPath(path, "headers")
	c.count(hdp, len(m.Headers), MaxRouteItems)
	seen = map[string]bool{}
	for i, h := range m.Headers {
		ip := yamldoc.IndexPath(hdp, i)
		key := http.CanonicalHeaderKey(h.Name)
		switch {
		case !isToken(h.Name):
			c.add(yamldoc.FieldPath(ip, "name"), "%q is not a valid header name", h.Name)
		case seen[key]:
			c.add(yamldoc.FieldPath(ip, "name"), "%q is matched twice", h.Name)
		}
		seen[key] = true
		c.oneOf(ip, false, "value", h.Value != "", "present", h.Present, "absent", h.Absent)
		if !isHeaderValue(h.Value) {
			c.add(yamldoc.FieldPath(ip, "value"), "must not contain CR, LF or other control characters")
		}
	}
}

func (c *checker) rewrite(path string, r *Route) {
	rw := r.Rewrite
	c.oneOf(path, true, "strip_prefix", rw.StripPrefix != "", "path", rw.Path != "")
	if rw.StripPrefix != "" {
		if err := checkPath(rw.StripPrefix, false); err != nil {
			c.add(yamldoc.FieldPath(path, "strip_prefix"), "%q %v", rw.StripPrefix, err)
		}
	}
	if rw.Path == "" {
		return
	}
	pp := yamldoc.FieldPath(path, "path")
	params, literal, err := splitTemplate(rw.Path)
	if err != "" {
		c.add(pp, "%q: %s", rw.Path, err)
		return
	}
	if err := checkPath(literal, true); err != nil {
		c.add(pp, "%q %v", rw.Path, err)
	}
	for _, name := range params {
		for i, m := range r.Match.Paths {
			if !patternHasParam(m.Pattern, name) {
				c.add(pp, "{%s} is not a param of match.paths[%d]", name, i)
			}
		}
		if len(r.Match.Paths) == 0 {
			c.add(pp, "{%s} needs match.paths patterns that capture it", name)
		}
	}
}

// splitTemplate finds the {param} names of a rewrite path and returns the
// path with each replaced by "p", or a problem.
func splitTemplate(t string) (params []string, literal, problem string) {
	var b strings.Builder
	for {
		i := strings.IndexByte(t, '{')
		if i < 0 {
			if strings.IndexByte(t, '}') >= 0 {
				return nil, "", "unmatched }"
			}
			b.WriteString(t)
			return params, b.String(), ""
		}
		j := strings.IndexByte(t[i:], '}')
		if j < 0 {
			return nil, "", "unmatched {"
		}
		name := strings.TrimSuffix(t[i+1:i+j], "...")
		if !isIdent(name) {
			return nil, "", "{" + t[i+1:i+j] + "} is not a param name"
		}
		if strings.IndexByte(t[:i], '}') >= 0 {
			return nil, "", "unmatched }"
		}
		params = append(params, name)
		b.WriteString(t[:i])
		b.WriteString("p")
		t = t[i+j+1:]
	}
}

func patternHasParam(pattern, name string) bool {
	segs, err := ParsePattern(pattern)
	if err != nil || pattern == "" {
		return false
	}
	for _, s := range segs {
		if s.Param == name {
			return true
		}
	}
	return false
}

func (c *checker) rateLimit(path string, rl RateLimit, auth bool) {
	if !slices.Contains(rateLimitBy, rl.By) {
		c.add(yamldoc.FieldPath(path, "by"), "%q is not one of %s", rl.By, joinOr(rateLimitBy, "or"))
	} else if rl.By == "consumer" && !auth {
		c.add(yamldoc.FieldPath(path, "by"), "consumer needs the route's auth (anonymous callers have no consumer)")
	}
	if rl.Limit < 1 || rl.Limit > MaxRateLimit {
		c.add(yamldoc.FieldPath(path, "limit"), "must be 1..%d, not %d", MaxRateLimit, rl.Limit)
	}
	if rl.Per < MinRateLimitPeriod {
		c.add(yamldoc.FieldPath(path, "per"), "must be at least %s", MinRateLimitPeriod)
	} else if rl.Per > MaxRateLimitPeriod {
		c.add(yamldoc.FieldPath(path, "per"), "must be at most %s", MaxRateLimitPeriod)
	}
	if (rl.Burst < 1 || rl.Burst > MaxRateLimit) && rl.Burst != rl.Limit { // else limit's error says it
		c.add(yamldoc.FieldPath(path, "burst"), "must be 1..%d, not %d", MaxRateLimit, rl.Burst)
	}
	if !slices.Contains(rateLimitScopes, rl.Scope) {
		c.add(yamldoc.FieldPath(path, "scope"), "%q is not one of %s", rl.Scope, joinOr(rateLimitScopes, "or"))
	}
}

func (c *checker) transform(path string, t *Transform, request bool) {
	c.headerEdits(yamldoc.FieldPath(path, "headers"), t.Headers, true)
	if !request && !t.Query.empty() {
		c.add(yamldoc.FieldPath(path, "query"), "applies to requests only")
	}
	c.headerEdits(yamldoc.FieldPath(path, "query"), t.Query, false)
	if j := t.JSON; j != nil {
		jp := yamldoc.FieldPath(path, "json")
		c.count(yamldoc.FieldPath(jp, "add"), len(j.Add), MaxEdits)
		c.count(yamldoc.FieldPath(jp, "remove"), len(j.Remove), MaxEdits)
		c.count(yamldoc.FieldPath(jp, "rename"), len(j.Rename), MaxEdits)
		for _, k := range sortedKeys(j.Add) {
			if !isJSONPath(k) {
				c.add(yamldoc.KeyPath(yamldoc.FieldPath(jp, "add"), k), "is not a dot path of object keys")
			} else if _, err := json.Marshal(j.Add[k]); err != nil {
				c.add(yamldoc.KeyPath(yamldoc.FieldPath(jp, "add"), k), "value is not representable in JSON (mappings need string keys)")
			}
		}
		for i, k := range j.Remove {
			if !isJSONPath(k) {
				c.add(yamldoc.IndexPath(yamldoc.FieldPath(jp, "remove"), i), "%q is not a dot path of object keys", k)
			}
		}
		for _, k := range sortedKeys(j.Rename) {
			if !isJSONPath(k) {
				c.add(yamldoc.KeyPath(yamldoc.FieldPath(jp, "rename"), k), "is not a dot path of object keys")
			}
			if !isJSONPath(j.Rename[k]) {
				c.add(yamldoc.KeyPath(yamldoc.FieldPath(jp, "rename"), k), "%q is not a dot path of object keys", j.Rename[k])
			}
		}
	}
}

func (e HeaderEdits) empty() bool { return len(e.Add)+len(e.Remove)+len(e.Rename) == 0 }

// headerEdits checks header (or, with headers false, query parameter) edits.
func (c *checker) headerEdits(path string, e HeaderEdits, headers bool) {
	name := func(p, n string) {
		switch {
		case headers && !isToken(n):
			c.add(p, "%q is not a valid header name", n)
		case headers && unEditable[http.CanonicalHeaderKey(n)]:
			c.add(p, "%q is managed by the proxy and cannot be edited", n)
		case !headers && (n == "" || !isHeaderValue(n) || len(n) > 256):
			c.add(p, "%q is not a valid query parameter name", n)
		}
	}
	c.count(yamldoc.FieldPath(path, "add"), len(e.Add), MaxEdits)
	c.count(yamldoc.FieldPath(path, "remove"), len(e.Remove), MaxEdits)
	c.count(yamldoc.FieldPath(path, "rename"), len(e.Rename), MaxEdits)
	for _, k := range sortedKeys(e.Add) {
		p := yamldoc.KeyPath(yamldoc.FieldPath(path, "add"), k)
		name(p, k)
		if !isHeaderValue(e.Add[k]) {
			c.add(p, "value must not contain CR, LF or other control characters")
		}
	}
	for i, k := range e.Remove {
		name(yamldoc.IndexPath(yamldoc.FieldPath(path, "remove"), i), k)
	}
	for _, k := range sortedKeys(e.Rename) {
		p := yamldoc.KeyPath(yamldoc.FieldPath(path, "rename"), k)
		name(p, k)
		name(p, e.Rename[k])
	}
}

// headerMap checks headers set on responses.
func (c *checker) headerMap(path string, h map[string]string) {
	c.count(path, len(h), MaxEdits)
	for _, k := range sortedKeys(h) {
		p := yamldoc.KeyPath(path, k)
		switch {
		case !isToken(k):
			c.add(p, "%q is not a valid header name", k)
		case unEditable[http.CanonicalHeaderKey(k)]:
			c.add(p, "%q is managed by the proxy and cannot be set", k)
		}
		if !isHeaderValue(h[k]) {
			c.add(p, "value must not contain CR, LF or other control characters")
		}
	}
}

func (c *checker) cache(path string, ca *Cache, methods []string) {
	if len(methods) > 0 && !slices.Contains(methods, "GET") && !slices.Contains(methods, "HEAD") {
		c.add(path, "caches GET and HEAD responses only, and the route matches neither")
	}
	if ca.TTL < 0 {
		c.add(yamldoc.FieldPath(path, "ttl"), "must not be negative")
	}
	qp := yamldoc.FieldPath(path, "key_query")
	c.count(qp, len(ca.KeyQuery), MaxEdits)
	for i, q := range ca.KeyQuery {
		if q == "" || !isHeaderValue(q) {
			c.add(yamldoc.IndexPath(qp, i), "%q is not a valid query parameter name", q)
		}
	}
	hp := yamldoc.FieldPath(path, "key_headers")
	c.count(hp, len(ca.KeyHeaders), MaxEdits)
	for i, h := range ca.KeyHeaders {
		if !isToken(h) {
			c.add(yamldoc.IndexPath(hp, i), "%q is not a valid header name", h)
		}
	}
	if ca.MaxBody < 1 || ca.MaxBody > MaxCacheMaxBody {
		c.add(yamldoc.FieldPath(path, "max_body"), "must be 1B..%s, not %s", MaxCacheMaxBody, ca.MaxBody)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
