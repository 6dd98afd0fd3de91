package route

import (
	"strings"

	"cairn.dev/cairn/gatewayd/gwconfig"
)

// walkSegments walks a clean path against a pattern's segments, calling
// capture (when not nil) with each param's value, and reports whether the
// whole path matched. A {param} takes one non-empty segment; a final
// {rest...} takes everything after the "/" before it, possibly nothing, so
// "/files/{p...}" matches "/files/" and "/files/a/b" but not "/files".
func walkSegments(segs []gwconfig.Segment, path string, capture func(name, value string)) bool {
	p := path[1:] // after the leading "/"
	atEnd := false
	if len(segs) == 0 {
		return p == ""
	}
	for _, s := range segs {
		if atEnd {
			return false
		}
		if s.Rest {
			if capture != nil {
				capture(s.Param, p)
			}
			return true
		}
		var seg string
		if j := strings.IndexByte(p, '/'); j < 0 {
			seg, p, atEnd = p, "", true
		} else {
			seg, p = p[:j], p[j+1:]
		}
		switch {
		case s.Param == "":
			if seg != s.Literal {
				return false
			}
		case seg == "":
			return false
		case capture != nil:
			capture(s.Param, seg)
		}
	}
	return atEnd
}

func matchSegments(segs []gwconfig.Segment, path string) bool {
	return walkSegments(segs, path, nil)
}

// captureParams returns the params of a path that matches segs (nil for a
// pattern without params).
func captureParams(segs []gwconfig.Segment, path string) map[string]string {
	n := 0
	for _, s := range segs {
		if s.Param != "" {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	params := make(map[string]string, n)
	walkSegments(segs, path, func(name, value string) { params[name] = value })
	return params
}
