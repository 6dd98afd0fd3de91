package gwconfig

import "time"

// Defaults the document's comments promise, applied by Parse and
// FillDefaults.
const (
	DefaultConnectTimeout        = 2 * time.Second
	DefaultResponseHeaderTimeout = 30 * time.Second
	DefaultTotalTimeout          = 60 * time.Second
	DefaultIdleTimeout           = 90 * time.Second
	DefaultRetryAttempts         = 1
	DefaultJWKSRefresh           = 5 * time.Minute
	DefaultLeeway                = 30 * time.Second
	DefaultConsumerClaim         = "sub"
	DefaultRouteMaxBody          = 10 * MiB
	DefaultCacheMaxBody          = 1 * MiB
	DefaultFallbackStatus        = 503
)

// preset sets, before decoding, the defaults of fields whose zero value is
// meaningful (attempts: 0 means no retries), so they apply only when the
// field is absent from the YAML.
func (u *Upstream) preset() { u.Retries.Attempts = DefaultRetryAttempts }

func (c *CircuitBreaker) preset() { c.ConsecutiveFailures = 5 }

func (p *JWTProvider) preset() { p.Leeway = DefaultLeeway }

// Weights default to 1 only when absent: an explicit weight: 0 (someone
// draining a target?) is an error, not a silent 1.
func (t *Target) preset() { t.Weight = 1 }

func (s *Split) preset() { s.Weight = 1 }

// FillDefaults sets every zero-valued field that has a default to it (see
// the comments on the document types); call it on a Document built in Go
// before Validate. Three fields whose zero is a meaningful value keep it —
// Retries.Attempts, CircuitBreaker.ConsecutiveFailures and
// JWTProvider.Leeway — and get their defaults (1, 5, 30s) only when absent
// from parsed YAML.
//
// Parse fills the same defaults, except that in YAML the target and split
// weights default to 1 only when absent, so an explicit 0 is reported.
func (d *Document) FillDefaults() { d.fillDefaults(false) }

func (d *Document) fillDefaults(parsed bool) {
	if d.Version == 0 {
		d.Version = 1
	}
	for i := range d.Upstreams {
		d.Upstreams[i].fillDefaults(parsed)
	}
	for i := range d.JWTProviders {
		p := &d.JWTProviders[i]
		setDuration(&p.JWKSRefresh, DefaultJWKSRefresh)
		if p.ConsumerClaim == "" {
			p.ConsumerClaim = DefaultConsumerClaim
		}
	}
	for i := range d.Routes {
		d.Routes[i].fillDefaults(parsed)
	}
}

func (u *Upstream) fillDefaults(parsed bool) {
	for i := range u.Targets {
		if u.Targets[i].Weight == 0 && !parsed {
			u.Targets[i].Weight = 1
		}
	}
	if u.Protocol == "" {
		u.Protocol = "http"
	}
	if u.Balance == "" {
		u.Balance = "round_robin"
	}
	// Defaulted connect and response_header timeouts never exceed a total
	// set shorter than them (total: 10s gets response_header: 10s).
	t := &u.Timeouts
	setDuration(&t.Total, DefaultTotalTimeout)
	if t.Total > 0 {
		setDuration(&t.Connect, min(DefaultConnectTimeout, t.Total))
		setDuration(&t.ResponseHeader, min(DefaultResponseHeaderTimeout, t.Total))
	}
	setDuration(&t.Idle, DefaultIdleTimeout)
	if len(u.Retries.On) == 0 {
		u.Retries.On = []string{"connect_failure"}
	}
	if cb := u.CircuitBreaker; cb != nil {
		setDuration(&cb.Window, 10*time.Second)
		setInt(&cb.MinRequests, 20)
		if cb.ErrorRate == 0 {
			cb.ErrorRate = 0.5
		}
		setDuration(&cb.OpenFor, 5*time.Second)
		setInt(&cb.HalfOpenRequests, 3)
	}
	if o := u.Outlier; o != nil {
		setInt(&o.ConsecutiveFailures, 5)
		setDuration(&o.BaseEjection, 30*time.Second)
		setDuration(&o.MaxEjection, 5*time.Minute)
		setInt(&o.MaxEjectedPercent, 50)
	}
}

func (r *Route) fillDefaults(parsed bool) {
	for i := range r.RateLimits {
		rl := &r.RateLimits[i]
		if rl.Burst == 0 {
			rl.Burst = rl.Limit
		}
		if rl.Scope == "" {
			rl.Scope = "global"
		}
	}
	if r.MaxBody == 0 {
		r.MaxBody = DefaultRouteMaxBody
	}
	if r.Cache != nil && r.Cache.MaxBody == 0 {
		r.Cache.MaxBody = DefaultCacheMaxBody
	}
	if r.Fallback != nil && r.Fallback.Status == 0 {
		r.Fallback.Status = DefaultFallbackStatus
	}
	for i := range r.Split {
		if r.Split[i].Weight == 0 && !parsed {
			r.Split[i].Weight = 1
		}
	}
}

func setDuration(p *time.Duration, def time.Duration) {
	if *p == 0 {
		*p = def
	}
}

func setInt(p *int, def int) {
	if *p == 0 {
		*p = def
	}
}
