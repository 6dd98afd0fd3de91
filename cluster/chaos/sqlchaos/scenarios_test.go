package sqlchaos

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"cairn.dev/cairn/cluster/chaos"
)

func TestMain(m *testing.M) { chaos.Main(m) }

// One test per SQL scenario: the short version by default, the long one with
// -chaos.duration or CAIRN_CHAOS_DURATION. Each starts its own three-node
// raftkv cluster and reaches its nodes' PostgreSQL ports through sqlURL.

func TestBankLeaderKill(t *testing.T)    { chaos.Test(t, BankLeaderKill()) }
func TestLastItemPartition(t *testing.T) { chaos.Test(t, LastItemPartition()) }
func TestListAppendFaults(t *testing.T)  { chaos.Test(t, ListAppendFaults()) }
func TestFullCrash(t *testing.T)         { chaos.Test(t, FullCrash()) }

func TestScheduleSameSeedSameSteps(t *testing.T) {
	for _, sc := range SQLScenarios() {
		if sc.Service != "raftkv" || len(sc.Workloads) == 0 || len(sc.Checkers) == 0 {
			t.Errorf("%s: service %q, %d workloads, %d checkers", sc.Name, sc.Service, len(sc.Workloads), len(sc.Checkers))
		}
		for _, phase := range []time.Duration{sc.Phase, 2 * time.Minute} {
			a := sc.Schedule(rand.New(rand.NewPCG(42, chaos.Stream("schedule", 0))), phase)
			b := sc.Schedule(rand.New(rand.NewPCG(42, chaos.Stream("schedule", 0))), phase)
			if len(a) == 0 {
				t.Errorf("%s: empty schedule for phase %v", sc.Name, phase)
			}
			if !reflect.DeepEqual(a, b) {
				t.Errorf("%s: same seed gave different schedules:\n%v\n%v", sc.Name, a, b)
			}
			for i := 1; i < len(a); i++ {
				if a[i].At < a[i-1].At+a[i-1].Duration {
					t.Errorf("%s: step %d at %v overlaps step %d (%v for %v)", sc.Name, i, a[i].At, i-1, a[i-1].At, a[i-1].Duration)
				}
			}
		}
	}
}
