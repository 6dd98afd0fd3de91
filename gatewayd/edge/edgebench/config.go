package edgebench

import (
	"crypto/tls"
	"fmt"
	"math"
	"net/url"
	"strings"
	"time"
)

// Config describes one run. Build it from DefaultConfig.
type Config struct {
	// Targets are the base URLs of the caches under load
	// ("http://127.0.0.1:6081"); workers are spread round-robin over them.
	Targets []string
	// Host, when set, is sent as the Host header.
	Host string
	// TLS configures https targets (nil: the system roots); connections
	// speak HTTP/1.1.
	TLS *tls.Config
	// PathPrefix goes before every object path ("" or "/name", no trailing
	// slash): a new prefix is a key space no cache has seen.
	PathPrefix string
	// Objects is the number of distinct objects; Zipf the exponent of their
	// popularity (0: uniform).
	Objects int
	Zipf    float64
	// Sizes is the size mix (ParseSizes).
	Sizes []SizeClass
	// Concurrency is the number of workers, each with one keep-alive
	// connection and one request in flight.
	Concurrency int
	// Warmup is run first and not measured; Duration is measured. Storm
	// mode uses neither.
	Warmup, Duration time.Duration
	// RequestTimeout bounds each request.
	RequestTimeout time.Duration
	// Seed seeds every worker's object choices (worker i uses Seed and i).
	Seed uint64
	// OriginStats, when set, is the origin's stats URL
	// ("http://127.0.0.1:8080/stats"): its request count before and after
	// the measured phase gives Result.Origin: exact with Warmup 0 (read
	// before the first request), else read while the warmup's last requests
	// are in flight, so off by at most Concurrency.
	OriginStats string
	// Storm, when set, replaces the timed load: every worker connects, then
	// all send one request for object StormObject at the same instant.
	Storm       bool
	StormObject int
}

// DefaultConfig returns the defaults of `cairn bench edge`.
func DefaultConfig() Config {
	return Config{
		Objects: 100_000, Zipf: 0.99, Sizes: []SizeClass{{Bytes: 1 << 10, Weight: 1}},
		Concurrency: 32, Warmup: 2 * time.Second, Duration: 10 * time.Second,
		RequestTimeout: 10 * time.Second, Seed: 1,
	}
}

// maxConcurrency bounds Config.Concurrency.
const maxConcurrency = 10_000

// Validate reports the first invalid field.
func (c Config) Validate() error {
	if len(c.Targets) == 0 {
		return fmt.Errorf("edgebench: targets: at least one target URL is required")
	}
	for _, t := range c.Targets {
		if err := checkURL("target", t); err != nil {
			return err
		}
	}
	if c.OriginStats != "" {
		if err := checkURL("origin stats", c.OriginStats); err != nil {
			return err
		}
	}
	if len(c.Sizes) == 0 || len(c.Sizes) > maxClasses {
		return fmt.Errorf("edgebench: sizes: %d classes, want 1 to %d", len(c.Sizes), maxClasses)
	}
	for i, s := range c.Sizes {
		if s.Bytes < 1 || s.Bytes > maxObjectSize || s.Weight < 1 || s.Weight > maxWeight {
			return fmt.Errorf("edgebench: sizes[%d]: %d bytes weight %d: want bytes in [1, %d] and weight in [1, %d]",
				i, s.Bytes, s.Weight, maxObjectSize, maxWeight)
		}
	}
	switch {
	case c.PathPrefix != "" && (!strings.HasPrefix(c.PathPrefix, "/") || strings.HasSuffix(c.PathPrefix, "/") ||
		strings.ContainsAny(c.PathPrefix, "?# ")):
		return fmt.Errorf("edgebench: path prefix %q: want \"\" or /name without a trailing slash, '?', '#' or spaces", c.PathPrefix)
	case c.Objects < 1 || c.Objects > maxObjects:
		return fmt.Errorf("edgebench: objects %d: must be in [1, %d]", c.Objects, maxObjects)
	case math.IsNaN(c.Zipf) || c.Zipf < 0 || c.Zipf > 10:
		return fmt.Errorf("edgebench: zipf %v: must be in [0, 10]", c.Zipf)
	case c.Concurrency < 1 || c.Concurrency > maxConcurrency:
		return fmt.Errorf("edgebench: concurrency %d: must be in [1, %d]", c.Concurrency, maxConcurrency)
	case c.Warmup < 0:
		return fmt.Errorf("edgebench: warmup %v: must be >= 0", c.Warmup)
	case !c.Storm && c.Duration <= 0:
		return fmt.Errorf("edgebench: duration %v: must be > 0", c.Duration)
	case c.RequestTimeout <= 0:
		return fmt.Errorf("edgebench: request timeout %v: must be > 0", c.RequestTimeout)
	case c.StormObject < 0 || c.StormObject >= c.Objects:
		return fmt.Errorf("edgebench: storm object %d: must be in [0, objects-1 = %d]", c.StormObject, c.Objects-1)
	}
	return nil
}

// checkURL accepts an absolute http or https URL.
func checkURL(what, s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return fmt.Errorf("edgebench: %s %q: %w", what, s, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("edgebench: %s %q: want an http or https URL", what, s)
	case u.Host == "":
		return fmt.Errorf("edgebench: %s %q: no host", what, s)
	case u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("edgebench: %s %q: no query or fragment allowed", what, s)
	}
	return nil
}
