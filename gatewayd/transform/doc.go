// Package transform edits requests and responses as a gateway route's
// request and response sections say: header edits, query parameter edits
// (requests only) and edits of a JSON body's object fields.
//
// Compile turns a *gwconfig.Transform into a *Transform once per config
// load; a Transform is immutable and safe for concurrent use:
//
//	t, err := transform.Compile(route.Request)
//	if err != nil { ... } // errors.Is(err, transform.ErrForbiddenHeader), ...
//	if err := t.ApplyRequest(r); err != nil { ... } // only a failed body read
//
// Every edit list applies in the order remove, rename, add (add replaces).
//
// JSON edits address object members by dot paths ("user.email"). The body
// is edited without being decoded into Go values: untouched members keep
// their bytes exactly (numbers keep every digit, strings their escapes),
// members keep their order, a renamed member moves to the end of its
// target object and an added one is appended unless it replaces an
// existing member in place. A body is edited only when its Content-Type is
// application/json or a +json type, it has no Content-Encoding and it is
// at most MaxBody bytes; any other body, and one that is not a valid JSON
// object, passes through unchanged.
//
// Hop-by-hop headers (Connection, Keep-Alive, TE, Trailer,
// Transfer-Encoding, Upgrade, Proxy-*), Host and Content-Length cannot be
// edited: Compile refuses them with ErrForbiddenHeader.
package transform
