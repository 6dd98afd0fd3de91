package kvbench

import (
	"bytes"
	"context"
	"net"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
)

func TestEtcdEncoders(t *testing.T) {
	long := bytes.Repeat([]byte("x"), 200)
	tests := []struct {
		name string
		got  []byte
		want []byte
	}{
		{"put", appendEtcdPut(nil, []byte("foo"), []byte("bar")),
			[]byte{0x0a, 3, 'f', 'o', 'o', 0x12, 3, 'b', 'a', 'r'}},
		{"put empty value", appendEtcdPut(nil, []byte("foo"), nil),
			[]byte{0x0a, 3, 'f', 'o', 'o'}},
		{"put long key", appendEtcdPut(nil, long, []byte("v")),
			append(append([]byte{0x0a, 0xc8, 0x01}, long...), 0x12, 1, 'v')},
		{"range linearizable", appendEtcdRange(nil, []byte("foo"), false),
			[]byte{0x0a, 3, 'f', 'o', 'o'}},
		// field 7, varint: tag (7<<3)|0 = 0x38.
		{"range serializable", appendEtcdRange(nil, []byte("foo"), true),
			[]byte{0x0a, 3, 'f', 'o', 'o', 0x38, 0x01}},
		{"appends", appendEtcdRange([]byte{0xff}, []byte("k"), false),
			[]byte{0xff, 0x0a, 1, 'k'}},
	}
	for _, tt := range tests {
		if !bytes.Equal(tt.got, tt.want) {
			t.Errorf("%s: got % x, want % x", tt.name, tt.got, tt.want)
		}
	}
}

// TestEtcdPutDecodesAsProto cross-checks the hand encoding with the protobuf
// runtime: raftkv's PutRequest has etcd's field numbers for key and value.
func TestEtcdPutDecodesAsProto(t *testing.T) {
	var req raftkvv1.PutRequest
	if err := proto.Unmarshal(appendEtcdPut(nil, []byte("key"), []byte("value")), &req); err != nil {
		t.Fatal(err)
	}
	if string(req.Key) != "key" || string(req.Value) != "value" {
		t.Fatalf("decoded %v", &req)
	}
}

func TestCountField(t *testing.T) {
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.BytesType) // header
	b = protowire.AppendBytes(b, []byte{0x18, 0x05})
	for range 2 { // kvs
		b = protowire.AppendTag(b, 2, protowire.BytesType)
		b = protowire.AppendBytes(b, []byte{0x0a, 1, 'k'})
	}
	b = protowire.AppendTag(b, 4, protowire.VarintType) // count
	b = protowire.AppendVarint(b, 2)
	if n, err := countField(b, 2); n != 2 || err != nil {
		t.Fatalf("countField = %d, %v; want 2, nil", n, err)
	}
	if n, err := countField(nil, 2); n != 0 || err != nil {
		t.Fatalf("countField(empty) = %d, %v", n, err)
	}
	if _, err := countField(b[:len(b)-1], 2); err == nil {
		t.Fatal("countField accepted a truncated message")
	}
}

func TestRawCodec(t *testing.T) {
	c := rawCodec{}
	if c.Name() != "proto" {
		t.Fatalf("Name = %q: the wire content type must stay application/grpc+proto", c.Name())
	}
	in := rawMessage("abc")
	bs, err := c.Marshal(&in)
	if err != nil {
		t.Fatal(err)
	}
	var out rawMessage
	if err := c.Unmarshal(bs, &out); err != nil || string(out) != "abc" {
		t.Fatalf("round trip = %q, %v", out, err)
	}
	if _, err := c.Marshal("abc"); err == nil {
		t.Fatal("Marshal accepted a string")
	}
	if err := c.Unmarshal(mem.BufferSlice{}, new(string)); err == nil {
		t.Fatal("Unmarshal accepted a *string")
	}
}

