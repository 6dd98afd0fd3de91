// Package cluster is the local harness: it starts, stops, kills and inspects real
// cairn node processes on one machine and keeps the cluster state file that every
// client command reads. `cairn cluster`, `make cluster` and the end-to-end and chaos
// tests all drive clusters through it.
package cluster
