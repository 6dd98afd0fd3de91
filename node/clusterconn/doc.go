// Package clusterconn dials a cairn service's members as one gRPC connection, and
// holds the plumbing the service clients (raftkv/client, lockd/client) share on
// top of it: configuration defaults and validation, the unary retry loop, the
// backoff between retries, and ownership of the goroutines that use the
// connection.
//
// Dial registers a manual resolver on the new connection only (never globally)
// that hands every configured endpoint to the round_robin balancer: the balancer
// keeps a subconnection per member and sends each call to the next ready one, so
// dead members are skipped. DialEndpoint dials one named member instead, for calls
// that must reach that member and no other.
//
// A client built on this package typically does
//
//	conn, err := clusterconn.Dial(clusterconn.Config(cfg), "raftkv")
//	if errors.Is(err, clusterconn.ErrNoEndpoints) { return nil, ErrNoEndpoints }
//	kv := raftkvv1.NewKVServiceClient(conn.ClientConn())
//	...
//	ctx, cancel := conn.WithTimeout(ctx)
//	defer cancel()
//	resp, err := clusterconn.Call(ctx, isRead, func(ctx context.Context, co ...grpc.CallOption) (*raftkvv1.RangeResponse, error) {
//		return kv.Range(ctx, req, co...)
//	})
//
// and starts its background goroutines (keep-alives, watches) with Conn.Go, so
// that Conn.Close stops and waits for them before closing the connection. Error
// types and sentinels stay with each client: this package returns gRPC errors
// unchanged.
package clusterconn
