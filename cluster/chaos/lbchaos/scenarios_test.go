package lbchaos

import (
	"testing"

	"cairn.dev/cairn/cluster/chaos"
)

func TestMain(m *testing.M) { chaos.Main(m) }

// One test per lbd scenario, like the other daemons' ones: short by
// default, long with -chaos.duration or CAIRN_CHAOS_DURATION.

func TestLBFaults(t *testing.T) { chaos.Test(t, LBFaults()) }
