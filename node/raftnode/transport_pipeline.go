package raftnode

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/raft"

	raftv1 "cairn.dev/cairn/proto/cairn/raft/v1"
)

// grpcPipeline is a raft.AppendPipeline over one AppendEntriesPipeline stream.
//
// AppendEntries takes one of MaxPipelineInflight tokens (the back-pressure), queues the
// future on sendCh and returns. The sender goroutine moves each future to the inflight
// queue and writes it to the stream; the receiver goroutine reads responses, which the
// server sends in request order, pops the oldest inflight future, completes it, returns
// its token and delivers it on Consumer(). When the stream fails, the pipeline times
// out or is closed, every pending future fails with the cause, and the failed futures
// are delivered on Consumer() too (as far as its buffer allows) so that raft notices.
type grpcPipeline struct {
	t       *Transport
	target  raft.ServerAddress
	stream  raftv1.RaftTransportService_AppendEntriesPipelineClient
	cancel  context.CancelFunc // cancels the stream
	timeout time.Duration

	tokens     chan struct{}      // one per inflight request
	sendCh     chan *appendFuture // accepted, not yet written
	doneCh     chan raft.AppendFuture
	shutdownCh chan struct{}
	wg         sync.WaitGroup // sender and receiver
	closeOnce  sync.Once
	startOnce  sync.Once

	mu       sync.Mutex // protects the fields below
	err      error      // why the pipeline stopped; set once, before shutdownCh closes
	closed   bool       // no future may be queued any more
	inflight []*appendFuture
}

func newGRPCPipeline(t *Transport, target raft.ServerAddress, stream raftv1.RaftTransportService_AppendEntriesPipelineClient, cancel context.CancelFunc) *grpcPipeline {
	n := t.cfg.MaxPipelineInflight
	return &grpcPipeline{
		t:          t,
		target:     target,
		stream:     stream,
		cancel:     cancel,
		timeout:    t.cfg.Timeout,
		tokens:     make(chan struct{}, n),
		sendCh:     make(chan *appendFuture, n),
		doneCh:     make(chan raft.AppendFuture, n),
		shutdownCh: make(chan struct{}),
	}
}

// start launches the sender and receiver. It does nothing once the pipeline is closed.
func (p *grpcPipeline) start() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.startOnce.Do(func() {
		p.wg.Add(2)
		go p.sendLoop()
		go p.recvLoop()
	})
}

// AppendEntries implements raft.AppendPipeline. It blocks while MaxPipelineInflight
// requests await their responses. args and resp must not be touched until the future
// is done.
func (p *grpcPipeline) AppendEntries(args *raft.AppendEntriesRequest, resp *raft.AppendEntriesResponse) (raft.AppendFuture, error) {
	select {
	case p.tokens <- struct{}{}:
	case <-p.shutdownCh:
		return nil, p.stopErr()
	}
	f := &appendFuture{start: time.Now(), args: args, resp: resp, done: make(chan struct{})}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		<-p.tokens
		return nil, p.stopErr()
	}
	// Never blocks: sendCh holds as many futures as there are tokens.
	p.sendCh <- f
	p.mu.Unlock()
	return f, nil
}

// Consumer implements raft.AppendPipeline.
func (p *grpcPipeline) Consumer() <-chan raft.AppendFuture { return p.doneCh }

// Close implements raft.AppendPipeline: it cancels the stream, fails the futures still
// in flight with raft.ErrPipelineShutdown and waits for the pipeline's goroutines.
func (p *grpcPipeline) Close() error {
	p.close(raft.ErrPipelineShutdown)
	return nil
}

func (p *grpcPipeline) close(cause error) {
	p.stop(cause)
	p.wg.Wait()
	p.failPending()
	p.t.forgetPipeline(p)
}

// stop records cause (the first one wins) and cancels the stream. It does not wait.
func (p *grpcPipeline) stop(cause error) {
	p.closeOnce.Do(func() {
		p.mu.Lock()
		p.err = cause
		p.mu.Unlock()
		close(p.shutdownCh)
		p.cancel()
	})
}

func (p *grpcPipeline) stopErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err == nil {
		return raft.ErrPipelineShutdown
	}
	return p.err
}

