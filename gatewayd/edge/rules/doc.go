// Package rules is the request and response logic of one edge site, read
// from YAML: path rewrites, redirects, request normalisation (host case,
// query order and tracking parameters, cookies), A/B tests, header edits and
// a deny list.
//
// # Use
//
//	cfg, err := rules.Parse(doc) // strict: unknown keys and bad values are errors naming their path
//	eng, err := cfg.Compile()
//	...
//	extra, done := eng.Apply(w, r) // before the cache lookup
//	if done {
//		return // answered: a redirect or a 403
//	}
//	key := cacheKey(r) + extra
//	... fetch / serve, calling eng.ResponseHeaders(w.Header()) before the header is written
//
// # Order
//
// Apply runs, in this order: the deny list (403), redirects (the first
// match answers), rewrites (every match, in order, each on the result of the
// previous), normalisation, A/B tests, request header edits. Every step sees
// the request as the previous steps left it, except the deny list's path
// prefixes, which are matched against the cleaned path the client asked for.
//
// # Document
//
//	rewrites:
//	  - match: ^/old/(.*)$          # RE2 regexp on the decoded path
//	    replace: /new/$1            # $1, ${name}; a "?query" part is added to the query
//	redirects:
//	  - match: ^/blog/(.*)$
//	    location: https://blog.example.com/$1
//	    status: 301                 # 301, 302, 307 or 308
//	    preserve_query: true        # append the request's query to the location
//	normalize:
//	  lowercase_host: true
//	  sort_query: true
//	  drop_query: [utm_*, fbclid]   # globs on parameter names
//	  strip_cookies: true           # every cookie but the A/B tests' ones
//	ab:
//	  - name: checkout
//	    cookie: ab_checkout         # holds a random id; the bucket is a hash of it
//	    header: X-AB-Checkout       # request header the origin sees (default Cairn-AB-<name>)
//	    max_age: 720h               # cookie lifetime (default 30 days)
//	    buckets: [{name: a, weight: 90}, {name: b, weight: 10}]
//	headers:
//	  request_set: {X-Edge: "1"}
//	  request_remove: [X-Debug]
//	  response_set: {Strict-Transport-Security: max-age=31536000}
//	  response_remove: [Server]
//	deny:
//	  cidrs: [192.0.2.0/24, 2001:db8::/32]
//	  user_agents: [BadBot, "re:^curl/7\\."] # case-insensitive substrings, or re:<regexp>
//	  paths: [/admin, /.git]
//
// # Concurrency
//
// A Config is plain data. An Engine is immutable after Compile and safe for
// concurrent use; Apply changes only the request it is given and the
// header of the writer it is given.
package rules
