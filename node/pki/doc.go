// Package pki makes the certificates of a local cairn cluster: one CA, a
// certificate per node and a client certificate, as PEM files in one
// directory. The harness (`cairn cluster up`) calls Ensure with the names of
// its nodes; the daemons then run mutual TLS with their node certificate, and
// the CLI and Go clients present the client certificate.
//
// # Roles
//
// Every certificate it issues names its holder in a URI subject alternative
// name, spiffe://cairn/<role>/<name>:
//
//	spiffe://cairn/node/raftkv-1    a node (server and client auth)
//	spiffe://cairn/client/cli       a client (client auth only)
//
// A server tells a node from a client by that URI (see Identity and IsNode):
// node-only services (the Raft transport, peer services) accept only callers
// whose verified certificate carries a node URI. The role is bound by the
// CA's signature, so it means something only for certificates verified
// against the cluster's CA.
//
// # Files
//
// In the directory Ensure manages (<cluster dir>/tls for the harness):
//
//	ca.pem, ca-key.pem                 the CA (ECDSA P-256), never overwritten
//	<node>.pem, <node>-key.pem         each node's certificate and key
//	client.pem, client-key.pem         the client certificate and key
//
// Private keys are written with mode 0600. Ensure reuses what exists and
// only issues what is missing, expired or not signed by the CA.
package pki
