package blobchaos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"

	"cairn.dev/cairn/node/rpcerr"
	blobdv1 "cairn.dev/cairn/proto/cairn/blobd/v1"

	"cairn.dev/cairn/cluster/chaos"
)

// putPiece is the data of one PutObject stream message (the API's limit is
// 1 MiB).
const putPiece = 256 << 10

// grpcStore is an objectStore over blobd's gRPC API (cairn.blobd.v1), one
// connection per node (through its client proxy when the scenario has
// them). Calls go to one node, moving to the next after a failure that
// says the node cannot serve (unreachable, shutting down, no leader): the
// workload sees every failure as it is, with no retry hiding an outcome.
type grpcStore struct {
	conns []*grpc.ClientConn

	mu   sync.Mutex // protects next
	next int        // the node the next call goes to
}

// newStore dials every node of the service.
func newStore(env *chaos.Env, timeout time.Duration) (objectStore, error) {
	s := &grpcStore{}
	for _, n := range env.Nodes() {
		cc, err := grpc.NewClient(env.Via(n),
			grpc.WithTransportCredentials(env.TransportCredentials()),
			// A restarted node must be reachable again at once, not
			// after gRPC's default reconnect backoff of up to 2 minutes.
			grpc.WithConnectParams(grpc.ConnectParams{Backoff: backoff.Config{
				BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: time.Second}}))
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("dial %s: %w", n, err)
		}
		s.conns = append(s.conns, cc)
	}
	if len(s.conns) == 0 {
		return nil, errors.New("no blobd node")
	}
	s.next = int(env.Seed % uint64(len(s.conns)))
	return s, nil
}

// conn returns the connection the next call uses and a function the call
// reports its error to.
func (s *grpcStore) conn() (*grpc.ClientConn, func(error)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.next
	return s.conns[i], func(err error) {
		if err == nil || !moveOn(err) {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.next == i {
			s.next = (i + 1) % len(s.conns)
		}
	}
}

// moveOn reports whether a call that failed with err should make the
// store try another node next: the node is unreachable, stopping, cut
// off from the leader, or did not answer in time.
func moveOn(err error) bool {
	r := rpcerr.ReasonOf(err)
	if r.TryOther() || r == rpcerr.OutcomeUnknown || r == rpcerr.NotSent {
		return true
	}
	return r == "" // a transport error or a deadline: no reason from a server
}

func (s *grpcStore) CreateBucket(ctx context.Context, bucket string) error {
	cc, done := s.conn()
	_, err := blobdv1.NewBucketServiceClient(cc).CreateBucket(ctx, &blobdv1.CreateBucketRequest{Name: bucket})
	done(err)
	if rpcerr.ReasonOf(err) == rpcerr.BucketExists {
		return nil
	}
	return err
}

func (s *grpcStore) Put(ctx context.Context, bucket, key string, body io.Reader, size int64) error {
	cc, done := s.conn()
	err := put(ctx, cc, bucket, key, body, size)
	done(err)
	return err
}

func put(ctx context.Context, cc *grpc.ClientConn, bucket, key string, body io.Reader, size int64) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st, err := blobdv1.NewObjectServiceClient(cc).PutObject(ctx)
	if err != nil {
		return err
	}
	if err := st.Send(&blobdv1.PutObjectRequest{Msg: &blobdv1.PutObjectRequest_Header{Header: &blobdv1.PutObjectHeader{
		Bucket: bucket, Key: key, Size: size}}}); err != nil {
		_, err = st.CloseAndRecv() // the server's error, if it ended the stream
		return err
	}
	buf := make([]byte, putPiece)
	for {
		n, rerr := io.ReadFull(body, buf)
		if n > 0 {
			if err := st.Send(&blobdv1.PutObjectRequest{Msg: &blobdv1.PutObjectRequest_Data{Data: buf[:n]}}); err != nil {
				_, err = st.CloseAndRecv()
				return err
			}
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return rerr
		}
	}
	_, err = st.CloseAndRecv()
	return err
}

func (s *grpcStore) Get(ctx context.Context, bucket, key string, w io.Writer) error {
	cc, done := s.conn()
	err := getObject(ctx, cc, bucket, key, w)
	done(err)
	return err
}

func getObject(ctx context.Context, cc *grpc.ClientConn, bucket, key string, w io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st, err := blobdv1.NewObjectServiceClient(cc).GetObject(ctx, &blobdv1.GetObjectRequest{Bucket: bucket, Key: key})
	if err != nil {
		return err
	}
	// What the stream carries is recorded as it is: a stream that ends
	// cleanly short of the object shows up as a partial object.
	first := true
	for {
		m, err := st.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		first = false
		if _, err := w.Write(m.GetData()); err != nil {
			return err
		}
	}
	if first {
		return errors.New("GetObject stream ended without a response")
	}
	return nil
}

func (s *grpcStore) Delete(ctx context.Context, bucket, key string) error {
	cc, done := s.conn()
	_, err := blobdv1.NewObjectServiceClient(cc).DeleteObject(ctx, &blobdv1.DeleteObjectRequest{Bucket: bucket, Key: key})
	done(err)
	return err
}

func (s *grpcStore) List(ctx context.Context, bucket, prefix string) ([]string, error) {
	cc, done := s.conn()
	var keys []string
	token := ""
	for {
		resp, err := blobdv1.NewObjectServiceClient(cc).ListObjects(ctx, &blobdv1.ListObjectsRequest{
			Bucket: bucket, Prefix: prefix, ContinuationToken: token})
		done(err)
		if err != nil {
			return nil, err
		}
		for _, o := range resp.GetObjects() {
			keys = append(keys, o.GetKey())
		}
		if !resp.GetIsTruncated() {
			return keys, nil
		}
		token = resp.GetNextContinuationToken()
	}
}

func (s *grpcStore) Repair(ctx context.Context) (RepairStatus, error) {
	cc, done := s.conn()
	resp, err := blobdv1.NewAdminServiceClient(cc).RepairStatus(ctx, &blobdv1.RepairStatusRequest{})
	done(err)
	if err != nil {
		return RepairStatus{}, err
	}
	st := RepairStatus{Healthy: resp.GetHealthy(), Volumes: int(resp.GetVolumes()), Degraded: int(resp.GetDegraded()),
		Repairing: int(resp.GetRepairing()), BytesToCopy: resp.GetBytesToCopy(), CorruptFound: resp.GetCorruptFound()}
	for _, sv := range resp.GetServers() {
		if sv.GetState() == blobdv1.ServerState_SERVER_STATE_DOWN {
			st.Down++
		}
	}
	return st, nil
}

func (s *grpcStore) Close() error {
	var errs []error
	for _, cc := range s.conns {
		errs = append(errs, cc.Close())
	}
	return errors.Join(errs...)
}
