package node

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// SignalContext returns a context that is cancelled on the first SIGINT or
// SIGTERM, which is logged, or when parent is done. After that first signal
// a second SIGINT or SIGTERM logs and exits the process immediately with
// status 1, skipping any graceful shutdown still in progress: an operator's
// way out of a stuck drain.
//
// Call the returned stop function (typically deferred in main) to release
// the signal handlers and the watching goroutine; after stop, signals have
// their default behaviour again. It is the only function in the package that
// may terminate the process, so only binaries, never libraries, should use it.
func SignalContext(parent context.Context, logger *slog.Logger) (context.Context, context.CancelFunc) {
	return signalContext(parent, logger, os.Exit, os.Interrupt, syscall.SIGTERM)
}

// signalContext is SignalContext with the exit function and signals as
// parameters, for tests.
func signalContext(parent context.Context, logger *slog.Logger, exit func(int), sigs ...os.Signal) (context.Context, context.CancelFunc) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, sigs...)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		select {
		case sig := <-ch:
			logger.Info("signal received; shutting down (send again to exit immediately)", "signal", sig.String())
			cancel(&signalError{sig})
		case <-done:
			return
		}
		select {
		case sig := <-ch:
			logger.Error("second signal received; exiting immediately", "signal", sig.String())
			exit(1)
		case <-done:
		}
	})
	var once sync.Once
	stop := func() {
		once.Do(func() {
			signal.Stop(ch)
			close(done)
			wg.Wait()
			cancel(context.Canceled)
		})
	}
	return ctx, stop
}

// signalError is the cancellation cause of a SignalContext context.
type signalError struct{ sig os.Signal }

func (e *signalError) Error() string { return "node: received signal " + e.sig.String() }
