package client

import (
	"fmt"
	"unicode/utf8"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// ValidateName checks a lock, semaphore or election name before anything is
// sent: it must not be empty and must be valid UTF-8. The error matches
// ErrInvalidArgument, has status InvalidArgument and names field. Callers that
// create a session only to use a name (as the CLI does) call it first, so a
// bad name has no side effect. It does not know the server's max_name_bytes.
func ValidateName(field, name string) error {
	if name == "" {
		return invalid("", fmt.Sprintf("%s must not be empty", field))
	}
	if !utf8.ValidString(name) {
		return invalid("", fmt.Sprintf("%s %q is not valid UTF-8", field, name))
	}
	return nil
}

// validateRequest reports the first string field of req (at any depth) that
// is not valid UTF-8, as an *Error of op: gRPC could not encode req, and would
// fail with a bare Internal "error while marshaling".
func validateRequest(op string, req proto.Message) error {
	if path := invalidUTF8(req.ProtoReflect(), ""); path != "" {
		return invalid(op, fmt.Sprintf("%s is not valid UTF-8 (protobuf strings must be)", path))
	}
	return nil
}

// invalidUTF8 returns the path of the first string field of m that is not
// valid UTF-8, or "".
func invalidUTF8(m protoreflect.Message, prefix string) string {
	var bad string
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		name := prefix + string(fd.Name())
		switch {
		case fd.IsList():
			l := v.List()
			for i := 0; i < l.Len() && bad == ""; i++ {
				bad = invalidValue(fd, l.Get(i), fmt.Sprintf("%s[%d]", name, i))
			}
		case fd.IsMap():
			// No lockd request has a map field.
		default:
			bad = invalidValue(fd, v, name)
		}
		return bad == ""
	})
	return bad
}

func invalidValue(fd protoreflect.FieldDescriptor, v protoreflect.Value, path string) string {
	switch fd.Kind() {
	case protoreflect.StringKind:
		if !utf8.ValidString(v.String()) {
			return fmt.Sprintf("%s %q", path, v.String())
		}
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return invalidUTF8(v.Message(), path+".")
	}
	return ""
}

// invalid returns the *Error of a request the client refuses to send (op
// "validate" when op is ""): status InvalidArgument with msg, matching
// ErrInvalidArgument.
func invalid(op, msg string) error {
	if op == "" {
		op = "validate"
	}
	return errs.Wrap(op, false, refusal(msg))
}

// refusal is the cause of a request the client refuses to send: it has
// status InvalidArgument with the message and matches ErrInvalidArgument.
type refusal string

func (r refusal) Error() string              { return ErrInvalidArgument.Error() + ": " + string(r) }
func (r refusal) GRPCStatus() *status.Status { return status.New(codes.InvalidArgument, string(r)) }
func (r refusal) Unwrap() error              { return ErrInvalidArgument }
