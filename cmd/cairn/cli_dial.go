package main

import (
	"crypto/tls"
	"fmt"

	cacheclient "cairn.dev/cairn/cached/client"
	lockclient "cairn.dev/cairn/lockd/client"
	queueclient "cairn.dev/cairn/queued/client"
	kvclient "cairn.dev/cairn/raftkv/client"
)

// This file is where the client commands make their connections: every kv,
// cache, lock, sem, election, queue and topic command dials through the functions below, and
// clientTLS is the one place that decides their transport security.

// clientTLS returns the TLS configuration of client connections; nil means
// plaintext. See clientTLSFlags.config for where it comes from.
func (g *clientFlags) clientTLS() (*tls.Config, error) {
	return g.tls.config(g.clusterDir)
}

// target returns the group's endpoints and the TLS configuration to reach
// them: what every dial below needs first.
func (g *clientFlags) target() ([]string, *tls.Config, error) {
	eps, err := g.resolveEndpoints()
	if err != nil {
		return nil, nil, err
	}
	tc, err := g.clientTLS()
	if err != nil {
		return nil, nil, err
	}
	return eps, tc, nil
}

// dialRaftKV returns a raftkv client for the group's endpoints; the caller
// closes it.
func (g *clientFlags) dialRaftKV() (*kvclient.Client, error) {
	eps, tc, err := g.target()
	if err != nil {
		return nil, err
	}
	c, err := kvclient.New(kvclient.Config{Endpoints: eps, RequestTimeout: g.timeout, TLS: tc})
	if err != nil {
		return nil, usageErrorf("--endpoints: %w", err)
	}
	return c, nil
}

// dialLockd returns a lockd client for the group's endpoints; the caller closes
// it.
func (g *clientFlags) dialLockd() (*lockclient.Client, error) {
	eps, tc, err := g.target()
	if err != nil {
		return nil, err
	}
	c, err := lockclient.New(lockclient.Config{Endpoints: eps, RequestTimeout: g.timeout, TLS: tc})
	if err != nil {
		return nil, usageErrorf("--endpoints: %w", err)
	}
	return c, nil
}

// dialCached returns a cached client for the group's endpoints, once it has
// fetched the ring (within --timeout); the caller closes it.
func (g *clientFlags) dialCached() (*cacheclient.Client, error) {
	eps, tc, err := g.target()
	if err != nil {
		return nil, err
	}
	c, err := cacheclient.New(cacheclient.Config{Endpoints: eps, DialTimeout: g.timeout, RequestTimeout: g.timeout, TLS: tc})
	if err != nil {
		return nil, fmt.Errorf("cached at %v: %w", eps, err)
	}
	return c, nil
}

// dialQueued returns a queued client for the group's endpoints; the caller
// closes it.
func (g *clientFlags) dialQueued() (*queueclient.Client, error) {
	eps, tc, err := g.target()
	if err != nil {
		return nil, err
	}
	c, err := queueclient.New(queueclient.Config{Endpoints: eps, RequestTimeout: g.timeout, TLS: tc})
	if err != nil {
		return nil, usageErrorf("--endpoints: %w", err)
	}
	return c, nil
}
