package transform

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// MaxBody is the largest body, in bytes, that JSON edits read; a larger one
// passes through unchanged.
const MaxBody = 1 << 20

// isJSON reports whether a Content-Type is application/json or a +json
// type, parameters ignored.
func isJSON(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	if mt == "application/json" {
		return true
	}
	return strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")
}

// editable reports whether a message with header h and declared length n
// (-1: unknown) may have its JSON body edited.
func editable(h http.Header, n int64, limit int64) bool {
	if n == 0 || n > limit || !isJSON(h.Get("Content-Type")) {
		return false
	}
	ce := h.Get("Content-Encoding")
	return ce == "" || strings.EqualFold(ce, "identity")
}

// readBounded reads at most limit bytes of body. With complete false the
// body was longer (or failed) and rest continues the stream after data;
// with complete true body was fully read and closed.
func readBounded(body io.ReadCloser, limit int64) (data []byte, complete bool, rest io.ReadCloser, err error) {
	data, err = io.ReadAll(io.LimitReader(body, limit+1))
	if err != nil || int64(len(data)) > limit {
		return data, false, readCloser{io.MultiReader(bytes.NewReader(data), body), body}, err
	}
	body.Close()
	return data, true, nil, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// bodyFrom returns a fresh body over data and the GetBody that rebuilds it.
func bodyFrom(data []byte) (io.ReadCloser, func() (io.ReadCloser, error)) {
	get := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	b, _ := get()
	return b, get
}

// setLength records a body length in a header; net/http uses the
// ContentLength fields, the header keeps copies of the message honest.
func setLength(h http.Header, n int) {
	h["Content-Length"] = []string{strconv.Itoa(n)}
}
