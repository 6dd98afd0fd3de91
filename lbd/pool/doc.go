// Package pool is one lbd pool on one node: its members (static backends and
// registry instances), their health (active checks from lbd/health's Monitor,
// passive ejection from its Outlier, slow start), their administrative state
// (enabled, draining, disabled, weight overrides) and the balance.Picker
// built over the members eligible for new traffic.
//
// Use:
//
//	p, err := pool.New(spec, pool.Options{Logger: logger})
//	defer p.Close()
//	p.SetDiscovered(instances) // from the registry, whenever they change
//	lease, err := p.Pick(key, nil)
//	... proxy to lease.Addr() ...
//	lease.Done(failed, latency)
//
// Every Pick that returns a lease must be followed by exactly one Done. A
// lease's Expired channel closes when its connection must be cut: the member
// was disabled, removed, or drained and its drain deadline passed.
//
// A member is eligible for new traffic when it is enabled, its active check
// says up (or the pool has none) and it is not ejected. The picker is rebuilt
// whenever eligibility or a weight changes; a maintenance goroutine per pool
// ends ejections, ramps slow-start weights and cuts drained connections on
// time. Sticky requests (PickNamed) go to their member only while it is
// eligible.
package pool
