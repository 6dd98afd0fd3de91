package gwconfig

import (
	"slices"

	"cairn.dev/cairn/node/yamldoc"
)

var (
	protocols  = []string{"http", "https", "h2c", "h2", "grpc"}
	balances   = []string{"round_robin", "least_request", "random"}
	retryKinds = []string{"connect_failure", "reset", "502", "503", "504", "timeout"}
)

func (c *checker) upstream(path string, u *Upstream) {
	c.oneOf(path, false, "targets", len(u.Targets) > 0, "service", u.Service != "")
	c.count(yamldoc.FieldPath(path, "targets"), len(u.Targets), MaxTargets)
	seen := map[string]int{}
	for i, t := range u.Targets {
		p := yamldoc.IndexPath(yamldoc.FieldPath(path, "targets"), i)
		if msg := checkAddress(t.Address); msg != "" {
			c.add(yamldoc.FieldPath(p, "address"), "%q: %s", t.Address, msg)
		} else if first, dup := seen[t.Address]; dup {
			c.add(yamldoc.FieldPath(p, "address"), "%q is already targets[%d]", t.Address, first)
		} else {
			seen[t.Address] = i
		}
		c.between(yamldoc.FieldPath(p, "weight"), t.Weight, 1, MaxWeight)
	}
	if u.Service != "" && !isName(u.Service) {
		c.add(yamldoc.FieldPath(path, "service"), "%q is not a valid service name (letters, digits, . _ -)", u.Service)
	}
	if !slices.Contains(protocols, u.Protocol) {
		c.add(yamldoc.FieldPath(path, "protocol"), "%q is not one of %s", u.Protocol, joinOr(protocols, "or"))
	}
	if !slices.Contains(balances, u.Balance) {
		c.add(yamldoc.FieldPath(path, "balance"), "%q is not one of %s", u.Balance, joinOr(balances, "or"))
	}
	if u.TLS != nil {
		c.tls(yamldoc.FieldPath(path, "tls"), u.TLS, u.Protocol)
	}
	tp := yamldoc.FieldPath(path, "timeouts")
	t := u.Timeouts
	c.positive(yamldoc.FieldPath(tp, "connect"), t.Connect)
	c.positive(yamldoc.FieldPath(tp, "response_header"), t.ResponseHeader)
	c.positive(yamldoc.FieldPath(tp, "total"), t.Total)
	c.positive(yamldoc.FieldPath(tp, "idle"), t.Idle)
	if t.Connect > t.Total && t.Total > 0 {
		c.add(yamldoc.FieldPath(tp, "connect"), "%s is longer than total (%s)", t.Connect, t.Total)
	}
	if t.ResponseHeader > t.Total && t.Total > 0 {
		c.add(yamldoc.FieldPath(tp, "response_header"), "%s is longer than total (%s)", t.ResponseHeader, t.Total)
	}
	rp := yamldoc.FieldPath(path, "retries")
	c.between(yamldoc.FieldPath(rp, "attempts"), u.Retries.Attempts, 0, MaxRetryAttempts)
	c.enumList(yamldoc.FieldPath(rp, "on"), u.Retries.On, retryKinds)
	if cb := u.CircuitBreaker; cb != nil {
		p := yamldoc.FieldPath(path, "circuit_breaker")
		c.positive(yamldoc.FieldPath(p, "window"), cb.Window)
		if cb.MinRequests < 1 {
			c.add(yamldoc.FieldPath(p, "min_requests"), "must be at least 1, not %d", cb.MinRequests)
		}
		if !(cb.ErrorRate > 0 && cb.ErrorRate <= 1) {
			c.add(yamldoc.FieldPath(p, "error_rate"), "must be in (0,1], not %g", cb.ErrorRate)
		}
		if cb.ConsecutiveFailures < 0 {
			c.add(yamldoc.FieldPath(p, "consecutive_failures"), "must be at least 0 (0 disables), not %d", cb.ConsecutiveFailures)
		}
		c.positive(yamldoc.FieldPath(p, "open_for"), cb.OpenFor)
		if cb.HalfOpenRequests < 1 {
			c.add(yamldoc.FieldPath(p, "half_open_requests"), "must be at least 1, not %d", cb.HalfOpenRequests)
		}
	}
	if o := u.Outlier; o != nil {
		p := yamldoc.FieldPath(path, "outlier")
		if o.ConsecutiveFailures < 1 {
			c.add(yamldoc.FieldPath(p, "consecutive_failures"), "must be at least 1, not %d", o.ConsecutiveFailures)
		}
		c.positive(yamldoc.FieldPath(p, "base_ejection"), o.BaseEjection)
		if o.MaxEjection < o.BaseEjection {
			c.add(yamldoc.FieldPath(p, "max_ejection"), "%s is shorter than base_ejection (%s)", o.MaxEjection, o.BaseEjection)
		}
		c.between(yamldoc.FieldPath(p, "max_ejected_percent"), o.MaxEjectedPercent, 1, 100)
	}
}

func (c *checker) tls(path string, t *TLS, protocol string) {
	if protocol == "http" || protocol == "h2c" {
		c.add(path, "protocol %s is plaintext; tls needs protocol https, h2 or grpc", protocol)
	}
	if t.Cluster && (t.CAFile != "" || t.CertFile != "" || t.KeyFile != "") {
		c.add(yamldoc.FieldPath(path, "cluster"), "uses the cluster's CA and certificate: ca_file, cert_file and key_file must be empty")
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		c.add(path, "cert_file and key_file go together")
	}
	if t.ServerName != "" && !isHostName(t.ServerName) {
		c.add(yamldoc.FieldPath(path, "server_name"), "%q is not a host name", t.ServerName)
	}
}

// enumList checks that every entry of l is one of allowed, once.
func (c *checker) enumList(path string, l, allowed []string) {
	seen := map[string]bool{}
	for i, s := range l {
		switch {
		case !slices.Contains(allowed, s):
			c.add(yamldoc.IndexPath(path, i), "%q is not one of %s", s, joinOr(allowed, "or"))
		case seen[s]:
			c.add(yamldoc.IndexPath(path, i), "%q is listed twice", s)
		}
		seen[s] = true
	}
}
