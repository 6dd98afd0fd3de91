package pool

import (
	"errors"
	"sync"
	"testing"
	"time"

	"cairn.dev/cairn/lbd/lbconfig"
)

// fakeClock is a settable clock for pools built with Options.Manual.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// newTestPool builds a manual pool over static backends b1..bn without
// active checks.
func newTestPool(t *testing.T, n int, edit func(*lbconfig.Pool)) (*Pool, *fakeClock) {
	t.Helper()
	doc := &lbconfig.Document{Pools: []lbconfig.Pool{{Name: "p", Health: lbconfig.Health{Type: lbconfig.CheckNone}}}}
	for i := 1; i <= n; i++ {
		doc.Pools[0].Backends = append(doc.Pools[0].Backends, lbconfig.Backend{Name: name(i), Address: "127.0.0.1:1"})
	}
	if edit != nil {
		edit(&doc.Pools[0])
	}
	doc.SetDefaults()
	if err := doc.Validate(); err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	p, err := New(doc.Pools[0], Options{Now: clock.Now, Manual: true, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p, clock
}

func name(i int) string { return "b" + string(rune('0'+i)) }

// picks counts the members n picks land on (each lease ended at once).
func picks(t *testing.T, p *Pool, n int) map[string]int {
	t.Helper()
	got := map[string]int{}
	for range n {
		l, err := p.Pick(0, nil)
		if err != nil {
			t.Fatal(err)
		}
		got[l.Name()]++
		l.Done(false, time.Millisecond)
	}
	return got
}

func TestDrainingMemberGetsNoNewTrafficAndIsCutAtTheDeadline(t *testing.T) {
	p, clock := newTestPool(t, 3, func(s *lbconfig.Pool) { s.DrainTimeout = 10 * time.Second })
	var held *Lease
	for held == nil {
		l, _ := p.Pick(0, nil)
		if l.Name() == "b2" {
			held = l
		} else {
			l.Done(false, 0)
		}
	}
	if !p.SetAdmin("b2", AdminSetting{State: AdminDraining, Since: clock.Now()}) {
		t.Fatal("SetAdmin: member unknown")
	}
	if got := picks(t, p, 300); got["b2"] != 0 || got["b1"] == 0 || got["b3"] == 0 {
		t.Fatalf("picks while b2 drains = %v", got)
	}
	clock.Advance(9 * time.Second)
	p.Maintain()
	select {
	case <-held.Expired():
		t.Fatal("connection cut before the drain deadline")
	default:
	}
	clock.Advance(2 * time.Second)
	p.Maintain()
	select {
	case <-held.Expired():
	default:
		t.Fatal("connection not cut after the drain deadline")
	}
	held.Done(false, 0)
	p.SetAdmin("b2", AdminSetting{State: AdminEnabled})
	if got := picks(t, p, 300); got["b2"] == 0 {
		t.Fatalf("re-enabled b2 gets no traffic: %v", got)
	}
	l, _ := p.PickNamed("b2", 0, nil)
	select {
	case <-l.Expired():
		t.Fatal("a new lease of a re-enabled member is already cut")
	default:
	}
	l.Done(false, 0)
}

func TestDisabledMemberIsCutAtOnce(t *testing.T) {
	p, clock := newTestPool(t, 2, nil)
	l, _ := p.PickNamed("b1", 0, nil)
	p.SetAdmin("b1", AdminSetting{State: AdminDisabled, Since: clock.Now()})
	select {
	case <-l.Expired():
	default:
		t.Fatal("disabling did not cut the connection")
	}
	if got := picks(t, p, 50); got["b1"] != 0 {
		t.Fatalf("disabled b1 picked: %v", got)
	}
}

func TestAdminSettingWaitsForItsMember(t *testing.T) {
	p, clock := newTestPool(t, 1, func(s *lbconfig.Pool) { s.Service = "svc" })
	if p.SetAdmin("r1", AdminSetting{State: AdminDraining, Since: clock.Now()}) {
		t.Fatal("SetAdmin reported an absent member present")
	}
	p.SetDiscovered([]Discovered{{Name: "r1", Address: "127.0.0.1:2", Weight: 1}})
	if got := picks(t, p, 50); got["r1"] != 0 {
		t.Fatalf("a member drained before it appeared got traffic: %v", got)
	}
}

func TestOutlierEjectionAndReturn(t *testing.T) {
	p, clock := newTestPool(t, 3, func(s *lbconfig.Pool) {
		s.Outlier = lbconfig.Outlier{ConsecutiveFailures: 3, BaseEjection: 5 * time.Second}
	})
	for range 3 {
		l, _ := p.PickNamed("b1", 0, nil)
		l.Done(true, time.Millisecond)
	}
	if got := picks(t, p, 200); got["b1"] != 0 {
		t.Fatalf("ejected b1 picked: %v", got)
	}
	st := status(p, "b1")
	if st.Healthy {
		t.Fatalf("ejected b1 reported healthy: %+v", st)
	}
	clock.Advance(6 * time.Second)
	p.Maintain()
	if got := picks(t, p, 300); got["b1"] == 0 {
		t.Fatalf("b1 did not return after its ejection: %v", got)
	}
}

func TestSlowStartRampsTheWeight(t *testing.T) {
	p, clock := newTestPool(t, 1, func(s *lbconfig.Pool) {
		s.Algorithm = "weighted_round_robin"
		s.SlowStart = 10 * time.Second
		s.Backends[0].Weight = 100
		s.Service = "svc"
	})
	clock.Advance(time.Minute)
	p.Maintain()
	p.SetDiscovered([]Discovered{{Name: "new", Address: "127.0.0.1:3", Weight: 100}})
	early := status(p, "new").EffectiveWeight
	if early > 20 {
		t.Fatalf("a member just up has effective weight %d of 100", early)
	}
	clock.Advance(5 * time.Second)
	p.Maintain()
	mid := status(p, "new").EffectiveWeight
	clock.Advance(6 * time.Second)
	p.Maintain()
	late := status(p, "new").EffectiveWeight
	if !(early < mid && mid < late && late == 100) {
		t.Fatalf("effective weights %d, %d, %d do not ramp to 100", early, mid, late)
	}
	if old := status(p, "b1").EffectiveWeight; old != 100 {
		t.Fatalf("the old member's weight is %d, want 100", old)
	}
}

func TestRemovedMemberIsCut(t *testing.T) {
	p, _ := newTestPool(t, 1, func(s *lbconfig.Pool) { s.Service = "svc" })
	p.SetDiscovered([]Discovered{{Name: "r1", Address: "127.0.0.1:2"}})
	l, err := p.PickNamed("r1", 0, nil)
	if err != nil || l.Name() != "r1" {
		t.Fatalf("PickNamed(r1) = %v, %v", l, err)
	}
	p.SetDiscovered(nil)
	select {
	case <-l.Expired():
	default:
		t.Fatal("a removed member's connection was not cut")
	}
	l.Done(false, 0)
	if p.Has("r1") {
		t.Fatal("r1 still a member")
	}
}

func TestStickyPickFallsBackWhenTheMemberCannotTakeTraffic(t *testing.T) {
	p, clock := newTestPool(t, 3, nil)
	for range 20 {
		l, _ := p.PickNamed("b3", 0, nil)
		if l.Name() != "b3" {
			t.Fatalf("sticky pick went to %s", l.Name())
		}
		l.Done(false, 0)
	}
	p.SetAdmin("b3", AdminSetting{State: AdminDraining, Since: clock.Now()})
	l, _ := p.PickNamed("b3", 0, nil)
	if l.Name() == "b3" {
		t.Fatal("sticky pick to a draining member")
	}
	l.Done(false, 0)
	l, _ = p.PickNamed("b1", 0, []string{"b1"})
	if l.Name() == "b1" {
		t.Fatal("sticky pick to a member already tried")
	}
	l.Done(false, 0)
}

func TestNoEligibleMember(t *testing.T) {
	p, clock := newTestPool(t, 1, nil)
	p.SetAdmin("b1", AdminSetting{State: AdminDisabled, Since: clock.Now()})
	if _, err := p.Pick(0, nil); !errors.Is(err, ErrNoBackend) {
		t.Fatalf("Pick = %v, want ErrNoBackend", err)
	}
}

func TestStatusCountsTraffic(t *testing.T) {
	p, _ := newTestPool(t, 1, nil)
	l, _ := p.Pick(0, nil)
	if st := status(p, "b1"); st.Active != 1 {
		t.Fatalf("active = %d during a lease", st.Active)
	}
	l.Done(true, 3*time.Millisecond)
	l.Done(true, 3*time.Millisecond) // ignored
	st := status(p, "b1")
	if st.Active != 0 || st.Total != 1 || st.Failures != 1 || st.P50 != 3*time.Millisecond {
		t.Fatalf("status after one failed lease: %+v", st)
	}
}

func status(p *Pool, name string) MemberStatus {
	for _, m := range p.Status() {
		if m.Name == name {
			return m
		}
	}
	return MemberStatus{}
}

func TestPanicModeIgnoresChecksBelowTheThreshold(t *testing.T) {
	p, clock := newTestPool(t, 4, func(s *lbconfig.Pool) { s.PanicThreshold = 50 })
	p.onCheck("b1", false, "connect refused")
	if got := picks(t, p, 300); got["b1"] != 0 || p.Panicking() {
		t.Fatalf("with 3 of 4 up: picks %v, panicking %v; want b1 avoided, no panic", got, p.Panicking())
	}
	p.onCheck("b2", false, "connect refused") // 2 of 4 = 50%: not below
	if p.Panicking() {
		t.Fatal("panicking at exactly the threshold")
	}
	p.onCheck("b3", false, "connect refused") // 1 of 4 = 25% < 50%
	if !p.Panicking() {
		t.Fatal("not panicking with 1 of 4 backends up")
	}
	if got := picks(t, p, 400); len(got) != 4 {
		t.Fatalf("panic-mode picks %v, want all 4 backends", got)
	}
	// A disabled member stays out in panic mode, and does not count.
	p.SetAdmin("b1", AdminSetting{State: AdminDisabled, Since: clock.Now()})
	if got := picks(t, p, 300); got["b1"] != 0 || len(got) != 3 {
		t.Fatalf("panic-mode picks %v, want b2..b4 without the disabled b1", got)
	}
	p.onCheck("b2", true, "")
	p.onCheck("b3", true, "") // 3 of 3 enabled up
	if p.Panicking() {
		t.Fatal("still panicking with every enabled backend up")
	}
}

func TestNoPanicModeByDefault(t *testing.T) {
	p, _ := newTestPool(t, 2, nil)
	p.onCheck("b1", false, "down")
	p.onCheck("b2", false, "down")
	if _, err := p.Pick(0, nil); !errors.Is(err, ErrNoBackend) || p.Panicking() {
		t.Fatalf("Pick = %v, panicking %v; want ErrNoBackend without panic mode", err, p.Panicking())
	}
}
