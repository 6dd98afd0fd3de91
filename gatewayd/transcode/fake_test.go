package transcode

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	kvpb "cairn.dev/cairn/proto/cairn/raftkv/v1"
)

// fakeKV is a KVService whose Range answers by key:
//   - "code:<n>": fails with gRPC code n, an ErrorInfo and a BadRequest;
//   - "md": one KeyValue per incoming metadata key (value: its values
//     joined by ","), plus "deadline" (the time left, in ms) when the call
//     has a deadline;
//   - "server:<name>" (any other key): one KeyValue, key name, value = the
//     key asked.
type fakeKV struct {
	kvpb.UnimplementedKVServiceServer
	name string // this server's name, the key of the "server" reply
}

func (f *fakeKV) Range(ctx context.Context, req *kvpb.RangeRequest) (*kvpb.RangeResponse, error) {
	key := string(req.GetKey())
	switch {
	case strings.HasPrefix(key, "code:"):
		n, err := strconv.Atoi(strings.TrimPrefix(key, "code:"))
		if err != nil {
			return nil, status.Error(codes.Internal, "bad test key")
		}
		return nil, testStatus(codes.Code(n))
	case key == "md":
		md, _ := metadata.FromIncomingContext(ctx)
		var resp kvpb.RangeResponse
		keys := make([]string, 0, len(md))
		for k := range md {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			resp.Kvs = append(resp.Kvs, &kvpb.KeyValue{Key: []byte(k), Value: []byte(strings.Join(md[k], ","))})
		}
		if d, ok := ctx.Deadline(); ok {
			left := strconv.FormatInt(time.Until(d).Milliseconds(), 10)
			resp.Kvs = append(resp.Kvs, &kvpb.KeyValue{Key: []byte("deadline"), Value: []byte(left)})
		}
		return &resp, nil
	default:
		return &kvpb.RangeResponse{Kvs: []*kvpb.KeyValue{{Key: []byte(f.name), Value: req.GetKey()}}}, nil
	}
}

// testStatus is a status of code c with an ErrorInfo (reason TEST_<c>) and
// a BadRequest detail.
func testStatus(c codes.Code) error {
	st := status.New(c, fmt.Sprintf("failed with %v", c))
	st, err := st.WithDetails(
		&errdetails.ErrorInfo{Reason: "TEST_" + statusName(c), Domain: "test.cairn.dev", Metadata: map[string]string{"code": strconv.Itoa(int(c))}},
		&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "key", Description: "test"}}},
	)
	if err != nil {
		panic(err) // the details are valid messages
	}
	return st.Err()
}

// fakeWatch is a WatchService whose Watch sends start_revision responses
// (header.revision 1, 2, ...) and then, by key:
//   - "" : ends the stream;
//   - "fail": fails with ABORTED (testStatus);
//   - "block": waits for the call to end and reports it on canceled;
//   - "quiet": sends its headers, then waits for the call to end.
type fakeWatch struct {
	kvpb.UnimplementedWatchServiceServer
	canceled chan struct{} // closed when a "block" call's context ends
}

func (f *fakeWatch) Watch(req *kvpb.WatchRequest, stream grpc.ServerStreamingServer[kvpb.WatchResponse]) error {
	for i := range req.GetStartRevision() {
		if err := stream.Send(&kvpb.WatchResponse{Header: &kvpb.ResponseHeader{Revision: i + 1}}); err != nil {
			return err
		}
	}
	switch string(req.GetKey()) {
	case "fail":
		return testStatus(codes.Aborted)
	case "quiet":
		if err := stream.SendHeader(metadata.MD{}); err != nil {
			return err
		}
		<-stream.Context().Done()
		return stream.Context().Err()
	case "block":
		<-stream.Context().Done()
		close(f.canceled)
		return stream.Context().Err()
	}
	return nil
}
