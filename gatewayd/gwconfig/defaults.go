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

// FillDefaults sets every zero-valued field that has a default to it (see
// the comments on the document types). Parse calls it; call it yourself on a
// Document built in Go before Validate. Three fields whose zero is a
// meaningful value keep it here — Retries.Attempts, CircuitBreaker.
// ConsecutiveFailures and JWTProvider.Leeway — and get their defaults (1, 5,
// 30s) only when absent from parsed YAML.
func (d *Document) FillDefaults() {
	if d.Version == 0 {
		d.Version = 1
	}
	for i := range d.Upstreams {
		d.Upstreams[i].fillDefaults()
	}
	for i := range d.JWTProviders {
		p := &d.JWTProviders[i]
		setDuration(&p.JWKSRefresh, DefaultJWKSRefresh)
		if p.ConsumerClaim == "" {
			p.ConsumerClaim = DefaultConsumerClaim
		}
	}
	for i := range d.Routes {
		d.Routes[i].fillDefaults()
	}
}

func (u *Upstream) fillDefaults() {
	for i := range u.Targets {
		if u.Targets[i].Weight == 0 {
			u.Targets[i].Weight = 1
		}
	}
	if u.Protocol == "" {
		u.Protocol = "http"
	}
	if u.Balance == "" {
		u.Balance = "round_robin"
	}
	t := &u.Timeouts
	setDuration(&t.Connect, DefaultConnectTimeout)
	setDuration(&t.ResponseHeader, DefaultResponseHeaderTimeout)
	setDuration(&t.Total, DefaultTotalTimeout)
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

func (r *Route) fillDefaults() {
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
		if r.Split[i].Weight == 0 {
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
