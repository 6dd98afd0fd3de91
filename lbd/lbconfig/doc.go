// Package lbconfig is lbd's configuration document: the frontends a load
// balancer node listens on and the pools of backends they send traffic to,
// read from YAML strictly (unknown or duplicate keys, values of the wrong
// kind, more than one document are errors) and validated with every problem
// named by its path and line ("pools[1].health.rise: must be 1..100").
//
// A document:
//
//	frontends:
//	  - name: web
//	    mode: http                # tcp, udp or http
//	    listen: 127.0.0.100:8080  # on the node's virtual address: held by the active node only
//	    tls: cluster              # http: "cluster" (the node's certificate), "none", or cert_file/key_file
//	    routes:
//	      - {host: api.example.com, path_prefix: /api, pool: api}
//	    default_pool: web
//	pools:
//	  - name: web
//	    algorithm: least_time     # see lbd/balance
//	    service: web              # members from the raftkv registry, besides backends
//	    backends:
//	      - {name: web-1, address: 127.0.0.1:9001, weight: 2}
//	    health: {type: http, path: /healthz, interval: 2s, timeout: 1s, rise: 2, fall: 3}
//	    slow_start: 10s
//	    panic_threshold: 50       # under 50% passing checks, ignore them
//	    drain_timeout: 30s
//
// Parse applies the defaults (Defaults lists them) before validating, so a
// valid Document is complete: callers never check for zero values.
package lbconfig
