package transcode

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// serveStream makes one server-streaming call and writes its messages as
// NDJSON. The HTTP status is chosen once the upstream answers with headers
// (200) or at once with an error (its mapped status, the usual JSON error);
// an error after that becomes a last {"error":{...}} line.
func (s *Service) serveStream(ctx context.Context, w http.ResponseWriter, r *http.Request, m *method, req proto.Message, conn grpc.ClientConnInterface) {
	desc := &grpc.StreamDesc{StreamName: string(m.desc.Name()), ServerStreams: true}
	stream, err := conn.NewStream(ctx, desc, m.fullMethod)
	if err != nil {
		s.writeStatus(w, r, toStatus(err))
		return
	}
	if err := stream.SendMsg(req); err != nil && !errors.Is(err, io.EOF) {
		// io.EOF: the server already ended the stream; RecvMsg tells how.
		s.writeStatus(w, r, toStatus(err))
		return
	}
	if err := stream.CloseSend(); err != nil {
		s.writeStatus(w, r, toStatus(err))
		return
	}
	mo := protojson.MarshalOptions{Resolver: s.t.types}
	rc := http.NewResponseController(w)
	started := false
	// Header waits for the upstream's response headers. Non-nil headers
	// mean the stream is open (a call that fails at once answers
	// trailers-only, nil here), so the client gets its 200 now even if the
	// first message is long in coming (a watch on a quiet key).
	if md, _ := stream.Header(); md != nil {
		startNDJSON(w)
		_ = rc.Flush()
		started = true
	}
	for {
		msg := m.output.New().Interface()
		err := stream.RecvMsg(msg)
		if errors.Is(err, io.EOF) {
			if !started {
				startNDJSON(w)
			}
			return
		}
		if err != nil {
			if !started {
				s.writeStatus(w, r, toStatus(err))
				return
			}
			if r.Context().Err() != nil {
				return // the client is gone: nobody to tell
			}
			line, _ := json.Marshal(map[string]errorBody{"error": s.errorObject(toStatus(err), r.Header.Get("X-Request-Id"))})
			_, _ = w.Write(append(line, '\n'))
			_ = rc.Flush()
			return
		}
		line, merr := mo.Marshal(msg)
		if merr != nil { // a message protojson cannot render: end with an error line
			st := status.New(codes.Internal, "rendering a message: "+merr.Error())
			line, _ = json.Marshal(map[string]errorBody{"error": s.errorObject(st, r.Header.Get("X-Request-Id"))})
		}
		if !started {
			startNDJSON(w)
			started = true
		}
		if _, err := w.Write(append(line, '\n')); err != nil {
			return // the client is gone; the deferred cancel ends the call
		}
		if err := rc.Flush(); merr != nil || err != nil && !errors.Is(err, http.ErrNotSupported) {
			return
		}
	}
}

// startNDJSON writes the 200 header of a stream.
func startNDJSON(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "application/x-ndjson")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Del("Content-Length")
	w.WriteHeader(http.StatusOK)
}
