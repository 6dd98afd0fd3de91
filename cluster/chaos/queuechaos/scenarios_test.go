package queuechaos

import (
	"testing"

	"cairn.dev/cairn/cluster/chaos"
)

func TestMain(m *testing.M) { chaos.Main(m) }

// One test per queued scenario, like the other daemons' ones: short by
// default, long with -chaos.duration or CAIRN_CHAOS_DURATION.

func TestQueueLeaderKill(t *testing.T)      { chaos.Test(t, QueueLeaderKill()) }
func TestQueueLeaderPartition(t *testing.T) { chaos.Test(t, QueueLeaderPartition()) }
func TestQueuePause(t *testing.T)           { chaos.Test(t, QueuePause()) }
func TestQueueRestart(t *testing.T)         { chaos.Test(t, QueueRestart()) }
func TestQueueFullCrash(t *testing.T)       { chaos.Test(t, QueueFullCrash()) }
func TestQueueFIFO(t *testing.T)            { chaos.Test(t, QueueFIFO()) }
func TestQueueDLQ(t *testing.T)             { chaos.Test(t, QueueDLQ()) }
