package route

import (
	"strings"

	"cairn.dev/cairn/gatewayd/gwconfig"
)

// Rewrite returns the path to send upstream for a request path (clean, as
// Match saw it) under a route's rewrite spec:
//
//   - StripPrefix removes the prefix when it matches whole segments
//     ("/api" turns "/api/users" into "/users" and "/api" into "/"); a path
//     without the prefix is returned unchanged.
//   - Path replaces the path, each {name} (or {name...}) substituted with
//     params[name] (empty when missing); the result is cleaned, so an empty
//     param does not leave "//"; a result that would climb above the root
//     is "/".
//   - Neither returns path unchanged.
func Rewrite(spec gwconfig.Rewrite, path string, params map[string]string) string {
	switch {
	case spec.StripPrefix != "":
		pre := strings.TrimSuffix(spec.StripPrefix, "/")
		if !strings.HasPrefix(path, pre) {
			return path
		}
		rest := path[len(pre):]
		switch {
		case rest == "":
			return "/"
		case rest[0] == '/':
			return rest
		}
		return path
	case spec.Path != "":
		var b strings.Builder
		t := spec.Path
		for {
			i := strings.IndexByte(t, '{')
			if i < 0 {
				b.WriteString(t)
				break
			}
			j := strings.IndexByte(t[i:], '}')
			if j < 0 {
				b.WriteString(t)
				break
			}
			b.WriteString(t[:i])
			b.WriteString(params[strings.TrimSuffix(t[i+1:i+j], "...")])
			t = t[i+j+1:]
		}
		out, ok := CleanPath(b.String())
		if !ok {
			return "/"
		}
		return out
	}
	return path
}
