package es

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"google.golang.org/grpc"

	searchdv1 "cairn.dev/cairn/proto/cairn/searchd/v1"
)

// Defaults of Options.
const (
	// DefaultMaxContentLength is Elasticsearch's http.max_content_length:
	// 100 MiB.
	DefaultMaxContentLength = 100 << 20
	// DefaultBulkChunkBytes bounds the document bytes of one Bulk RPC: a
	// _bulk body larger than that is sent in several, in order, so that no
	// gRPC message nears the servers' 16 MiB limit.
	DefaultBulkChunkBytes = 8 << 20
	// DefaultBulkChunkItems bounds the items of one Bulk RPC.
	DefaultBulkChunkItems = 5000
	// DefaultClusterName is the cluster_name of responses.
	DefaultClusterName = "cairn"
	// Version is the Elasticsearch version the banner claims, so that
	// clients which check it (the official ones want 8.x) accept the API.
	Version = "8.11.0"
)

// Options configure a Handler. The zero value is the defaults.
type Options struct {
	// MaxContentLength bounds a request body (413 above it); zero means
	// DefaultMaxContentLength.
	MaxContentLength int64
	// BulkChunkBytes and BulkChunkItems bound one Bulk RPC; zero means
	// the defaults.
	BulkChunkBytes int
	BulkChunkItems int
	// ClusterName and NodeName are reported by GET / and _cluster/health;
	// empty means DefaultClusterName and "searchd".
	ClusterName string
	NodeName    string
	// NoAutoCreateIndex turns off the creation, with default settings and
	// a dynamic mapping, of a missing index on a document write
	// (Elasticsearch's action.auto_create_index, on by default).
	NoAutoCreateIndex bool
	// Logger logs failed requests at debug level; nil discards.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.MaxContentLength <= 0 {
		o.MaxContentLength = DefaultMaxContentLength
	}
	if o.BulkChunkBytes <= 0 {
		o.BulkChunkBytes = DefaultBulkChunkBytes
	}
	if o.BulkChunkItems <= 0 {
		o.BulkChunkItems = DefaultBulkChunkItems
	}
	if o.ClusterName == "" {
		o.ClusterName = DefaultClusterName
	}
	if o.NodeName == "" {
		o.NodeName = "searchd"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Handler serves the Elasticsearch REST API over the cairn.searchd.v1
// services. It is an http.Handler, safe for concurrent use; it keeps no
// state of its own.
type Handler struct {
	opts    Options
	indexes searchdv1.IndexServiceClient
	docs    searchdv1.DocumentServiceClient
	search  searchdv1.SearchServiceClient
	cluster searchdv1.ClusterServiceClient
}

// NewHandler returns a Handler that serves every request by calling the
// searchd services over conn (a connection to a searchd node, or the node
// itself in-process).
func NewHandler(conn grpc.ClientConnInterface, opts Options) *Handler {
	return &Handler{
		opts:    opts.withDefaults(),
		indexes: searchdv1.NewIndexServiceClient(conn),
		docs:    searchdv1.NewDocumentServiceClient(conn),
		search:  searchdv1.NewSearchServiceClient(conn),
		cluster: searchdv1.NewClusterServiceClient(conn),
	}
}

// call is one request being served.
type call struct {
	w   http.ResponseWriter
	r   *http.Request
	ctx context.Context
	q   url.Values
	// segs are the path's segments, unescaped.
	segs []string
}

// route is one endpoint: the methods it takes and its handler.
type route struct {
	methods []string
	fn      func(h *Handler, c *call) error
}

// ServeHTTP sets X-Elastic-Product (the official clients refuse a server
// without it), parses the path and dispatches to the endpoint it names.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	c := &call{w: w, r: r, ctx: r.Context(), q: r.URL.Query()}
	segs, err := splitPath(r.URL.EscapedPath())
	if err != nil {
		writeError(w, r, badRequest("malformed path: %v", err))
		return
	}
	c.segs = segs
	rt, ok := h.match(segs)
	if !ok {
		writeJSON(w, r, http.StatusBadRequest, obj{}.
			add("error", "no handler found for uri ["+r.URL.RequestURI()+"] and method ["+r.Method+"]").
			add("status", http.StatusBadRequest))
		return
	}
	allowed := false
	for _, m := range rt.methods {
		allowed = allowed || m == r.Method
	}
	if !allowed {
		w.Header().Set("Allow", strings.Join(rt.methods, ","))
		writeJSON(w, r, http.StatusMethodNotAllowed, obj{}.
			add("error", "Incorrect HTTP method for uri ["+r.URL.RequestURI()+"] and method ["+r.Method+"], allowed: ["+strings.Join(rt.methods, ", ")+"]").
			add("status", http.StatusMethodNotAllowed))
		return
	}
	if err := rt.fn(h, c); err != nil {
		var e *esError
		if !errors.As(err, &e) {
			e = fromRPC(err, opIndexAdmin, "", "")
		}
		h.opts.Logger.Debug("es request failed", "method", r.Method, "path", r.URL.Path, "status", e.status, "type", e.typ, "reason", e.reason)
		writeError(w, r, e)
	}
}

const (
	get, head, put, post, del = http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPost, http.MethodDelete
)

