package httpapi

import (
	"context"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/node/nodetest"
)

// host runs the loops Attach registers, as a daemon's skeleton does.
type host struct {
	mu      sync.Mutex
	loops   []func(context.Context)
	release []func()
}

func (h *host) RunWhileServing(loop func(context.Context)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.loops = append(h.loops, loop)
}

func (h *host) OnRelease(f func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.release = append(h.release, f)
}

func TestAttachServesUntilTheHostStopsAndReleases(t *testing.T) {
	started, finish := make(chan struct{}), make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") })
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-finish
		_, _ = io.WriteString(w, "done")
	})
	h := &host{}
	s, err := Attach(h, "test", Config{Addr: "127.0.0.1:0", ShutdownTimeout: 5 * time.Second}, mux, nodetest.Logger(t))
	require.NoError(t, err)
	require.Equal(t, "http://"+s.Addr(), s.URL())
	require.Len(t, h.loops, 1)
	require.Len(t, h.release, 1)

	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() { h.loops[0](ctx); close(served) }()

	get := func(path string) (string, error) {
		resp, err := http.Get(s.URL() + path)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}
	body, err := get("/ok")
	require.NoError(t, err)
	require.Equal(t, "ok", body)

	// A request in flight when the host stops is let finish.
	slow := make(chan string, 1)
	go func() { b, _ := get("/slow"); slow <- b }()
	<-started
	cancel()
	close(finish)
	require.Equal(t, "done", <-slow)
	<-served

	h.release[0]()
	require.NoError(t, s.Close(), "Close is idempotent")
	_, err = get("/ok")
	require.Error(t, err, "released: nothing listens")
}

func TestListenRefusesABadAddress(t *testing.T) {
	_, err := Listen("test", Config{Addr: "127.0.0.1:notaport"}, http.NewServeMux(), nil)
	require.ErrorContains(t, err, "test: listen")
}
