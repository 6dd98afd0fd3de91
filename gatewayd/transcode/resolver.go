package transcode

import (
	"errors"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"
)

// typeResolver finds message and extension types for protojson (the
// contents of google.protobuf.Any fields and status details): the compiled-in
// Go types first (protoregistry.GlobalTypes, which holds the errdetails
// types), then dynamic types built from the Transcoder's descriptors.
type typeResolver struct {
	dynamic *dynamicpb.Types
}

func (r *typeResolver) FindMessageByName(name protoreflect.FullName) (protoreflect.MessageType, error) {
	mt, err := protoregistry.GlobalTypes.FindMessageByName(name)
	if errors.Is(err, protoregistry.NotFound) {
		return r.dynamic.FindMessageByName(name)
	}
	return mt, err
}

func (r *typeResolver) FindMessageByURL(url string) (protoreflect.MessageType, error) {
	mt, err := protoregistry.GlobalTypes.FindMessageByURL(url)
	if errors.Is(err, protoregistry.NotFound) {
		return r.dynamic.FindMessageByURL(url)
	}
	return mt, err
}

func (r *typeResolver) FindExtensionByName(name protoreflect.FullName) (protoreflect.ExtensionType, error) {
	xt, err := protoregistry.GlobalTypes.FindExtensionByName(name)
	if errors.Is(err, protoregistry.NotFound) {
		return r.dynamic.FindExtensionByName(name)
	}
	return xt, err
}

func (r *typeResolver) FindExtensionByNumber(message protoreflect.FullName, field protoreflect.FieldNumber) (protoreflect.ExtensionType, error) {
	xt, err := protoregistry.GlobalTypes.FindExtensionByNumber(message, field)
	if errors.Is(err, protoregistry.NotFound) {
		return r.dynamic.FindExtensionByNumber(message, field)
	}
	return xt, err
}