// match finds the endpoint of a path.
func (h *Handler) match(segs []string) (route, bool) {
	switch len(segs) {
	case 0:
		return route{[]string{get, head}, (*Handler).banner}, true
	case 1:
		switch segs[0] {
		case "_bulk":
			return route{[]string{post, put}, (*Handler).bulk}, true
		case "_search":
			return route{[]string{get, post}, (*Handler).searchDocs}, true
		case "_count":
			return route{[]string{get, post}, (*Handler).count}, true
		case "_refresh":
			return route{[]string{post, get}, (*Handler).refresh}, true
		case "_stats":
			return route{[]string{get}, (*Handler).stats}, true
		case "_mapping":
			return route{[]string{get}, (*Handler).getMapping}, true
		}
		if strings.HasPrefix(segs[0], "_") {
			return route{}, false
		}
		return route{[]string{put, del, get, head}, (*Handler).index}, true
	case 2:
		switch segs[0] {
		case "_cat":
			if segs[1] == "indices" {
				return route{[]string{get}, (*Handler).catIndices}, true
			}
			return route{}, false
		case "_cluster":
			if segs[1] == "health" {
				return route{[]string{get}, (*Handler).health}, true
			}
			return route{}, false
		}
		if strings.HasPrefix(segs[0], "_") {
			return route{}, false
		}
		switch segs[1] {
		case "_doc":
			return route{[]string{post}, (*Handler).putDoc}, true
		case "_bulk":
			return route{[]string{post, put}, (*Handler).bulk}, true
		case "_search":
			return route{[]string{get, post}, (*Handler).searchDocs}, true
		case "_count":
			return route{[]string{get, post}, (*Handler).count}, true
		case "_refresh":
			return route{[]string{post, get}, (*Handler).refresh}, true
		case "_stats":
			return route{[]string{get}, (*Handler).stats}, true
		case "_mapping":
			return route{[]string{get, put, post}, (*Handler).mapping}, true
		}
	case 3:
		switch {
		case segs[0] == "_cat" && segs[1] == "indices":
			return route{[]string{get}, (*Handler).catIndices}, true
		case segs[0] == "_cluster" && segs[1] == "health":
			return route{[]string{get}, (*Handler).health}, true
		case strings.HasPrefix(segs[0], "_"):
			return route{}, false
		}
		switch segs[1] {
		case "_doc":
			return route{[]string{put, post, get, head, del}, (*Handler).doc}, true
		case "_create":
			return route{[]string{put, post}, (*Handler).putDoc}, true
		case "_source":
			return route{[]string{get, head}, (*Handler).source}, true
		}
	}
	return route{}, false
}

// splitPath splits an escaped URL path into unescaped segments, so that an
// id may hold an escaped "/" (%2F). Empty segments are dropped.
func splitPath(escaped string) ([]string, error) {
	var out []string
	for _, s := range strings.Split(escaped, "/") {
		if s == "" {
			continue
		}
		u, err := url.PathUnescape(s)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}

// body reads the request body, at most MaxContentLength bytes: a larger one
// is a 413 naming the limit.
func (h *Handler) body(c *call) ([]byte, error) {
	limit := h.opts.MaxContentLength
	if c.r.ContentLength > limit {
		return nil, tooLarge(c.r.ContentLength, limit)
	}
	b, err := io.ReadAll(http.MaxBytesReader(c.w, c.r.Body, limit))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, tooLarge(-1, limit)
	}
	if err != nil {
		return nil, badRequest("reading the request body: %v", err)
	}
	return b, nil
}

func tooLarge(size, limit int64) *esError {
	what := "the request body is"
	if size >= 0 {
		what += " " + itoa(size) + " bytes,"
	}
	return errorf(http.StatusRequestEntityTooLarge, "content_too_long_exception",
		"%s larger than the limit of %d bytes (http.max_content_length)", what, limit)
}

// bodyOrSource is the body, or the ?source= parameter that clients use to
// send a body with GET.
func (h *Handler) bodyOrSource(c *call) ([]byte, error) {
	b, err := h.body(c)
	if err != nil || len(b) > 0 {
		return b, err
	}
	if s := c.q.Get("source"); s != "" {
		return []byte(s), nil
	}
	return nil, nil
}

// banner is GET /: who the server is, in Elasticsearch's shape.
func (h *Handler) banner(c *call) error {
	writeJSON(c.w, c.r, http.StatusOK, obj{}.
		add("name", h.opts.NodeName).
		add("cluster_name", h.opts.ClusterName).
		add("cluster_uuid", "_na_").
		add("version", obj{}.
			add("number", Version).
			add("build_flavor", "default").
			add("build_type", "cairn").
			add("build_hash", "cairn-searchd").
			add("build_date", "2023-11-04T10:04:57.184859352Z").
			add("build_snapshot", false).
			add("lucene_version", "9.8.0").
			add("minimum_wire_compatibility_version", "7.17.0").
			add("minimum_index_compatibility_version", "7.0.0")).
		add("tagline", "You Know, for Search"))
	return nil
}

// refreshParam reads ?refresh: true or empty (refresh now), wait_for, false.
func refreshParam(c *call) (searchdv1.Refresh, error) {
	if !c.q.Has("refresh") {
		return searchdv1.Refresh_REFRESH_UNSPECIFIED, nil
	}
	switch v := c.q.Get("refresh"); v {
	case "", "true":
		return searchdv1.Refresh_REFRESH_TRUE, nil
	case "wait_for":
		return searchdv1.Refresh_REFRESH_WAIT_FOR, nil
	case "false":
		return searchdv1.Refresh_REFRESH_UNSPECIFIED, nil
	default:
		return 0, badRequest("Unknown value for refresh: [%s].", v)
	}
}

// millisSince is the time since start in whole milliseconds.
func millisSince(start time.Time) int64 { return time.Since(start).Milliseconds() }
