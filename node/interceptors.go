package node

import (
	"context"
	"log/slog"
	"runtime/debug"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The server chains, outermost first: observe (metrics and logging), then
// recover. A panic is therefore converted to codes.Internal before it is
// counted and logged like any other failed call.

// errPanic is the status returned to a client whose request panicked. The
// panic value itself is logged, not sent.
var errPanic = status.Error(codes.Internal, "node: internal error")

func (s *Server) unaryObserve(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	done := s.observe(info.FullMethod)
	resp, err := handler(ctx, req)
	err = contextErrorToStatus(err)
	done(ctx, "unary", err)
	return resp, err
}

func (s *Server) streamObserve(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	done := s.observe(info.FullMethod)
	err := handler(srv, ss)
	err = contextErrorToStatus(err)
	done(ss.Context(), "stream", err)
	return err
}

// observe marks the start of a call to method and returns the function that
// records its end.
func (s *Server) observe(method string) func(ctx context.Context, kind string, err error) {
	start := time.Now()
	inflight := s.metrics.inflight.WithLabelValues(method)
	inflight.Inc()
	return func(ctx context.Context, kind string, err error) {
		elapsed := time.Since(start)
		inflight.Dec()
		code := status.Code(err)
		s.metrics.requests.WithLabelValues(method, code.String()).Inc()
		s.metrics.duration.WithLabelValues(method).Observe(elapsed.Seconds())
		level := slog.LevelDebug
		if code != codes.OK {
			level = slog.LevelWarn
		}
		if !s.logger.Enabled(ctx, level) {
			return
		}
		attrs := []slog.Attr{
			slog.String("method", method),
			slog.String("kind", kind),
			slog.String("code", code.String()),
			slog.Duration("duration", elapsed),
		}
		if err != nil {
			attrs = append(attrs, slog.String("error", status.Convert(err).Message()))
		}
		s.logger.LogAttrs(ctx, level, "grpc request", attrs...)
	}
}

// contextErrorToStatus turns a bare (possibly wrapped) context error returned
// by a handler into the matching status, Canceled or DeadlineExceeded, rather
// than letting gRPC report it as Unknown. Other errors pass through.
func contextErrorToStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	if st := status.FromContextError(err); st.Code() != codes.Unknown {
		return st.Err()
	}
	return err
}

func (s *Server) unaryRecover(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	defer func() {
		if r := recover(); r != nil {
			s.logPanic(ctx, info.FullMethod, r)
			resp, err = nil, errPanic
		}
	}()
	return handler(ctx, req)
}

func (s *Server) streamRecover(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.logPanic(ss.Context(), info.FullMethod, r)
			err = errPanic
		}
	}()
	return handler(srv, ss)
}

func (s *Server) logPanic(ctx context.Context, method string, r any) {
	s.logger.LogAttrs(ctx, slog.LevelError, "grpc handler panicked",
		slog.String("method", method),
		slog.Any("panic", r),
		slog.String("stack", string(debug.Stack())),
	)
}
