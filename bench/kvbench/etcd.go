package kvbench

import (
	"context"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
)

// etcd's KV service, as named in its etcdserverpb/rpc.proto.
const (
	etcdPutMethod   = "/etcdserverpb.KV/Put"
	etcdRangeMethod = "/etcdserverpb.KV/Range"
)

// Field numbers in etcd's etcdserverpb/rpc.proto.
const (
	etcdPutKeyField           protowire.Number = 1 // PutRequest.key
	etcdPutValueField         protowire.Number = 2 // PutRequest.value
	etcdRangeKeyField         protowire.Number = 1 // RangeRequest.key
	etcdRangeSerializableFlag protowire.Number = 7 // RangeRequest.serializable
	etcdRangeRespKvsField     protowire.Number = 2 // RangeResponse.kvs
)

// NewEtcdDriver returns a Driver for etcd's v3 gRPC KV API over cc. It encodes
// requests itself and sends them with a pass-through codec, so it needs no etcd
// module.
func NewEtcdDriver(cc grpc.ClientConnInterface) Driver {
	return etcdDriver{cc: cc}
}

type etcdDriver struct {
	cc grpc.ClientConnInterface
}

var rawCallOption = grpc.ForceCodecV2(rawCodec{})

func (d etcdDriver) Put(ctx context.Context, key, value []byte) error {
	req := rawMessage(appendEtcdPut(nil, key, value))
	var resp rawMessage
	return d.cc.Invoke(ctx, etcdPutMethod, &req, &resp, rawCallOption)
}

func (d etcdDriver) Get(ctx context.Context, key []byte, c Consistency) (bool, error) {
	req := rawMessage(appendEtcdRange(nil, key, c == Serializable))
	var resp rawMessage
	if err := d.cc.Invoke(ctx, etcdRangeMethod, &req, &resp, rawCallOption); err != nil {
		return false, err
	}
	n, err := countField(resp, etcdRangeRespKvsField)
	return n > 0, err
}

// appendEtcdPut appends an etcdserverpb.PutRequest{key, value} to b.
func appendEtcdPut(b, key, value []byte) []byte {
	b = protowire.AppendTag(b, etcdPutKeyField, protowire.BytesType)
	b = protowire.AppendBytes(b, key)
	if len(value) > 0 { // proto3: the default is not encoded
		b = protowire.AppendTag(b, etcdPutValueField, protowire.BytesType)
		b = protowire.AppendBytes(b, value)
	}
	return b
}

// appendEtcdRange appends an etcdserverpb.RangeRequest{key, serializable} to b.
func appendEtcdRange(b, key []byte, serializable bool) []byte {
	b = protowire.AppendTag(b, etcdRangeKeyField, protowire.BytesType)
	b = protowire.AppendBytes(b, key)
	if serializable {
		b = protowire.AppendTag(b, etcdRangeSerializableFlag, protowire.VarintType)
		b = protowire.AppendVarint(b, 1)
	}
	return b
}

// countField counts the top-level occurrences of field num in the encoded message b.
func countField(b []byte, num protowire.Number) (int, error) {
	n := 0
	for len(b) > 0 {
		f, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			return n, fmt.Errorf("kvbench: bad response: %w", protowire.ParseError(l))
		}
		b = b[l:]
		l = protowire.ConsumeFieldValue(f, typ, b)
		if l < 0 {
			return n, fmt.Errorf("kvbench: bad response: %w", protowire.ParseError(l))
		}
		b = b[l:]
		if f == num {
			n++
		}
	}
	return n, nil
}

// rawMessage is an already encoded protobuf message.
type rawMessage []byte

// rawCodec is a grpc codec that passes *rawMessage through unchanged. It is named
// "proto" so the content type on the wire is the usual application/grpc+proto.
type rawCodec struct{}

func (rawCodec) Name() string { return "proto" }

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	m, ok := v.(*rawMessage)
	if !ok {
		return nil, fmt.Errorf("kvbench: raw codec cannot marshal %T", v)
	}
	return mem.BufferSlice{mem.SliceBuffer(*m)}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	m, ok := v.(*rawMessage)
	if !ok {
		return fmt.Errorf("kvbench: raw codec cannot unmarshal into %T", v)
	}
	*m = data.Materialize()
	return nil
}
