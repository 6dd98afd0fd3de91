package transcode

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"
)

// DefaultMaxBody is the request body limit when Config.MaxBody is zero.
const DefaultMaxBody = 4 << 20

// Config configures a Transcoder.
type Config struct {
	// MaxBody bounds a request body in bytes; a larger one is a 413. Zero
	// means DefaultMaxBody.
	MaxBody int64
	// Files holds the service descriptors; nil means
	// protoregistry.GlobalFiles (every cairn API, see descriptors.go).
	Files *protoregistry.Files
}

// Transcoder finds services in a set of descriptors. It is safe for
// concurrent use and holds no resources (nothing to close).
type Transcoder struct {
	maxBody int64
	files   *protoregistry.Files
	types   *typeResolver

	mu       sync.Mutex // protects services
	services map[string]*Service
}

// New returns a Transcoder over cfg.Files.
func New(cfg Config) *Transcoder {
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.Files == nil {
		cfg.Files = protoregistry.GlobalFiles
	}
	return &Transcoder{
		maxBody:  cfg.MaxBody,
		files:    cfg.Files,
		types:    &typeResolver{dynamic: dynamicpb.NewTypes(cfg.Files)},
		services: map[string]*Service{},
	}
}

// Service returns the service with the full name fullName (e.g.
// "cairn.raftkv.v1.KVService"), or an error wrapping ErrUnknownService.
// The same *Service is returned for the same name.
func (t *Transcoder) Service(fullName string) (*Service, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s, ok := t.services[fullName]; ok {
		return s, nil
	}
	d, err := t.files.FindDescriptorByName(protoreflect.FullName(fullName))
	if err != nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownService, fullName)
	}
	sd, ok := d.(protoreflect.ServiceDescriptor)
	if !ok {
		return nil, fmt.Errorf("%w: %q is not a service", ErrUnknownService, fullName)
	}
	s := newService(t, sd)
	t.services[fullName] = s
	return s, nil
}

// Service is one gRPC service's methods, ready to serve HTTP requests. It is
// immutable and safe for concurrent use.
type Service struct {
	t     *Transcoder
	desc  protoreflect.ServiceDescriptor
	exact map[string]*method // by the name in the proto
	// norm holds methods by normalized name (see normalize); a normalized
	// name two methods share maps to nil, so only their exact names reach
	// them.
	norm  map[string]*method
	names []string
}

// method is one RPC of a service.
type method struct {
	desc       protoreflect.MethodDescriptor
	fullMethod string // "/pkg.Service/Method", the gRPC path
	input      protoreflect.MessageType
	output     protoreflect.MessageType
}

// messageType is the type that builds md's messages: the compiled-in Go
// type when protoregistry.GlobalTypes has one for this very descriptor (its
// generated fast paths make a call several times cheaper), else a dynamicpb
// type.
func messageType(md protoreflect.MessageDescriptor) protoreflect.MessageType {
	if mt, err := protoregistry.GlobalTypes.FindMessageByName(md.FullName()); err == nil && mt.Descriptor() == md {
		return mt
	}
	return dynamicpb.NewMessageType(md)
}

func newService(t *Transcoder, sd protoreflect.ServiceDescriptor) *Service {
	s := &Service{t: t, desc: sd, exact: map[string]*method{}, norm: map[string]*method{}}
	ms := sd.Methods()
	for i := range ms.Len() {
		md := ms.Get(i)
		m := &method{
			desc:       md,
			fullMethod: "/" + string(sd.FullName()) + "/" + string(md.Name()),
			input:      messageType(md.Input()),
			output:     messageType(md.Output()),
		}
		s.names = append(s.names, string(md.Name()))
		s.exact[string(md.Name())] = m
		key := normalize(string(md.Name()))
		if _, taken := s.norm[key]; taken {
			s.norm[key] = nil
			continue
		}
		s.norm[key] = m
	}
	slices.Sort(s.names)
	return s
}

// Name is the service's full name.
func (s *Service) Name() string { return string(s.desc.FullName()) }

// Methods returns the names of the service's methods (as in the proto,
// e.g. "DeleteRange"), sorted.
func (s *Service) Methods() []string { return slices.Clone(s.names) }

// lookup finds a method by its exact name or its normalized name.
func (s *Service) lookup(name string) *method {
	if m := s.exact[name]; m != nil {
		return m
	}
	return s.norm[normalize(name)]
}

// normalize lower-cases name and drops '_' and '-', so that "delete_range",
// "Delete-Range" and "DeleteRange" compare equal.
func normalize(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	for _, r := range name {
		switch {
		case r == '_' || r == '-':
		case 'A' <= r && r <= 'Z':
			b.WriteRune(r + ('a' - 'A'))
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
