//go:build unix

package node

import (
	"context"
	"errors"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/node/nodetest"
)

func TestSignalContext(t *testing.T) {
	var exitCode atomic.Int32
	exitCode.Store(-1)
	exited := make(chan struct{})
	exit := func(code int) {
		exitCode.Store(int32(code))
		close(exited)
	}
	ctx, stop := signalContext(context.Background(), nodetest.Logger(t), exit, syscall.SIGUSR1)
	defer stop()

	require.NoError(t, ctx.Err())
	require.NoError(t, syscall.Kill(syscall.Getpid(), syscall.SIGUSR1))
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("context not cancelled by the first signal")
	}
	var se *signalError
	require.True(t, errors.As(context.Cause(ctx), &se), "cause = %v", context.Cause(ctx))
	require.Equal(t, int32(-1), exitCode.Load(), "first signal must not exit")

	require.NoError(t, syscall.Kill(syscall.Getpid(), syscall.SIGUSR1))
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Fatal("second signal did not exit")
	}
	require.Equal(t, int32(1), exitCode.Load())
}

func TestSignalContextStopAndParent(t *testing.T) {
	exit := func(int) { t.Error("exit called") }
	ctx, stop := signalContext(context.Background(), nil, exit, syscall.SIGUSR2)
	stop()
	stop() // idempotent
	require.ErrorIs(t, ctx.Err(), context.Canceled)

	parent, cancel := context.WithCancel(context.Background())
	ctx, stop = SignalContext(parent, nil)
	defer stop()
	cancel()
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("parent cancellation not propagated")
	}
}
