package node

import (
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// newAdminServer returns the admin HTTP server of s. It serves
//
//	/metrics        Prometheus exposition of s.Registry()
//	/healthz        200 "ok" while the process runs (liveness)
//	/readyz         200 "ready" after SetReady(true), 503 otherwise
//	/debug/pprof/*  the net/http/pprof handlers
//
// on its own mux; http.DefaultServeMux is never served.
func (s *Server) newAdminServer() *http.Server {
	mux := http.NewServeMux()
	s.adminMux = mux
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{
		ErrorLog:      slogPromLogger{s},
		ErrorHandling: promhttp.ContinueOnError,
	}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !s.ready.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("not ready\n"))
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	mux.HandleFunc("/debug/pprof/", pprof.Index) // also serves named profiles: heap, goroutine, …
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
}

// slogPromLogger adapts the server logger to promhttp's error log.
type slogPromLogger struct{ s *Server }

func (l slogPromLogger) Println(v ...any) {
	l.s.logger.Warn("metrics exposition error", "error", v)
}

// HandleAdmin adds a handler to the admin HTTP server (a no-op when it is
// disabled). Call it before Serve.
func (s *Server) HandleAdmin(pattern string, h http.Handler) {
	if s.adminMux != nil {
		s.adminMux.Handle(pattern, h)
	}
}
