// Package transcode maps REST/JSON requests onto cairn's gRPC services, the
// gateway's gRPC-JSON transcoder.
//
// A Transcoder holds a set of protobuf file descriptors (by default every
// cairn API compiled into the binary, see descriptors.go). Service looks up
// one gRPC service by its full name; (*Service).Serve answers one HTTP
// request by calling a method of that service over a
// grpc.ClientConnInterface (usually a Conn, a round-robin connection to the
// upstream's targets) and writing the reply as JSON:
//
//	t := transcode.New(transcode.Config{})
//	svc, err := t.Service("cairn.raftkv.v1.KVService")
//	conn, err := transcode.NewConn(nil, logger) // nil: plaintext
//	conn.SetTargets([]string{"10.0.0.1:7000", "10.0.0.2:7000"})
//	svc.Serve(w, r, "range", conn, transcode.ServeOptions{})
//
// # Request mapping
//
// The method is named by the last path segment (the caller passes the
// name or the path) and matched by its exact name, else case-insensitively
// ignoring '_' and '-': "DeleteRange", "deleterange", "delete_range" and
// "delete-range" all name KVService.DeleteRange. (Should two methods of a
// service share such a normalized name, only their exact names reach
// them.) An unknown method is a 404.
//
// A POST body is the request message in proto3 JSON (protojson; both
// lowerCamelCase JSON names and proto field names are accepted, bytes are
// base64, 64-bit integers may be strings, enums names or numbers). The
// body's Content-Type is not checked (curl -d sends
// application/x-www-form-urlencoded), and a POST's query string is
// ignored. An empty body is the empty message. A field the message does not
// have is a 400 naming the field; so is malformed JSON. A GET has no body
// (one is a 400): its query parameters set top-level scalar, enum and bytes
// fields (repeated fields by repeating the parameter); a parameter naming
// no such field is a 400. Other HTTP methods are a 405 with Allow: GET,
// POST. Bodies over Config.MaxBody are a 413. None of these reach the
// upstream.
//
// # Response mapping
//
// A unary reply is 200 application/json, the response message in proto3
// JSON with lowerCamelCase names and unpopulated fields left out (protojson
// defaults: UseProtoNames false, EmitUnpopulated false). A server-streaming
// method answers 200 application/x-ndjson, chunked, once the upstream has
// sent its response headers, then one message per line, each line flushed
// as it arrives; a call that fails before that gets its error status and
// the usual error object, a later error ends the stream with one last line
// {"error":{...}} (the error object below). Serve returns, and the upstream
// call is canceled, when the client goes away. Client- and bidi-streaming
// methods are a 501.
//
// # Errors
//
// Every error, the gateway's own and the upstream's, is a JSON object
//
//	{"code":5,"status":"NOT_FOUND","message":"...","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo",...}],"request_id":"..."}
//
// with the gRPC code as a number and as its google.rpc.Code name, the
// status details in proto3 JSON, and the request's X-Request-Id when it has
// one. The HTTP status of an upstream error follows google.api's mapping
// (HTTPStatus): INVALID_ARGUMENT, FAILED_PRECONDITION and OUT_OF_RANGE 400,
// UNAUTHENTICATED 401, PERMISSION_DENIED 403, NOT_FOUND 404,
// ALREADY_EXISTS and ABORTED 409, RESOURCE_EXHAUSTED 429, CANCELLED 499,
// UNIMPLEMENTED 501, UNAVAILABLE 503 (also: no reachable target),
// DEADLINE_EXCEEDED 504, the rest 500. The gateway's own refusals use the
// same object: 400 and 413 with INVALID_ARGUMENT, 404 with NOT_FOUND, 405
// and 501 with UNIMPLEMENTED.
//
// # Metadata
//
// The upstream call carries only: x-request-id (from the request's
// X-Request-Id header), the deadline (ServeOptions.Timeout and the request
// context's, sent by grpc-go as grpc-timeout), and ServeOptions.Metadata
// (e.g. the authenticated consumer). No other request header is forwarded;
// in particular Authorization never is, and Metadata keys that gRPC reserves
// or that carry credentials are dropped (see ServeOptions).
package transcode
