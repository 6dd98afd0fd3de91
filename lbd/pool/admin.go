package pool

import (
	"fmt"
	"time"

	"cairn.dev/cairn/lbd/balance"
)

// AdminState is what an operator set for a member.
type AdminState int

// Administrative states.
const (
	// AdminEnabled members take new traffic when healthy.
	AdminEnabled AdminState = iota
	// AdminDraining members take no new traffic; their connections go on
	// until the pool's drain timeout after the drain began, then are cut.
	AdminDraining
	// AdminDisabled members take no new traffic and their connections are
	// cut at once.
	AdminDisabled
)

// String is the state's lower-case name.
func (s AdminState) String() string {
	switch s {
	case AdminEnabled:
		return "enabled"
	case AdminDraining:
		return "draining"
	case AdminDisabled:
		return "disabled"
	}
	return fmt.Sprintf("AdminState(%d)", int(s))
}

// ParseAdminState reads "enabled", "draining" or "disabled".
func ParseAdminState(s string) (AdminState, error) {
	for _, st := range []AdminState{AdminEnabled, AdminDraining, AdminDisabled} {
		if st.String() == s {
			return st, nil
		}
	}
	return 0, fmt.Errorf("pool: admin state %q is not enabled, draining or disabled", s)
}

// AdminSetting is the administrative state of one member: its state since
// when (a drain's deadline counts from Since, so every lbd node applying the
// same setting cuts at the same time) and its weight override (0 = none).
type AdminSetting struct {
	State  AdminState
	Since  time.Time
	Weight int
}

// SetAdmin applies a member's administrative setting. A setting for a name
// the pool does not have (yet) is kept and applied when the member appears.
// It reports whether the pool has the member now.
func (p *Pool) SetAdmin(name string, a AdminSetting) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if a.State == AdminEnabled && a.Weight == 0 {
		delete(p.admin, name)
	} else {
		p.admin[name] = a
	}
	m := p.members[name]
	if m == nil {
		return false
	}
	now := p.now()
	m.applyAdmin(a, p.spec.DrainTimeout, now)
	p.rebuildLocked(now)
	return true
}

func (m *member) applyAdmin(a AdminSetting, drainTimeout time.Duration, now time.Time) {
	if a.Weight != m.override {
		m.override = min(max(a.Weight, 0), balance.MaxWeight)
		m.transition(now, "weight", fmt.Sprintf("weight %d", m.weight()))
	}
	if a.State == m.admin {
		return
	}
	m.admin, m.adminSince = a.State, a.Since
	m.drainDeadline = time.Time{}
	switch a.State {
	case AdminEnabled:
		m.uncut()
		m.upSince = now
	case AdminDraining:
		m.drainDeadline = a.Since.Add(drainTimeout)
	case AdminDisabled:
		m.cut()
	}
	m.transition(now, a.State.String(), "set by an operator")
}

// Has reports whether the pool has a member called name.
func (p *Pool) Has(name string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.members[name] != nil
}

// Transition is one change of a member's health or administrative state.
type Transition struct {
	At     time.Time
	State  string
	Reason string
}

// MemberStatus is a member's state and counters, for the admin API.
type MemberStatus struct {
	Name            string
	Address         string
	Admin           AdminState
	DrainDeadline   time.Time // zero unless draining
	Healthy         bool
	Health          string
	Weight          int
	EffectiveWeight int
	Active          int64
	Total           int64
	Failures        int64
	PerSecond       float64
	P50, P99, EWMA  time.Duration
	Transitions     []Transition
}

// Status lists the members, sorted by name.
func (p *Pool) Status() []MemberStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	out := make([]MemberStatus, 0, len(p.order))
	for _, name := range p.order {
		m := p.members[name]
		st := MemberStatus{
			Name: name, Address: m.b.Addr, Admin: m.admin, DrainDeadline: m.drainDeadline,
			Weight: m.weight(), EffectiveWeight: m.b.Weight(),
			Active: m.b.Inflight(), Total: m.total.Load(), Failures: m.failed.Load(),
			EWMA:        m.b.Latency(),
			Transitions: append([]Transition(nil), m.transitions...),
		}
		st.P50, st.P99, st.PerSecond = m.windows(now)
		switch {
		case !m.checkUp:
			st.Health = m.checkReason
		case p.outlier != nil && p.outlier.Ejected(name, now):
			st.Health = "ejected by outlier detection"
		default:
			st.Healthy, st.Health = true, "up"
		}
		out = append(out, st)
	}
	return out
}
