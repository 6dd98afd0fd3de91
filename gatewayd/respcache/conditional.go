package respcache

import (
	"net/http"
	"strings"
)

// notModified reports whether r's conditional headers (RFC 9110 §13.1.2,
// §13.1.3) let a hit on e be answered 304: If-None-Match against the
// entry's ETag (weak comparison), or, without If-None-Match,
// If-Modified-Since against its Last-Modified.
func (e *Entry) notModified(r *http.Request) bool {
	if e.Status != http.StatusOK {
		return false
	}
	if inm := r.Header["If-None-Match"]; len(inm) > 0 {
		etag := e.Header["Etag"]
		if len(etag) == 0 {
			return false
		}
		for _, line := range inm {
			for tag := range strings.SplitSeq(line, ",") {
				tag = strings.TrimSpace(tag)
				if tag == "*" || weakMatch(tag, etag[0]) {
					return true
				}
			}
		}
		return false
	}
	ims := r.Header["If-Modified-Since"]
	lm := e.Header["Last-Modified"]
	if len(ims) == 0 || len(lm) == 0 {
		return false
	}
	since, err := http.ParseTime(ims[0])
	if err != nil {
		return false
	}
	mod, err := http.ParseTime(lm[0])
	return err == nil && !mod.After(since)
}

// weakMatch compares two entity tags ignoring the weak prefix.
func weakMatch(a, b string) bool {
	return strings.TrimPrefix(a, "W/") == strings.TrimPrefix(b, "W/")
}

// notModifiedDrop are the headers a 304 answer leaves out (RFC 9110
// §15.4.5: it describes the stored representation, without content).
var notModifiedDrop = []string{"Content-Length", "Content-Type", "Content-Encoding", "Content-Range"}
