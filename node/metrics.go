package node

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// grpcMetrics are the per-method RPC metrics recorded by the interceptors.
type grpcMetrics struct {
	requests *prometheus.CounterVec   // cairn_grpc_requests_total{method,code}
	duration *prometheus.HistogramVec // cairn_grpc_request_duration_seconds{method}
	inflight *prometheus.GaugeVec     // cairn_grpc_inflight_requests{method}
}

// rpcDurationBuckets span sub-millisecond local reads to multi-second
// replicated writes and long polls.
var rpcDurationBuckets = []float64{
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
}

// newRegistry returns a registry holding the Go runtime and process
// collectors.
func newRegistry() (*prometheus.Registry, error) {
	reg := prometheus.NewRegistry()
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("node: register collector: %w", err)
		}
	}
	return reg, nil
}

// newGRPCMetrics creates the RPC metrics and registers them on reg.
func newGRPCMetrics(reg prometheus.Registerer) (*grpcMetrics, error) {
	m := &grpcMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cairn_grpc_requests_total",
			Help: "gRPC requests completed, by full method name and status code.",
		}, []string{"method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cairn_grpc_request_duration_seconds",
			Help:    "gRPC request duration in seconds, by full method name. Streams are measured from open to close.",
			Buckets: rpcDurationBuckets,
		}, []string{"method"}),
		inflight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "cairn_grpc_inflight_requests",
			Help: "gRPC requests and streams currently being handled, by full method name.",
		}, []string{"method"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.inflight} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("node: register grpc metrics: %w", err)
		}
	}
	return m, nil
}
