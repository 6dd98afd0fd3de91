package gatewaybench

import (
	"crypto/tls"
	"fmt"
	"net/url"
	"time"
)

// Scenario is the kind of request a run sends; see the package
// documentation.
type Scenario string

// The scenarios.
const (
	ScenarioPlain  Scenario = "plain"
	ScenarioAuth   Scenario = "auth"
	ScenarioCached Scenario = "cached"
)

// Scenarios lists every scenario, in the order the comparison runs them.
var Scenarios = []Scenario{ScenarioPlain, ScenarioAuth, ScenarioCached}

// Path is the request path of the scenario: the same for every proxy and for
// the upstream itself, which answers any path.
func (s Scenario) Path() string {
	switch s {
	case ScenarioAuth:
		return "/auth/plain"
	case ScenarioCached:
		return "/cache" + CacheablePath
	default:
		return "/plain"
	}
}

// ParseScenario returns the scenario named s.
func ParseScenario(s string) (Scenario, error) {
	for _, sc := range Scenarios {
		if string(sc) == s {
			return sc, nil
		}
	}
	return "", fmt.Errorf("gatewaybench: scenario %q: want plain, auth or cached", s)
}

// Config describes one run. Build it from DefaultConfig.
type Config struct {
	Scenario Scenario
	// URL is the base URL of the server under load ("http://127.0.0.1:8080"):
	// a gateway, another proxy, or the upstream itself. The scenario's path
	// is appended to its path.
	URL string
	// Host, when set, is sent as the Host header.
	Host string
	// TLS configures https URLs (nil: the system roots); the connections
	// speak HTTP/1.1 whatever its NextProtos say.
	TLS *tls.Config
	// Token is sent as `Authorization: Bearer <Token>` when set (the auth
	// scenario needs it; the others send it too when given).
	Token string
	// Conns is the number of keep-alive connections, each with one request
	// in flight at a time.
	Conns int
	// Warmup is run first and not measured; Duration is measured.
	Warmup, Duration time.Duration
	// RequestTimeout bounds each request.
	RequestTimeout time.Duration
}

// DefaultConfig returns the defaults of `cairn bench gateway`.
func DefaultConfig() Config {
	return Config{
		Scenario: ScenarioPlain, Conns: 50, Warmup: time.Second, Duration: 10 * time.Second,
		RequestTimeout: 5 * time.Second,
	}
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	if _, err := ParseScenario(string(c.Scenario)); err != nil {
		return err
	}
	u, err := url.Parse(c.URL)
	switch {
	case c.URL == "":
		return fmt.Errorf("gatewaybench: URL: required")
	case err != nil:
		return fmt.Errorf("gatewaybench: URL %q: %w", c.URL, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("gatewaybench: URL %q: want an http or https URL", c.URL)
	case u.Host == "":
		return fmt.Errorf("gatewaybench: URL %q: no host", c.URL)
	case c.Scenario == ScenarioAuth && c.Token == "":
		return fmt.Errorf("gatewaybench: Token: required by the auth scenario")
	case c.Conns < 1 || c.Conns > 10000:
		return fmt.Errorf("gatewaybench: Conns %d: must be in [1, 10000]", c.Conns)
	case c.Warmup < 0:
		return fmt.Errorf("gatewaybench: Warmup %v: must be >= 0", c.Warmup)
	case c.Duration <= 0:
		return fmt.Errorf("gatewaybench: Duration %v: must be > 0", c.Duration)
	case c.RequestTimeout <= 0:
		return fmt.Errorf("gatewaybench: RequestTimeout %v: must be > 0", c.RequestTimeout)
	}
	return nil
}

// target is the full URL of the scenario's requests.
func (c Config) target() (string, error) {
	u, err := url.Parse(c.URL)
	if err != nil {
		return "", err
	}
	u.Path = trimSlash(u.Path) + c.Scenario.Path()
	return u.String(), nil
}

func trimSlash(p string) string {
	for len(p) > 0 && p[len(p)-1] == '/' {
		p = p[:len(p)-1]
	}
	return p
}