// fakeEtcd serves etcdserverpb.KV Put and Range (single key) from a map, decoding
// and encoding the wire format by hand, for the driver's end-to-end test.
type fakeEtcd struct {
	mu           sync.Mutex // protects the fields below
	kv           map[string][]byte
	serializable int
}

func (f *fakeEtcd) put(req []byte) ([]byte, error) {
	var key, val []byte
	err := walk(req, func(num protowire.Number, v []byte, _ uint64) {
		switch num {
		case 1:
			key = v
		case 2:
			val = v
		}
	})
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.kv[string(key)] = bytes.Clone(val)
	f.mu.Unlock()
	return protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), nil), nil
}

func (f *fakeEtcd) rng(req []byte) ([]byte, error) {
	var key []byte
	err := walk(req, func(num protowire.Number, v []byte, x uint64) {
		switch num {
		case 1:
			key = v
		case 7:
			if x == 1 {
				f.mu.Lock()
				f.serializable++
				f.mu.Unlock()
			}
		}
	})
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	val, ok := f.kv[string(key)]
	f.mu.Unlock()
	var resp []byte
	if ok {
		var kv []byte
		kv = protowire.AppendBytes(protowire.AppendTag(kv, 1, protowire.BytesType), key)
		kv = protowire.AppendBytes(protowire.AppendTag(kv, 5, protowire.BytesType), val)
		resp = protowire.AppendBytes(protowire.AppendTag(resp, 2, protowire.BytesType), kv)
	}
	return resp, nil
}

// walk calls fn for every top-level field of b, with its bytes or varint value.
func walk(b []byte, fn func(num protowire.Number, v []byte, x uint64)) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		switch typ {
		case protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return protowire.ParseError(n)
			}
			fn(num, v, 0)
			b = b[n:]
		case protowire.VarintType:
			x, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return protowire.ParseError(n)
			}
			fn(num, nil, x)
			b = b[n:]
		default:
			return status.Errorf(codes.InvalidArgument, "unexpected wire type %v", typ)
		}
	}
	return nil
}

func rawHandler(fn func([]byte) ([]byte, error)) grpc.MethodHandler {
	return func(_ any, _ context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
		var req rawMessage
		if err := dec(&req); err != nil {
			return nil, err
		}
		resp, err := fn(req)
		if err != nil {
			return nil, err
		}
		m := rawMessage(resp)
		return &m, nil
	}
}

// startFakeEtcd serves f on a loopback port and returns its address.
func startFakeEtcd(t *testing.T, f *fakeEtcd) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.ForceServerCodecV2(rawCodec{}))
	srv.RegisterService(&grpc.ServiceDesc{
		ServiceName: "etcdserverpb.KV",
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{
			{MethodName: "Put", Handler: rawHandler(f.put)},
			{MethodName: "Range", Handler: rawHandler(f.rng)},
		},
	}, struct{}{})
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

func TestEtcdDriver(t *testing.T) {
	f := &fakeEtcd{kv: map[string][]byte{}}
	addr := startFakeEtcd(t, f)
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	d := NewEtcdDriver(cc)
	ctx := t.Context()
	if found, err := d.Get(ctx, []byte("k"), Linearizable); err != nil || found {
		t.Fatalf("Get before Put = %v, %v", found, err)
	}
	if err := d.Put(ctx, []byte("k"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	if string(f.kv["k"]) != "v" {
		t.Fatalf("server has %q", f.kv["k"])
	}
	if found, err := d.Get(ctx, []byte("k"), Serializable); err != nil || !found {
		t.Fatalf("Get after Put = %v, %v", found, err)
	}
	if f.serializable != 1 {
		t.Fatalf("server saw %d serializable reads, want 1", f.serializable)
	}
	err = etcdDriver{cc: cc}.cc.Invoke(ctx, "/etcdserverpb.KV/Nope", new(rawMessage), new(rawMessage), rawCallOption)
	if status.Code(err) != codes.Unimplemented || !strings.Contains(err.Error(), "Nope") {
		t.Fatalf("unknown method: %v", err)
	}
}
