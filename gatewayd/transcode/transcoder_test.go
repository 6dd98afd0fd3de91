package transcode

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// Every service declared under proto/cairn/<name>/v1 is in the compiled-in
// registry (descriptors.go imports its package).
func TestEveryCairnServiceRegistered(t *testing.T) {
	protos, err := filepath.Glob("../../proto/cairn/*/v1/*.proto")
	require.NoError(t, err)
	require.NotEmpty(t, protos)
	pkgRe := regexp.MustCompile(`(?m)^package ([\w.]+);`)
	svcRe := regexp.MustCompile(`(?m)^service (\w+) \{`)
	tr := New(Config{})
	n := 0
	for _, p := range protos {
		src, err := os.ReadFile(p)
		require.NoError(t, err)
		pkg := pkgRe.FindSubmatch(src)
		require.NotNil(t, pkg, "%s has no package", p)
		for _, m := range svcRe.FindAllSubmatch(src, -1) {
			name := string(pkg[1]) + "." + string(m[1])
			svc, err := tr.Service(name)
			require.NoError(t, err, "%s (from %s): add its Go package to descriptors.go", name, p)
			require.NotEmpty(t, svc.Methods(), name)
			n++
		}
	}
	t.Logf("%d services registered", n)
}

// The error detail types render as JSON, so they must be registered.
func TestErrorDetailTypesRegistered(t *testing.T) {
	for _, name := range []string{"google.rpc.ErrorInfo", "google.rpc.BadRequest", "google.rpc.RetryInfo", "google.rpc.QuotaFailure"} {
		_, err := protoregistry.GlobalTypes.FindMessageByURL("type.googleapis.com/" + name)
		require.NoError(t, err, name)
	}
}

func TestServiceLookup(t *testing.T) {
	tr := New(Config{})
	svc, err := tr.Service("cairn.raftkv.v1.KVService")
	require.NoError(t, err)
	require.Equal(t, "cairn.raftkv.v1.KVService", svc.Name())
	require.Equal(t, []string{"Compact", "DeleteRange", "Put", "Range", "Txn"}, svc.Methods())
	again, err := tr.Service("cairn.raftkv.v1.KVService")
	require.NoError(t, err)
	require.Same(t, svc, again)

	for _, bad := range []string{"", "cairn.raftkv.v1.Nope", "cairn.raftkv.v1.RangeRequest", "cairn.raftkv.v1", "..."} {
		_, err := tr.Service(bad)
		require.True(t, errors.Is(err, ErrUnknownService), "%q: %v", bad, err)
	}

	// A Transcoder over other descriptors does not see the global ones.
	_, err = New(Config{Files: new(protoregistry.Files)}).Service("cairn.raftkv.v1.KVService")
	require.True(t, errors.Is(err, ErrUnknownService))
}

func TestMethodNames(t *testing.T) {
	svc, err := New(Config{}).Service("cairn.raftkv.v1.KVService")
	require.NoError(t, err)
	tests := map[string]string{
		"Range": "Range", "range": "Range", "RANGE": "Range",
		"DeleteRange": "DeleteRange", "delete_range": "DeleteRange", "delete-range": "DeleteRange",
		"DELETE_RANGE": "DeleteRange", "deleterange": "DeleteRange",
		"/v1/kv/put": "Put", "/v1/kv/put/": "Put", "txn": "Txn",
		"": "", "/": "", "ranges": "", "range/x": "", "Ränge": "",
	}
	for in, want := range tests {
		m := svc.lookup(lastSegment(in))
		if want == "" {
			require.Nil(t, m, in)
			continue
		}
		require.NotNil(t, m, in)
		require.Equal(t, want, string(m.desc.Name()), in)
	}
}

// Two methods whose names differ only in case or separators are reachable
// only by their exact names; a Transcoder over its own Files sees them.
func TestNormalizedNameCollision(t *testing.T) {
	empty := &descriptorpb.DescriptorProto{Name: proto.String("Empty")}
	rpc := func(name string) *descriptorpb.MethodDescriptorProto {
		return &descriptorpb.MethodDescriptorProto{Name: proto.String(name), InputType: proto.String(".test.v1.Empty"), OutputType: proto.String(".test.v1.Empty")}
	}
	fdp := &descriptorpb.FileDescriptorProto{
		Name:        proto.String("test/v1/twins.proto"),
		Package:     proto.String("test.v1"),
		Syntax:      proto.String("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{empty},
		Service: []*descriptorpb.ServiceDescriptorProto{{
			Name:   proto.String("TwinService"),
			Method: []*descriptorpb.MethodDescriptorProto{rpc("GetItem"), rpc("Get_Item"), rpc("Other")},
		}},
	}
	fd, err := protodesc.NewFile(fdp, nil)
	require.NoError(t, err)
	files := new(protoregistry.Files)
	require.NoError(t, files.RegisterFile(fd))

	svc, err := New(Config{Files: files}).Service("test.v1.TwinService")
	require.NoError(t, err)
	require.Equal(t, []string{"GetItem", "Get_Item", "Other"}, svc.Methods())
	require.Equal(t, "GetItem", string(svc.lookup("GetItem").desc.Name()))
	require.Equal(t, "Get_Item", string(svc.lookup("Get_Item").desc.Name()))
	require.Nil(t, svc.lookup("getitem"), "ambiguous")
	require.Nil(t, svc.lookup("get-item"), "ambiguous")
	require.Equal(t, "Other", string(svc.lookup("other").desc.Name()))
}

func TestHTTPStatus(t *testing.T) {
	require.Equal(t, 200, HTTPStatus(codes.OK))
	require.Equal(t, 500, HTTPStatus(codes.Code(99)))
	require.Equal(t, "UNKNOWN", statusName(codes.Code(99)))
	require.Equal(t, "DEADLINE_EXCEEDED", statusName(codes.DeadlineExceeded))
}
