package chaos

import (
	"crypto/tls"
	"net/http"
	"time"
)

// HTTPClient is a workload's client of the cluster's HTTP APIs (a gateway,
// an edge, the load balancer): the cluster CA and client certificate when
// tc is set, a small keep-alive pool per node, every request bounded by
// timeout. It never asks for compression itself, so a workload sees bodies
// as they were sent (one that wants gzip asks and decodes).
func HTTPClient(tc *tls.Config, timeout time.Duration) *http.Client {
	tr := &http.Transport{MaxIdleConnsPerHost: 8, IdleConnTimeout: 30 * time.Second, ResponseHeaderTimeout: timeout, DisableCompression: true}
	if tc != nil {
		tr.TLSClientConfig = tc.Clone()
	}
	return &http.Client{Transport: tr, Timeout: timeout}
}

// HTTPScheme is "https://" on a TLS cluster (tc set), "http://" on an
// insecure one.
func HTTPScheme(tc *tls.Config) string {
	if tc == nil {
		return "http://"
	}
	return "https://"
}
