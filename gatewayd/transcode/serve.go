package transcode

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// ServeOptions are the per-request inputs of Serve.
type ServeOptions struct {
	// Metadata is sent upstream as gRPC metadata (e.g. the authenticated
	// consumer: {"x-cairn-consumer": "demo"}). Keys are lower-cased; keys
	// that carry credentials (authorization, proxy-authorization, cookie,
	// x-api-key), that HTTP/2 or gRPC reserve (content-type, te, host,
	// connection, user-agent, grpc-*), or that are not valid metadata are
	// dropped, as are values with bytes outside printable ASCII (unless the
	// key ends in "-bin").
	Metadata map[string]string
	// Timeout bounds the upstream call (sent as grpc-timeout); zero means
	// only the request context's deadline applies.
	Timeout time.Duration
}

// Serve answers r by calling one method of s over conn, as the package
// documentation describes. method names it: the method's name or a path
// whose last non-empty segment is the name ("/v1/kv/range"). Serve writes
// the whole response, success or error, and returns once the call is over
// (for a stream: when it ends, fails or the client goes away). It may be
// called concurrently.
func (s *Service) Serve(w http.ResponseWriter, r *http.Request, method string, conn grpc.ClientConnInterface, opts ServeOptions) {
	m := s.lookup(lastSegment(method))
	if m == nil {
		s.writeError(w, r, http.StatusNotFound, codes.NotFound, fmt.Sprintf("no method %q", lastSegment(method)))
		return
	}
	if m.desc.IsStreamingClient() {
		s.writeError(w, r, http.StatusNotImplemented, codes.Unimplemented,
			fmt.Sprintf("method %s streams requests; only unary and server-streaming methods are transcoded", m.desc.Name()))
		return
	}
	req, herr := s.decodeRequest(r, m)
	if herr != nil {
		if herr.status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", "GET, POST")
		}
		s.writeError(w, r, herr.status, herr.code, herr.msg)
		return
	}
	ctx, cancel := callContext(r.Context(), opts.Timeout)
	defer cancel()
	ctx = outgoing(ctx, r, opts.Metadata)
	if m.desc.IsStreamingServer() {
		s.serveStream(ctx, w, r, m, req, conn)
		return
	}
	s.serveUnary(ctx, w, r, m, req, conn)
}

// httpError is a request the gateway refuses before calling upstream.
type httpError struct {
	status int
	code   codes.Code
	msg    string
}

// decodeRequest builds the request message from r's body (POST) or query
// (GET).
func (s *Service) decodeRequest(r *http.Request, m *method) (proto.Message, *httpError) {
	var data []byte
	switch r.Method {
	case http.MethodPost:
		body, herr := s.readBody(r)
		if herr != nil {
			return nil, herr
		}
		data = body
	case http.MethodGet:
		body, herr := s.readBody(r)
		if herr != nil {
			return nil, herr
		}
		if len(bytes.TrimSpace(body)) != 0 {
			return nil, &httpError{http.StatusBadRequest, codes.InvalidArgument, "a GET carries no body; send the request with POST"}
		}
		q, err := queryJSON(m.desc.Input(), r.URL.Query())
		if err != nil {
			return nil, &httpError{http.StatusBadRequest, codes.InvalidArgument, err.Error()}
		}
		data = q
	default:
		return nil, &httpError{http.StatusMethodNotAllowed, codes.Unimplemented, "use POST with a JSON body, or GET with query parameters"}
	}
	req := m.input.New().Interface()
	if len(bytes.TrimSpace(data)) == 0 {
		return req, nil
	}
	uo := protojson.UnmarshalOptions{Resolver: s.t.types}
	if err := uo.Unmarshal(data, req); err != nil {
		return nil, &httpError{http.StatusBadRequest, codes.InvalidArgument, "request: " + strings.TrimPrefix(err.Error(), "proto: ")}
	}
	return req, nil
}

// readBody reads at most the transcoder's MaxBody bytes of r's body.
func (s *Service) readBody(r *http.Request) ([]byte, *httpError) {
	tooBig := &httpError{http.StatusRequestEntityTooLarge, codes.InvalidArgument,
		"request body larger than " + strconv.FormatInt(s.t.maxBody, 10) + " bytes"}
	if r.ContentLength > s.t.maxBody {
		return nil, tooBig
	}
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, s.t.maxBody+1))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, tooBig
	case err != nil:
		return nil, &httpError{http.StatusBadRequest, codes.InvalidArgument, "reading the request body: " + err.Error()}
	case int64(len(body)) > s.t.maxBody:
		return nil, tooBig
	}
	return body, nil
}

// serveUnary makes one unary call and writes its reply.
func (s *Service) serveUnary(ctx context.Context, w http.ResponseWriter, r *http.Request, m *method, req proto.Message, conn grpc.ClientConnInterface) {
	resp := m.output.New().Interface()
	if err := conn.Invoke(ctx, m.fullMethod, req, resp); err != nil {
		s.writeStatus(w, r, toStatus(err))
		return
	}
	body, err := protojson.MarshalOptions{Resolver: s.t.types}.Marshal(resp)
	if err != nil {
		s.writeError(w, r, http.StatusBadGateway, codes.Internal, "rendering the reply: "+err.Error())
		return
	}
	body = append(body, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// callContext is the context of the upstream call: ctx, bounded by timeout
// when it is positive, always cancellable (a stream's resources are freed
// when Serve returns).
func callContext(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	if timeout > 0 {
		return context.WithTimeout(ctx, timeout)
	}
	return context.WithCancel(ctx)
}

// lastSegment is the last non-empty '/'-separated segment of p.
func lastSegment(p string) string {
	p = strings.TrimRight(p, "/")
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

// toStatus is err as a gRPC status: its own, or one made from a context
// error (Canceled, DeadlineExceeded), or Unknown.
func toStatus(err error) *status.Status {
	if st, ok := status.FromError(err); ok {
		return st
	}
	return status.FromContextError(err)
}
