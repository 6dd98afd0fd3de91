package node

import (
	"sync"
	"sync/atomic"
)

// Lifecycle is the start-and-stop skeleton of a daemon that is not a Raft
// daemon (those get theirs from raftnode): Serve runs at most once, Close
// makes a running Serve stop and waits for it to return, and a Close
// without Serve releases what the constructor opened. Its zero value is
// ready to use; it must not be copied after first use. Its methods are safe
// for concurrent use.
//
// A daemon embeds one and writes:
//
//	func (s *Server) Serve(ctx context.Context) error {
//		return s.life.Serve(func() error { return s.serve(ctx) }, s.release)
//	}
//	func (s *Server) serve(ctx context.Context) error {
//		... start serving ...
//		s.life.SetReady()
//		select { case <-ctx.Done(): case <-s.life.Stopping(): }
//		... stop, then s.release() ...
//	}
//	func (s *Server) Close() { s.life.Close(s.shutdown, s.release) }
type Lifecycle struct {
	initOnce  sync.Once
	ready     chan struct{} // closed by SetReady
	stop      chan struct{} // closed by Stop
	done      chan struct{} // closed when Serve returned (or Close released)
	readyOnce sync.Once
	stopOnce  sync.Once
	started   atomic.Bool // Serve (or a Close without Serve) claimed the run
}

func (l *Lifecycle) init() {
	l.initOnce.Do(func() {
		l.ready = make(chan struct{})
		l.stop = make(chan struct{})
		l.done = make(chan struct{})
	})
}

// Serve runs serve, the daemon's serving loop, the first time it is called
// and returns its error; later calls return ErrServerClosed once the daemon
// stops, ErrAlreadyServing before. When Stop came first, serve does not
// run: release does, and Serve returns nil.
func (l *Lifecycle) Serve(serve func() error, release func()) error {
	l.init()
	if !l.started.CompareAndSwap(false, true) {
		select {
		case <-l.stop:
			return ErrServerClosed
		default:
			return ErrAlreadyServing
		}
	}
	defer close(l.done)
	select {
	case <-l.stop:
		release()
		return nil
	default:
	}
	return serve()
}

// SetReady marks the daemon ready (Ready's channel closes). Idempotent.
func (l *Lifecycle) SetReady() {
	l.init()
	l.readyOnce.Do(func() { close(l.ready) })
}

// Ready is closed once the daemon serves.
func (l *Lifecycle) Ready() <-chan struct{} {
	l.init()
	return l.ready
}

// Stop asks a running Serve to stop: Stopping's channel closes.
// Idempotent.
func (l *Lifecycle) Stop() {
	l.init()
	l.stopOnce.Do(func() { close(l.stop) })
}

// Stopping is closed once Stop or Close was called; the serving loop
// selects on it beside its context.
func (l *Lifecycle) Stopping() <-chan struct{} {
	l.init()
	return l.stop
}

// Close stops the daemon: it calls Stop and then shutdown (the daemon's own
// first steps of a stop, e.g. cancelling its context), and waits for a
// running Serve to return; when Serve never ran it calls release instead,
// and a later Serve returns ErrServerClosed. Idempotent.
func (l *Lifecycle) Close(shutdown, release func()) {
	l.init()
	l.Stop()
	if shutdown != nil {
		shutdown()
	}
	if l.started.CompareAndSwap(false, true) {
		release()
		close(l.done)
		return
	}
	<-l.done
}
