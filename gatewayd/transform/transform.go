package transform

import (
	"fmt"
	"net/http"

	"cairn.dev/cairn/gatewayd/gwconfig"
)

// Transform is a compiled set of edits for requests or responses. It is
// immutable and safe for concurrent use; the zero Transform (and a nil
// one) edits nothing.
type Transform struct {
	headers headerEdits
	query   queryEdits
	json    jsonEdits
	maxBody int64
}

// Compile checks t and compiles it. A nil t compiles to a Transform that
// edits nothing. Errors match ErrForbiddenHeader, ErrBadHeader,
// ErrBadQuery, ErrBadPath or ErrBadValue.
func Compile(t *gwconfig.Transform) (*Transform, error) {
	c := &Transform{maxBody: MaxBody}
	if t == nil {
		return c, nil
	}
	var err error
	if c.headers, err = compileHeaders(t.Headers.Remove, t.Headers.Rename, t.Headers.Add); err != nil {
		return nil, fmt.Errorf("headers: %w", err)
	}
	if c.query, err = compileQuery(t.Query.Remove, t.Query.Rename, t.Query.Add); err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	if t.JSON != nil {
		if c.json, err = compileJSON(t.JSON.Remove, t.JSON.Rename, t.JSON.Add); err != nil {
			return nil, fmt.Errorf("json: %w", err)
		}
	}
	return c, nil
}

// NeedsBody reports whether the Transform edits JSON bodies (and so may
// read up to MaxBody bytes of a body into memory).
func (t *Transform) NeedsBody() bool {
	return t != nil && !t.json.empty()
}

// Empty reports whether the Transform edits nothing.
func (t *Transform) Empty() bool {
	return t == nil || (t.headers.empty() && t.query.empty() && t.json.empty())
}

// ApplyRequest edits r in place: headers, the query string (r.URL.RawQuery)
// and, when configured and the body qualifies (see the package doc), the
// JSON body, replacing Body, GetBody and ContentLength. The caller must
// own r (the gateway's outgoing copy). An error (ErrBody) means the body
// could not be read; r's body then yields the bytes read and the error
// again.
func (t *Transform) ApplyRequest(r *http.Request) error {
	if t == nil {
		return nil
	}
	t.headers.apply(r.Header)
	if !t.query.empty() && r.URL != nil {
		r.URL.RawQuery = t.query.apply(r.URL.RawQuery)
		r.URL.ForceQuery = false
	}
	if t.json.empty() || r.Body == nil || r.Body == http.NoBody || !editable(r.Header, r.ContentLength, t.maxBody) {
		return nil
	}
	data, complete, rest, err := readBounded(r.Body, t.maxBody)
	if !complete {
		r.Body = rest
		if err != nil {
			return fmt.Errorf("%w: %v", ErrBody, err)
		}
		return nil
	}
	out, _ := t.json.apply(data)
	r.Body, r.GetBody = bodyFrom(out)
	r.ContentLength = int64(len(out))
	r.TransferEncoding = nil
	setLength(r.Header, len(out))
	return nil
}

// ApplyResponse edits resp in place: headers and, when configured and the
// body qualifies, the JSON body (never for HEAD requests). An edited body
// gets a new Content-Length and loses its ETag and digests, which no longer
// describe it. An error (ErrBody) means the body could not be read.
func (t *Transform) ApplyResponse(resp *http.Response) error {
	if t == nil {
		return nil
	}
	t.headers.apply(resp.Header)
	if t.json.empty() || resp.Body == nil || resp.Body == http.NoBody ||
		(resp.Request != nil && resp.Request.Method == http.MethodHead) ||
		!editable(resp.Header, resp.ContentLength, t.maxBody) {
		return nil
	}
	data, complete, rest, err := readBounded(resp.Body, t.maxBody)
	if !complete {
		resp.Body = rest
		if err != nil {
			return fmt.Errorf("%w: %v", ErrBody, err)
		}
		return nil
	}
	out, changed := t.json.apply(data)
	resp.Body, _ = bodyFrom(out)
	resp.ContentLength = int64(len(out))
	resp.TransferEncoding = nil
	setLength(resp.Header, len(out))
	if changed {
		for _, h := range []string{"Etag", "Content-Md5", "Content-Digest", "Repr-Digest"} {
			delete(resp.Header, h)
		}
	}
	return nil
}

// EditJSON applies the Transform's JSON edits to body and reports whether
// it changed; a body that is not a JSON object comes back unchanged. It is
// what ApplyRequest and ApplyResponse do to a qualifying body.
func (t *Transform) EditJSON(body []byte) ([]byte, bool) {
	if t == nil {
		return body, false
	}
	return t.json.apply(body)
}
