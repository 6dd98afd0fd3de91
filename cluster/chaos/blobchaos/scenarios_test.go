package blobchaos

import (
	"math/rand/v2"
	"testing"
	"time"

	"cairn.dev/cairn/cluster/chaos"
)

func TestMain(m *testing.M) { chaos.Main(m) }

// One test per blobd scenario, like the other daemons' ones: short by
// default, long with -chaos.duration or CAIRN_CHAOS_DURATION.

func TestBlobVolumeKill(t *testing.T) { chaos.Test(t, BlobVolumeKill()) }
func TestBlobLeaderKill(t *testing.T) { chaos.Test(t, BlobLeaderKill()) }
func TestBlobPartition(t *testing.T)  { chaos.Test(t, BlobPartition()) }
func TestBlobPause(t *testing.T)      { chaos.Test(t, BlobPause()) }
func TestBlobCrashAll(t *testing.T)   { chaos.Test(t, BlobCrashAll()) }
func TestBlobCorrupt(t *testing.T)    { chaos.Test(t, BlobCorrupt()) }

// TestSchedules checks the schedules without a cluster: the short ones fit
// their phase (with the nemesis' time to act) and name known tampers; the
// corrupt scenario's short run damages one node only.
func TestSchedules(t *testing.T) {
	for _, sc := range BlobdScenarios() {
		for _, phase := range []time.Duration{sc.Phase, time.Minute} {
			steps := sc.Schedule(rand.New(rand.NewPCG(1, 2)), phase)
			if len(steps) == 0 {
				t.Fatalf("%s: no step for a phase of %v", sc.Name, phase)
			}
			end := time.Duration(0)
			for _, s := range steps {
				end = max(end, s.At+s.Duration)
				if s.Params.Tamper != "" && sc.Tampers[s.Params.Tamper] == nil {
					t.Fatalf("%s: unknown tamper %q", sc.Name, s.Params.Tamper)
				}
			}
			if phase == sc.Phase && end > sc.Phase+2*time.Second {
				t.Errorf("%s: the short schedule ends at %v, past its phase %v", sc.Name, end, sc.Phase)
			}
		}
	}
	steps := BlobCorrupt().Schedule(rand.New(rand.NewPCG(3, 4)), BlobCorrupt().Phase)
	if len(steps) != 3 || steps[0].Pick != steps[1].Pick || steps[1].Pick != steps[2].Pick {
		t.Fatalf("the short corrupt schedule must damage one node thrice: %+v", steps)
	}
}
