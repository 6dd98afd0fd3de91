// Package cluster is the local harness: it starts, stops, kills and inspects real
// cairn node processes on one machine and keeps the cluster state file that every
// client command reads. `cairn cluster`, `make cluster` and the end-to-end and chaos
// tests all drive clusters through it.
//
// Faults: by default every peer link runs through a fault proxy process
// (`cairn cluster proxyd`, one faultproxy per directed link, see the port layout
// in services.go) that Partition, Delay, DropConnections, Bandwidth and Heal
// drive; Pause and Resume stop and continue a node's processes; Wipe empties a
// stopped node. Active faults are recorded in the state file, so every process
// sees them and a restarted proxy re-applies them.
package cluster