// failPending, called once the pipeline stopped, refuses new futures and fails every
// queued or inflight one. Safe to call more than once.
func (p *grpcPipeline) failPending() {
	p.mu.Lock()
	p.closed = true
	pending := p.inflight
	p.inflight = nil
	err := p.err
	p.mu.Unlock()
	if err == nil {
		err = raft.ErrPipelineShutdown
	}
	for {
		select {
		case f := <-p.sendCh:
			pending = append(pending, f)
			continue
		default:
		}
		break
	}
	for _, f := range pending {
		p.finish(f, err, false)
	}
}

// finish completes f, returns its token and delivers it on Consumer(). When block is
// false and Consumer's buffer is full the future is completed but not delivered; raft
// only needs one failed future to tear the pipeline down.
func (p *grpcPipeline) finish(f *appendFuture, err error, block bool) {
	f.err = err
	close(f.done)
	<-p.tokens
	if block {
		select {
		case p.doneCh <- f:
		case <-p.shutdownCh:
		}
		return
	}
	select {
	case p.doneCh <- f:
	default:
	}
}

// sendLoop writes queued futures to the stream and fails the pipeline when its oldest
// request has waited longer than the timeout.
func (p *grpcPipeline) sendLoop() {
	defer p.wg.Done()
	defer p.failPending()
	tick := time.NewTicker(p.timeout / 4)
	defer tick.Stop()
	for {
		select {
		case <-p.shutdownCh:
			return
		case now := <-tick.C:
			p.mu.Lock()
			stale := len(p.inflight) > 0 && now.Sub(p.inflight[0].start) > p.timeout
			p.mu.Unlock()
			if stale {
				p.stop(fmt.Errorf("raftnode: append entries pipeline to %s: no response within %s", p.target, p.timeout))
				return
			}
		case f := <-p.sendCh:
			p.mu.Lock()
			if p.closed {
				p.mu.Unlock()
				p.finish(f, p.stopErr(), false)
				continue
			}
			p.inflight = append(p.inflight, f)
			p.mu.Unlock()
			msg := &raftv1.AppendEntriesPipelineRequest{Request: appendEntriesRequestToProto(f.args)}
			if err := p.stream.Send(msg); err != nil {
				p.stop(p.streamError(err))
				return
			}
		}
	}
}

// recvLoop matches responses to inflight futures in order.
func (p *grpcPipeline) recvLoop() {
	defer p.wg.Done()
	defer p.failPending()
	for {
		m, err := p.stream.Recv()
		if err != nil {
			p.stop(p.streamError(err))
			return
		}
		p.mu.Lock()
		if len(p.inflight) == 0 {
			p.mu.Unlock()
			p.stop(fmt.Errorf("raftnode: append entries pipeline to %s: response without a request", p.target))
			return
		}
		f := p.inflight[0]
		p.inflight[0] = nil
		p.inflight = p.inflight[1:]
		p.mu.Unlock()

		var ferr error
		if msg := m.GetError(); msg != "" {
			ferr = fmt.Errorf("raftnode: append entries to %s: %s", p.target, msg)
		} else {
			p.t.noteContact(p.target)
			appendEntriesResponseFromProto(m.GetResponse(), f.resp)
		}
		p.finish(f, ferr, true)
	}
}

// streamError describes a stream failure; after the pipeline stopped it returns the
// recorded cause instead of the cancellation it provoked.
func (p *grpcPipeline) streamError(err error) error {
	select {
	case <-p.shutdownCh:
		return p.stopErr()
	default:
	}
	if errors.Is(err, context.Canceled) {
		return raft.ErrPipelineShutdown
	}
	return fmt.Errorf("raftnode: append entries pipeline to %s: %w", p.target, err)
}

// appendFuture is a raft.AppendFuture completed by grpcPipeline.
type appendFuture struct {
	start time.Time
	args  *raft.AppendEntriesRequest
	resp  *raft.AppendEntriesResponse
	err   error         // written once, before done is closed
	done  chan struct{} // closed when the future is complete
}

// Error implements raft.Future: it blocks until the response arrived or the pipeline
// failed.
func (f *appendFuture) Error() error {
	<-f.done
	return f.err
}

// Start implements raft.AppendFuture.
func (f *appendFuture) Start() time.Time { return f.start }

// Request implements raft.AppendFuture.
func (f *appendFuture) Request() *raft.AppendEntriesRequest { return f.args }

// Response implements raft.AppendFuture.
func (f *appendFuture) Response() *raft.AppendEntriesResponse { return f.resp }
