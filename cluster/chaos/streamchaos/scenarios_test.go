package streamchaos

import (
	"testing"

	"cairn.dev/cairn/cluster/chaos"
)

func TestMain(m *testing.M) { chaos.Main(m) }

// One test per streamd scenario, like the other daemons' ones: short by
// default, long with -chaos.duration or CAIRN_CHAOS_DURATION.

func TestStreamLeaderKill(t *testing.T)     { chaos.Test(t, StreamLeaderKill()) }
func TestStreamPartition(t *testing.T)      { chaos.Test(t, StreamPartition()) }
func TestStreamPause(t *testing.T)          { chaos.Test(t, StreamPause()) }
func TestStreamRollingRestart(t *testing.T) { chaos.Test(t, StreamRollingRestart()) }
func TestStreamCrashAll(t *testing.T)       { chaos.Test(t, StreamCrashAll()) }
func TestStreamTornTail(t *testing.T)       { chaos.Test(t, StreamTornTail()) }
