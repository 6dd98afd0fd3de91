package transcode

import (
	"encoding/json"
	"net/http"

	rpccode "google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
)

// HTTPStatus maps a gRPC code to the HTTP status google.api's
// (google/rpc/code.proto) mapping gives it; unknown codes are 500.
func HTTPStatus(c codes.Code) int {
	switch c {
	case codes.OK:
		return http.StatusOK
	case codes.Canceled:
		return 499 // client closed request
	case codes.InvalidArgument, codes.FailedPrecondition, codes.OutOfRange:
		return http.StatusBadRequest
	case codes.Unauthenticated:
		return http.StatusUnauthorized
	case codes.PermissionDenied:
		return http.StatusForbidden
	case codes.NotFound:
		return http.StatusNotFound
	case codes.AlreadyExists, codes.Aborted:
		return http.StatusConflict
	case codes.ResourceExhausted:
		return http.StatusTooManyRequests
	case codes.Unimplemented:
		return http.StatusNotImplemented
	case codes.Unavailable:
		return http.StatusServiceUnavailable
	case codes.DeadlineExceeded:
		return http.StatusGatewayTimeout
	default: // Unknown, Internal, DataLoss and codes beyond the table
		return http.StatusInternalServerError
	}
}

// errorBody is the JSON error object of every failed request.
type errorBody struct {
	Code      int32             `json:"code"`
	Status    string            `json:"status"`
	Message   string            `json:"message"`
	Details   []json.RawMessage `json:"details,omitempty"`
	RequestID string            `json:"request_id,omitempty"`
}

// statusName is c's google.rpc.Code name, e.g. "NOT_FOUND".
func statusName(c codes.Code) string {
	if name, ok := rpccode.Code_name[int32(c)]; ok {
		return name
	}
	return "UNKNOWN"
}

// errorObject renders st as the JSON error object. Details whose type the
// resolver does not know keep only their "@type".
func (s *Service) errorObject(st *status.Status, requestID string) errorBody {
	b := errorBody{
		Code:      int32(st.Code()),
		Status:    statusName(st.Code()),
		Message:   st.Message(),
		RequestID: requestID,
	}
	opts := protojson.MarshalOptions{Resolver: s.t.types}
	for _, d := range st.Proto().GetDetails() {
		raw, err := opts.Marshal(d)
		if err != nil {
			raw, _ = json.Marshal(map[string]string{"@type": d.GetTypeUrl()})
		}
		b.Details = append(b.Details, raw)
	}
	return b
}

// writeStatus answers the request with st as a JSON error and the HTTP
// status HTTPStatus gives its code.
func (s *Service) writeStatus(w http.ResponseWriter, r *http.Request, st *status.Status) {
	s.writeStatusAs(w, r, HTTPStatus(st.Code()), st)
}

// writeStatusAs answers the request with st as a JSON error and HTTP status
// code.
func (s *Service) writeStatusAs(w http.ResponseWriter, r *http.Request, code int, st *status.Status) {
	body, err := json.Marshal(s.errorObject(st, r.Header.Get("X-Request-Id")))
	if err != nil { // cannot happen: every part is valid JSON
		body = []byte(`{"code":13,"status":"INTERNAL","message":"cannot render the error"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Del("Content-Length")
	w.WriteHeader(code)
	_, _ = w.Write(append(body, '\n'))
}

// writeError answers with a gateway-made error: HTTP status code, gRPC
// code c (the gateway's own refusals, e.g. 405 or 413, have no exact gRPC
// twin, so the two are given separately).
func (s *Service) writeError(w http.ResponseWriter, r *http.Request, code int, c codes.Code, msg string) {
	s.writeStatusAs(w, r, code, status.New(c, msg))
}
