package searchchaos

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cairn.dev/cairn/node/rpcerr"
	searchdv1 "cairn.dev/cairn/proto/cairn/searchd/v1"

	"cairn.dev/cairn/cluster/chaos"
)

// conns holds one gRPC connection per searchd node, dialled lazily (a node
// that is down when first needed is dialled again later: grpc-go reconnects
// by itself once a connection exists).
type conns struct {
	env *chaos.Env
	mu  sync.Mutex
	c   map[string]*grpc.ClientConn
}

func newConns(env *chaos.Env) *conns { return &conns{env: env, c: map[string]*grpc.ClientConn{}} }

// get returns the connection to node.
func (cs *conns) get(node string) (*grpc.ClientConn, error) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if c, ok := cs.c[node]; ok {
		return c, nil
	}
	addr := cs.env.Via(node)
	if addr == "" {
		return nil, fmt.Errorf("searchchaos: no address for node %s", node)
	}
	// A node comes back within seconds of a kill: reconnect at least every
	// second (grpc-go's default backoff grows to two minutes, which would
	// leave a restarted node unused), and let calls wait for the connection
	// within their deadline instead of failing at once.
	bc := backoff.DefaultConfig
	bc.MaxDelay = time.Second
	c, err := grpc.NewClient(addr, grpc.WithTransportCredentials(cs.env.TransportCredentials()),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: bc, MinConnectTimeout: 2 * time.Second}),
		grpc.WithDefaultCallOptions(grpc.WaitForReady(true)))
	if err != nil {
		return nil, err
	}
	cs.c[node] = c
	return c, nil
}

// docs returns node's DocumentService client.
func (cs *conns) docs(node string) (searchdv1.DocumentServiceClient, error) {
	c, err := cs.get(node)
	if err != nil {
		return nil, err
	}
	return searchdv1.NewDocumentServiceClient(c), nil
}

// indexes returns node's IndexService client.
func (cs *conns) indexes(node string) (searchdv1.IndexServiceClient, error) {
	c, err := cs.get(node)
	if err != nil {
		return nil, err
	}
	return searchdv1.NewIndexServiceClient(c), nil
}

// search returns node's SearchService client.
func (cs *conns) search(node string) (searchdv1.SearchServiceClient, error) {
	c, err := cs.get(node)
	if err != nil {
		return nil, err
	}
	return searchdv1.NewSearchServiceClient(c), nil
}

// close closes every connection.
func (cs *conns) close() {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for _, c := range cs.c {
		c.Close()
	}
	cs.c = map[string]*grpc.ClientConn{}
}

// outcomeOf classifies the error of a write (PutDocument, DeleteDocument):
// Fail when the error contract says it was not applied (refused before it
// was produced, or a definite domain error), Unknown otherwise (a timeout, a
// lost connection, OUTCOME_UNKNOWN).
func outcomeOf(err error) chaos.Outcome {
	if err == nil {
		return chaos.OK
	}
	if rpcerr.TryOther(err) || rpcerr.ReasonOf(err) == rpcerr.NotSent {
		return chaos.Fail
	}
	var se interface{ GRPCStatus() *status.Status }
	if !errors.As(err, &se) {
		return chaos.Unknown
	}
	switch status.Code(err) {
	case codes.InvalidArgument, codes.FailedPrecondition, codes.NotFound, codes.AlreadyExists,
		codes.PermissionDenied, codes.Unauthenticated, codes.OutOfRange, codes.Unimplemented,
		codes.ResourceExhausted:
		return chaos.Fail
	}
	return chaos.Unknown
}
