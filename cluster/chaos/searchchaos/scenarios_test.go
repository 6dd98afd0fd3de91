package searchchaos

import (
	"testing"

	"cairn.dev/cairn/cluster/chaos"
)

func TestMain(m *testing.M) { chaos.Main(m) }

// One test per searchd scenario, like the other daemons' ones: short by
// default, long with -chaos.duration or CAIRN_CHAOS_DURATION.

func TestSearchNodeKill(t *testing.T) { chaos.Test(t, SearchNodeKill()) }
func TestSearchCrashAll(t *testing.T) { chaos.Test(t, SearchCrashAll()) }
