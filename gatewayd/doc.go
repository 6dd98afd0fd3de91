// Package gatewayd is cairn's API gateway: one entry point that
// authenticates callers (JWT per RFC 8725, API keys stored hashed in
// raftkv), authorizes them by scope, role and group, rate-limits them per
// consumer, route or client address (locally or across every gateway node
// through cached), transforms requests and responses, caches GET responses
// in cached for every node, routes to upstreams with weighted splits,
// breaks circuits to failing upstreams and ejects failing targets, and
// transcodes REST/JSON onto cairn's own gRPC services.
//
// A Server is one gateway node. Its HTTP listener runs the request pipeline
// (ServeHTTP); its gRPC port serves the admin API
// (cairn.gatewayd.v1.GatewayService). The routes, upstreams, consumers and
// plugins are one YAML document (package gwconfig), stored in raftkv under
// Config.ConfigKey and watched by every node, or read from a file. A node
// compiles each version into a runtime and swaps it in atomically: a
// request runs from start to end on the runtime it began on, so a change
// drops no request and no connection, and upstream pools whose spec did not
// change (connections, breaker state, ejections) carry over.
//
// The pieces live in their own packages: node/httpproxy (the reverse-proxy
// core), gwconfig, route, jwt, apikey, ratelimit, transform, respcache,
// upstream and transcode. This package wires them; docs/gatewayd.md
// describes the whole.
package gatewayd
