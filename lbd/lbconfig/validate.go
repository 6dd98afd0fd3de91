package lbconfig

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"cairn.dev/cairn/lbd/balance"
	"cairn.dev/cairn/node/yamldoc"
)

// MaxWeight is the largest backend weight.
const MaxWeight = balance.MaxWeight

// problems lists what is wrong with a defaulted document.
type problemList []yamldoc.Problem

func (l *problemList) add(path, format string, args ...any) {
	*l = append(*l, yamldoc.Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

func (d *Document) problems() []yamldoc.Problem {
	var l problemList
	if len(d.Frontends) > MaxFrontends {
		l.add("frontends", "%d frontends, the limit is %d", len(d.Frontends), MaxFrontends)
	}
	if len(d.Pools) > MaxPools {
		l.add("pools", "%d pools, the limit is %d", len(d.Pools), MaxPools)
	}
	pools := map[string]*Pool{}
	for i := range d.Pools {
		p := &d.Pools[i]
		path := yamldoc.IndexPath("pools", i)
		checkName(&l, yamldoc.FieldPath(path, "name"), p.Name)
		if pools[p.Name] != nil {
			l.add(yamldoc.FieldPath(path, "name"), "pool %q is defined twice", p.Name)
		}
		pools[p.Name] = p
		p.check(&l, path)
	}
	listens := map[string]string{}
	names := map[string]bool{}
	for i := range d.Frontends {
		f := &d.Frontends[i]
		path := yamldoc.IndexPath("frontends", i)
		checkName(&l, yamldoc.FieldPath(path, "name"), f.Name)
		if names[f.Name] {
			l.add(yamldoc.FieldPath(path, "name"), "frontend %q is defined twice", f.Name)
		}
		names[f.Name] = true
		key := f.Mode + " " + f.Listen
		if f.Mode == ModeHTTP {
			key = ModeTCP + " " + f.Listen
		}
		if other, dup := listens[key]; dup && !strings.HasSuffix(f.Listen, ":0") {
			l.add(yamldoc.FieldPath(path, "listen"), "%s is also frontend %q's address", f.Listen, other)
		}
		listens[key] = f.Name
		f.check(&l, path, pools)
	}
	return l
}

func (f *Frontend) check(l *problemList, path string, pools map[string]*Pool) {
	switch f.Mode {
	case ModeTCP, ModeUDP, ModeHTTP:
	case "":
		l.add(yamldoc.FieldPath(path, "mode"), "required: tcp, udp or http")
	default:
		l.add(yamldoc.FieldPath(path, "mode"), "%q is not tcp, udp or http", f.Mode)
	}
	if err := checkListen(f.Listen); err != nil {
		l.add(yamldoc.FieldPath(path, "listen"), "%v", err)
	}
	poolField := "pool"
	if f.Mode == ModeHTTP && f.DefaultPool != "" {
		poolField = "default_pool"
	}
	if f.Pool == "" && (f.Mode != ModeHTTP || len(f.Routes) == 0) {
		l.add(yamldoc.FieldPath(path, poolField), "required")
	} else if f.Pool != "" && pools[f.Pool] == nil {
		l.add(yamldoc.FieldPath(path, poolField), "no pool is named %q", f.Pool)
	}
	if f.Mode == ModeHTTP && f.DefaultPool != "" && f.Pool != f.DefaultPool {
		l.add(yamldoc.FieldPath(path, "default_pool"), "pool and default_pool differ (%q, %q): give one", f.Pool, f.DefaultPool)
	}
	if f.Mode != ModeHTTP {
		if len(f.Routes) > 0 {
			l.add(yamldoc.FieldPath(path, "routes"), "only http frontends have routes")
		}
		if f.TLS != "none" {
			l.add(yamldoc.FieldPath(path, "tls"), "only http frontends terminate TLS")
		}
	}
	if len(f.Routes) > MaxRoutes {
		l.add(yamldoc.FieldPath(path, "routes"), "%d routes, the limit is %d", len(f.Routes), MaxRoutes)
	}
	for j, r := range f.Routes {
		rp := yamldoc.IndexPath(yamldoc.FieldPath(path, "routes"), j)
		if r.Pool == "" {
			l.add(yamldoc.FieldPath(rp, "pool"), "required")
		} else if pools[r.Pool] == nil {
			l.add(yamldoc.FieldPath(rp, "pool"), "no pool is named %q", r.Pool)
		}
		if !strings.HasPrefix(r.PathPrefix, "/") || strings.ContainsAny(r.PathPrefix, "?# \t") {
			l.add(yamldoc.FieldPath(rp, "path_prefix"), "%q must start with / and hold no query, fragment or space", r.PathPrefix)
		}
		if h := strings.TrimPrefix(r.Host, "*."); strings.ContainsAny(h, "/:* \t") || len(r.Host) > 253 {
			l.add(yamldoc.FieldPath(rp, "host"), "%q is not a host name (or *.suffix)", r.Host)
		}
	}
	switch f.TLS {
	case "none", "cluster":
		if f.CertFile != "" || f.KeyFile != "" {
			l.add(yamldoc.FieldPath(path, "cert_file"), "cert_file and key_file go with tls: files (or no tls key)")
		}
	case "files":
		if f.CertFile == "" || f.KeyFile == "" {
			l.add(yamldoc.FieldPath(path, "cert_file"), "tls: files needs cert_file and key_file")
		}
	default:
		l.add(yamldoc.FieldPath(path, "tls"), "%q is not none, cluster or files", f.TLS)
	}
	if f.ProxyProtocol != 0 && (f.Mode != ModeTCP || f.ProxyProtocol < 0 || f.ProxyProtocol > 2) {
		l.add(yamldoc.FieldPath(path, "proxy_protocol"), "must be 0, 1 or 2, on tcp frontends only")
	}
	if f.MaxConns < 0 || f.MaxConns > 1_000_000 {
		l.add(yamldoc.FieldPath(path, "max_conns"), "%d is outside 1..1000000", f.MaxConns)
	}
	checkDuration(l, yamldoc.FieldPath(path, "idle_timeout"), f.IdleTimeout, time.Second, 24*time.Hour)
}

func (p *Pool) check(l *problemList, path string) {
	alg, err := balance.ParseAlgorithm(p.Algorithm)
	if err != nil {
		l.add(yamldoc.FieldPath(path, "algorithm"), "%v", err)
	}
	if _, _, err := ParseHashOn(p.HashOn); err != nil {
		l.add(yamldoc.FieldPath(path, "hash_on"), "%v", err)
	} else if p.HashOn != "source_ip" && err == nil && !alg.Hashing() {
		l.add(yamldoc.FieldPath(path, "hash_on"), "only ring_hash, maglev and ip_hash hash a key; algorithm is %s", p.Algorithm)
	}
	if p.Service != "" {
		checkName(l, yamldoc.FieldPath(path, "service"), p.Service)
	}
	if p.Service == "" && len(p.Backends) == 0 {
		l.add(yamldoc.FieldPath(path, "backends"), "a pool needs backends or a service")
	}
	if len(p.Backends) > MaxBackends {
		l.add(yamldoc.FieldPath(path, "backends"), "%d backends, the limit is %d", len(p.Backends), MaxBackends)
	}
	seen := map[string]bool{}
	for j, b := range p.Backends {
		bp := yamldoc.IndexPath(yamldoc.FieldPath(path, "backends"), j)
		checkName(l, yamldoc.FieldPath(bp, "name"), b.Name)
		if seen[b.Name] {
			l.add(yamldoc.FieldPath(bp, "name"), "backend %q is listed twice", b.Name)
		}
		seen[b.Name] = true
		if err := CheckAddress(b.Address); err != nil {
			l.add(yamldoc.FieldPath(bp, "address"), "%v", err)
		}
		if b.Weight < 1 || b.Weight > MaxWeight {
			l.add(yamldoc.FieldPath(bp, "weight"), "%d is outside 1..%d", b.Weight, MaxWeight)
		}
	}
	p.Health.check(l, yamldoc.FieldPath(path, "health"))
	p.Outlier.check(l, yamldoc.FieldPath(path, "outlier"))
	checkDuration(l, yamldoc.FieldPath(path, "slow_start"), p.SlowStart, 0, time.Hour)
	if p.PanicThreshold < 0 || p.PanicThreshold > 100 {
		l.add(yamldoc.FieldPath(path, "panic_threshold"), "%d is outside 0..100 (percent)", p.PanicThreshold)
	}
	checkDuration(l, yamldoc.FieldPath(path, "drain_timeout"), p.DrainTimeout, 0, 24*time.Hour)
	checkDuration(l, yamldoc.FieldPath(path, "queue_timeout"), p.QueueTimeout, time.Millisecond, time.Minute)
	checkDuration(l, yamldoc.FieldPath(path, "connect_timeout"), p.ConnectTimeout, time.Millisecond, time.Minute)
	checkDuration(l, yamldoc.FieldPath(path, "timeout"), p.Timeout, time.Millisecond, 24*time.Hour)
	if p.StickyCookie != "" && !validCookieName(p.StickyCookie) {
		l.add(yamldoc.FieldPath(path, "sticky_cookie"), "%q is not a cookie name", p.StickyCookie)
	}
	if p.Retries < -1 || p.Retries > 10 {
		l.add(yamldoc.FieldPath(path, "retries"), "%d is outside -1..10", p.Retries)
	}
	switch p.Protocol {
	case "http1", "h2c", "h2", "auto":
	default:
		l.add(yamldoc.FieldPath(path, "protocol"), "%q is not http1, h2c, h2 or auto", p.Protocol)
	}
}

func (h *Health) check(l *problemList, path string) {
	switch h.Type {
	case CheckNone, CheckTCP, CheckHTTP, CheckGRPC:
	default:
		l.add(yamldoc.FieldPath(path, "type"), "%q is not none, tcp, http or grpc", h.Type)
	}
	checkDuration(l, yamldoc.FieldPath(path, "interval"), h.Interval, 10*time.Millisecond, time.Hour)
	checkDuration(l, yamldoc.FieldPath(path, "timeout"), h.Timeout, time.Millisecond, time.Hour)
	if h.Timeout > h.Interval {
		l.add(yamldoc.FieldPath(path, "timeout"), "%v is longer than interval %v", h.Timeout, h.Interval)
	}
	if h.Rise < 1 || h.Rise > 100 {
		l.add(yamldoc.FieldPath(path, "rise"), "%d is outside 1..100", h.Rise)
	}
	if h.Fall < 1 || h.Fall > 100 {
		l.add(yamldoc.FieldPath(path, "fall"), "%d is outside 1..100", h.Fall)
	}
	if h.Jitter < 0 || h.Jitter > 1 {
		l.add(yamldoc.FieldPath(path, "jitter"), "%v is outside 0..1", h.Jitter)
	}
	if h.Type == CheckHTTP {
		if !strings.HasPrefix(h.Path, "/") || strings.ContainsAny(h.Path, " \t\r\n") {
			l.add(yamldoc.FieldPath(path, "path"), "%q must start with / and hold no space", h.Path)
		}
		if h.Method != "GET" && h.Method != "HEAD" {
			l.add(yamldoc.FieldPath(path, "method"), "%q is not GET or HEAD", h.Method)
		}
		if len(h.Body) > 4096 {
			l.add(yamldoc.FieldPath(path, "body"), "%d bytes, the limit is 4096", len(h.Body))
		}
	} else {
		for field, v := range map[string]string{"path": h.Path, "method": h.Method, "expect": h.Expect, "body": h.Body, "host": h.Host} {
			if v != "" {
				l.add(yamldoc.FieldPath(path, field), "only http checks have a %s", field)
			}
		}
	}
	if h.Service != "" && h.Type != CheckGRPC {
		l.add(yamldoc.FieldPath(path, "service"), "only grpc checks have a service")
	}
}

func (o *Outlier) check(l *problemList, path string) {
	if o.ConsecutiveFailures < -1 || o.ConsecutiveFailures > 1000 {
		l.add(yamldoc.FieldPath(path, "consecutive_failures"), "%d is outside -1..1000", o.ConsecutiveFailures)
	}
	if o.FailureRate < 0 || o.FailureRate > 1 {
		l.add(yamldoc.FieldPath(path, "failure_rate"), "%v is outside 0..1", o.FailureRate)
	}
	checkDuration(l, yamldoc.FieldPath(path, "window"), o.Window, time.Second, time.Hour)
	if o.MinRequests < 1 || o.MinRequests > 1_000_000 {
		l.add(yamldoc.FieldPath(path, "min_requests"), "%d is outside 1..1000000", o.MinRequests)
	}
	checkDuration(l, yamldoc.FieldPath(path, "base_ejection"), o.BaseEjection, 10*time.Millisecond, 24*time.Hour)
	checkDuration(l, yamldoc.FieldPath(path, "max_ejection"), o.MaxEjection, o.BaseEjection, 24*time.Hour)
	if o.MaxEjectedPercent < 1 || o.MaxEjectedPercent > 100 {
		l.add(yamldoc.FieldPath(path, "max_ejected_percent"), "%d is outside 1..100", o.MaxEjectedPercent)
	}
}

func checkDuration(l *problemList, path string, d, lo, hi time.Duration) {
	if d < lo || d > hi {
		l.add(path, "%v is outside %v..%v", d, lo, hi)
	}
}

// checkName accepts names of 1..128 letters, digits, '-', '_' and '.'.
func checkName(l *problemList, path, s string) {
	if s == "" {
		l.add(path, "required")
		return
	}
	if len(s) > 128 {
		l.add(path, "%d bytes, the limit is 128", len(s))
		return
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			l.add(path, "%q may hold only letters, digits, '-', '_' and '.'", s)
			return
		}
	}
}

// CheckAddress accepts host:port with a non-empty host and a port in 1..65535.
func CheckAddress(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port", addr)
	}
	if host == "" || strings.ContainsAny(host, " \t/") {
		return fmt.Errorf("%q has no valid host", addr)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("%q: port must be 1..65535", addr)
	}
	return nil
}

// checkListen is CheckAddress allowing port 0 (a port the system picks).
func checkListen(addr string) error {
	if host, port, err := net.SplitHostPort(addr); err == nil && port == "0" && host != "" {
		return nil
	}
	return CheckAddress(addr)
}

// ParseHashOn splits a hash_on value: kind is "source_ip", "cookie" or
// "header", name the cookie or header name.
func ParseHashOn(s string) (kind, name string, err error) {
	if s == "source_ip" {
		return s, "", nil
	}
	kind, name, ok := strings.Cut(s, ":")
	if !ok || (kind != "cookie" && kind != "header") || name == "" {
		return "", "", fmt.Errorf("%q is not source_ip, cookie:<name> or header:<name>", s)
	}
	if !validCookieName(name) {
		return "", "", fmt.Errorf("%q is not a valid %s name", name, kind)
	}
	return kind, name, nil
}

func validCookieName(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("()<>@,;:\\\"/[]?={}", c) >= 0 {
			return false
		}
	}
	return true
}
