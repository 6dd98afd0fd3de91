package upstream

import "time"

// Stats is a snapshot of a pool.
type Stats struct {
	// Breaker is closed, open or half_open (closed when disabled).
	Breaker string
	// BreakerOpened counts the times the breaker opened.
	BreakerOpened int64
	// Targets are the current members in pool order.
	Targets []TargetStats
}

// TargetStats is a snapshot of one target.
type TargetStats struct {
	Address  string
	Weight   int
	InFlight int
	// Requests and Failures count picks and failed results since the target
	// joined the pool.
	Requests int64
	Failures int64
	// Ejected is whether Pick skips the target now, until EjectedUntil.
	Ejected      bool
	EjectedUntil time.Time
	// Ejections counts the target's ejections.
	Ejections int64
	// Latency is a moving average of the reported latencies.
	Latency time.Duration
}

// Stats returns a snapshot of the pool at the clock's now.
func (p *Pool) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	p.out.expire(now, p.targets)
	s := Stats{
		Breaker:       p.br.current(now).String(),
		BreakerOpened: p.br.opened,
		Targets:       make([]TargetStats, len(p.targets)),
	}
	for i, t := range p.targets {
		ts := TargetStats{
			Address:   t.addr,
			Weight:    t.weight,
			InFlight:  t.inflight,
			Requests:  t.requests,
			Failures:  t.failures,
			Ejected:   t.ejected,
			Ejections: t.ejections,
			Latency:   t.latency,
		}
		if t.ejected {
			ts.EjectedUntil = t.ejectedUntil
		}
		s.Targets[i] = ts
	}
	return s
}
