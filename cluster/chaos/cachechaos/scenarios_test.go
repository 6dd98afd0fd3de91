package cachechaos

import (
	"testing"

	"cairn.dev/cairn/cluster/chaos"
)

func TestMain(m *testing.M) { chaos.Main(m) }

// One test per cached scenario: short by default, long with -chaos.duration
// or CAIRN_CHAOS_DURATION.

func TestCacheKill(t *testing.T)          { chaos.Test(t, CacheKill()) }
func TestCacheReplicas(t *testing.T)      { chaos.Test(t, CacheReplicas()) }
func TestNearCacheStaleness(t *testing.T) { chaos.Test(t, NearCacheStaleness()) }
