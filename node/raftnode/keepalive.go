package raftnode

import (
	"context"
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// KeepAliveRelay serves the keep-alive streams of a Raft daemon (raftkv's
// LeaseKeepAlive, lockd's SessionKeepAlive): one response per request. The
// leader renews locally; a follower relays each request to the leader over
// one upstream stream, re-opened when leadership moves.
//
// The handler never blocks a graceful stop: requests are received on a
// goroutine, so when Stop is closed the stream ends at once with StopErr
// (a client is then told to go elsewhere) instead of waiting in Recv for the
// client's next keep-alive, and the upstream call, if any, is cancelled.
//
// A KeepAliveRelay is configured once per daemon and its Serve is safe for
// concurrent use by any number of streams.
type KeepAliveRelay[Req, Resp any] struct {
	// Name prefixes relay errors, e.g. "lockd".
	Name string
	// Node is the Raft host; a follower finds the leader through it.
	Node *Node
	// Stop is closed when the daemon begins to shut down.
	Stop <-chan struct{}
	// StopErr ends a stream when Stop is closed; a gRPC status error
	// (normally Unavailable, so that clients retry on another member).
	StopErr error
	// Renew handles one request on this node. It returns relay true when this
	// node does not lead (the request then goes to the leader), otherwise the
	// response to send, or an error, already a gRPC status, that ends the
	// stream. ctx ends when the stream ends or Stop is closed.
	Renew func(ctx context.Context, req *Req) (resp *Resp, relay bool, err error)
	// Open opens the same keep-alive stream on the leader through conn.
	Open func(ctx context.Context, conn *grpc.ClientConn) (grpc.BidiStreamingClient[Req, Resp], error)
	// Relayed completes a response relayed from the leader before it is sent
	// (e.g. with this member's response header). May be nil.
	Relayed func(resp *Resp)
	// ToStatus maps this node's own errors (ErrNoLeader, ErrNotLeader) to a
	// gRPC status; the daemon's error mapper.
	ToStatus func(error) error
}

// Serve runs one keep-alive stream until the client closes it (nil), an
// error ends it, or Stop is closed (StopErr). Call it from the gRPC handler.
//
// A status the leader answered with (NotFound for an unknown session or
// lease, InvalidArgument, …) ends the stream as is; a failure to reach the
// leader ends it with Unavailable, or with ToStatus of ErrNoLeader when no
// leader is known.
func (r *KeepAliveRelay[Req, Resp]) Serve(stream grpc.BidiStreamingServer[Req, Resp]) error {
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	// Cancel ctx (and with it the upstream stream and any barrier Renew waits
	// for) as soon as shutdown begins. The goroutine ends with the handler.
	go func() {
		select {
		case <-r.Stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	type recv struct {
		req *Req
		err error
	}
	reqs := make(chan recv, 1)
	// The receiver ends when Recv fails, which it does once the handler
	// returns and gRPC cancels the stream.
	go func() {
		for {
			req, err := stream.Recv()
			select {
			case reqs <- recv{req, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()

	var up grpc.BidiStreamingClient[Req, Resp]
	var cancelUp context.CancelFunc
	closeUp := func() {
		if cancelUp != nil {
			cancelUp()
		}
		up, cancelUp = nil, nil
	}
	defer closeUp()
	for {
		var rv recv
		select {
		case rv = <-reqs:
		case <-r.Stop:
			return r.StopErr
		case <-stream.Context().Done():
			return stream.Context().Err()
		}
		if rv.err == io.EOF {
			return nil
		}
		if rv.err != nil {
			return rv.err
		}
		resp, relay, err := r.Renew(ctx, rv.req)
		if err != nil {
			return r.stopped(err)
		}
		if relay {
			resp, err = func() (*Resp, error) {
				if up == nil {
					conn, err := r.Node.LeaderConn()
					if err != nil {
						return nil, err
					}
					var uctx context.Context
					uctx, cancelUp = context.WithCancel(ctx)
					if up, err = r.Open(uctx, conn); err != nil {
						return nil, err
					}
				}
				if err := up.Send(rv.req); err != nil {
					return nil, err
				}
				return up.Recv()
			}()
			if err != nil {
				closeUp()
				return r.stopped(r.relayError(err))
			}
			if r.Relayed != nil {
				r.Relayed(resp)
			}
		}
		if err := stream.Send(resp); err != nil {
			return err
		}
	}
}

// stopped returns StopErr instead of err when err came from shutdown.
func (r *KeepAliveRelay[Req, Resp]) stopped(err error) error {
	select {
	case <-r.Stop:
		return r.StopErr
	default:
		return err
	}
}

// relayError maps an error met while relaying to the leader.
func (r *KeepAliveRelay[Req, Resp]) relayError(err error) error {
	if errors.Is(err, ErrNoLeader) || errors.Is(err, ErrNotLeader) {
		return r.ToStatus(err)
	}
	if st, ok := status.FromError(err); ok {
		switch st.Code() {
		case codes.Unavailable, codes.Canceled, codes.DeadlineExceeded, codes.Unknown, codes.Internal:
		default:
			return err // the leader's answer
		}
	}
	// Nothing was renewed: the client may keep alive through another member.
	return r.ToStatus(fmt.Errorf("%w: %s: relaying keep-alive to the leader: %v", ErrNoLeader, r.Name, err))
}
