package rpcerr

import (
	"context"
	"errors"
	"maps"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Rule maps errors that match Err (errors.Is) to Reason.
type Rule struct {
	Err    error
	Reason Reason
}

// ToStatus turns err into a status error: it is the body of each daemon's one
// mapper at its server edge. In order:
//   - nil stays nil;
//   - a status error (already mapped, or relayed from another member) is
//     returned unchanged, with its details;
//   - the first rule whose Err matches gives the reason, with the metadata
//     attached to err by WithMetadata;
//   - context.DeadlineExceeded and context.Canceled keep their codes, with no
//     reason;
//   - anything else is INTERNAL.
//
// The message is always err.Error(), so it names what the domain error named.
// Rules are tried in order, so list a sentinel that may wrap another (an
// unknown outcome caused by a shutdown) before the one it wraps.
func ToStatus(err error, rules []Rule) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	md := MetadataOf(err)
	for _, r := range rules {
		if errors.Is(err, r.Err) {
			return Error(r.Reason, err.Error(), md)
		}
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	}
	return Error(Internal, err.Error(), md)
}

// metaError is an error annotated with metadata for the server edge.
type metaError struct {
	err error
	md  map[string]string
}

func (e *metaError) Error() string { return e.err.Error() }
func (e *metaError) Unwrap() error { return e.err }

// WithMetadata returns err annotated with key/value pairs (kv holds an even
// number of strings) that ToStatus copies into ErrorInfo.Metadata. The result
// has err's message and matches what err matches with errors.Is and errors.As.
// Domain packages use it to say which field and which limit an error is about
// without building a status. WithMetadata(nil, …) is nil; an odd last key is
// dropped.
func WithMetadata(err error, kv ...string) error {
	if err == nil {
		return nil
	}
	md := make(map[string]string, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		md[kv[i]] = kv[i+1]
	}
	return &metaError{err: err, md: md}
}

// MetadataOf collects the metadata attached by WithMetadata anywhere in err's
// chain; where two annotations set the same key the outer one wins. It returns
// nil when there is none.
func MetadataOf(err error) map[string]string {
	var out map[string]string
	var walk func(error)
	walk = func(err error) {
		for err != nil {
			if m, ok := err.(*metaError); ok {
				if out == nil {
					out = map[string]string{}
				}
				for k, v := range m.md {
					if _, set := out[k]; !set {
						out[k] = v
					}
				}
			}
			switch u := err.(type) {
			case interface{ Unwrap() []error }:
				for _, e := range u.Unwrap() {
					walk(e)
				}
				return
			case interface{ Unwrap() error }:
				err = u.Unwrap()
			default:
				return
			}
		}
	}
	walk(err)
	return maps.Clone(out)
}
