// Package e2e holds raftkv's end-to-end tests: real `cairn` binaries started by the
// cluster harness, driven by the Go client while nodes are killed, with histories
// checked for linearizability (raftkv/kvcheck). It has no non-test code.
package e2e
