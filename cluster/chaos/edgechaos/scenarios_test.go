package edgechaos

import (
	"testing"

	"cairn.dev/cairn/cluster/chaos"
)

func TestMain(m *testing.M) { chaos.Main(m) }

// One test per edge scenario, like the other daemons' ones: short by
// default, long with -chaos.duration or CAIRN_CHAOS_DURATION.

func TestEdgeFaults(t *testing.T) {
	sc, err := EdgeFaults()
	if err != nil {
		t.Fatal(err)
	}
	chaos.Test(t, sc)
}
