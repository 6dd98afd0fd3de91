package blobbench

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Op is one measured operation.
type Op string

// The operations, measured in this order for each size.
const (
	// OpPut writes new objects.
	OpPut Op = "put"
	// OpGet reads the objects written back, checking their content.
	OpGet Op = "get"
)

// Target is the API the clients speak.
type Target string

// The targets.
const (
	// TargetS3 speaks S3 to any S3 server.
	TargetS3 Target = "s3"
	// TargetGRPC speaks blobd's own gRPC API (cairn.blobd.v1) through its
	// Go client.
	TargetGRPC Target = "grpc"
)

// Config describes one run. Build it from DefaultConfig.
type Config struct {
	// Target is the API: s3 (default) or grpc (blobd's own).
	Target Target
	// Endpoints are, for s3, servers' URLs, http://host:port or
	// https://host:port (no path), serving the same store: client i sends
	// its requests to Endpoints[i % len(Endpoints)], path-style
	// (endpoint/bucket/key). For grpc they are blobd nodes' host:port
	// addresses, which every client's blobd client spreads its transfers
	// over.
	Endpoints []string
	// Region is the region S3 requests are signed for.
	Region string
	// AccessKey and SecretKey are the static credentials S3 requests are
	// signed with.
	AccessKey, SecretKey string
	// TLS configures https endpoints (e.g. RootCAs holding a private CA;
	// nil uses the system's roots, and it is ignored for http endpoints),
	// or for grpc the connections (a client certificate for blobd's mutual
	// TLS; nil means plaintext).
	TLS *tls.Config
	// Bucket receives the run's objects. It is created when missing and
	// then removed at the end of the run (unless Keep).
	Bucket string
	// Prefix starts every object key of the run; DefaultConfig makes it
	// unique, so that runs sharing a bucket do not read each other's
	// objects.
	Prefix string
	// Sizes are the object sizes in bytes, measured one after another.
	Sizes []int64
	// Ops are the operations measured for each size, a subset of put and
	// get; with get alone the objects are written first, unmeasured.
	Ops []Op
	// Clients is the number of concurrent clients, each with its own HTTP
	// connection and one request in flight.
	Clients int
	// Count, when positive, is the number of objects each op handles per
	// size; otherwise each op runs for Duration (requests in flight when it
	// ends complete and count).
	Count int
	// Duration is the length of each op per size when Count is 0.
	Duration time.Duration
	// MaxObjects bounds the objects written per size in a Duration run
	// (and so the client's memory and the server's disk).
	MaxObjects int
	// RequestTimeout bounds each request, its body included.
	RequestTimeout time.Duration
	// SignPayload signs the SHA-256 of every PUT body instead of sending
	// UNSIGNED-PAYLOAD.
	SignPayload bool
	// Keep leaves the run's objects (and a bucket it created) in place.
	Keep bool
	// Seed seeds the object contents and the order of the reads.
	Seed uint64
}

// DefaultConfig returns the defaults of `cairn bench blob`: 4 KiB, 1 MiB
// and 64 MiB objects, put then get, 4 clients, 10 seconds per op and size.
func DefaultConfig() Config {
	now := time.Now().UnixNano()
	return Config{
		Region:         "us-east-1",
		Target:         TargetS3,
		Bucket:         "cairn-blobbench",
		Prefix:         fmt.Sprintf("run-%x", now),
		Sizes:          []int64{4 << 10, 1 << 20, 64 << 20},
		Ops:            []Op{OpPut, OpGet},
		Clients:        4,
		Duration:       10 * time.Second,
		MaxObjects:     100_000,
		RequestTimeout: 2 * time.Minute,
		Seed:           uint64(now),
	}
}

// maxSize bounds an object: one PUT (S3 allows 5 GiB; every client holds
// its size in memory once per size).
const maxSize = 1 << 30

// Validate reports the first invalid field.
func (c Config) Validate() error {
	if c.Target != TargetS3 && c.Target != TargetGRPC {
		return fmt.Errorf("blobbench: Target %q: want s3 or grpc", c.Target)
	}
	if len(c.Endpoints) == 0 {
		return errors.New("blobbench: Endpoints: need at least one")
	}
	for _, ep := range c.Endpoints {
		if err := validEndpoint(c.Target, ep); err != nil {
			return err
		}
	}
	s3 := c.Target == TargetS3
	switch {
	case s3 && c.Region == "":
		return errors.New("blobbench: Region: must not be empty")
	case s3 && (c.AccessKey == "" || c.SecretKey == ""):
		return errors.New("blobbench: AccessKey/SecretKey: both are needed")
	case !validBucket(c.Bucket):
		return fmt.Errorf("blobbench: Bucket %q: want 3 to 63 characters of a-z, 0-9, '.' and '-', starting and ending with a letter or digit", c.Bucket)
	case c.Prefix == "" || len(c.Prefix) > 200 || strings.HasPrefix(c.Prefix, "/"):
		return fmt.Errorf("blobbench: Prefix %q: want 1 to 200 bytes, not starting with '/'", c.Prefix)
	case len(c.Sizes) == 0:
		return errors.New("blobbench: Sizes: need at least one")
	case len(c.Ops) == 0:
		return errors.New("blobbench: Ops: need put, get or both")
	case c.Clients < 1 || c.Clients > 1000:
		return fmt.Errorf("blobbench: Clients %d: must be in [1, 1000]", c.Clients)
	case c.Count < 0 || c.Count > 10_000_000:
		return fmt.Errorf("blobbench: Count %d: must be in [0, 10000000] (0: run for Duration)", c.Count)
	case c.Count == 0 && c.Duration <= 0:
		return fmt.Errorf("blobbench: Duration %v: must be > 0 when Count is 0", c.Duration)
	case c.Count == 0 && (c.MaxObjects < 1 || c.MaxObjects > 10_000_000):
		return fmt.Errorf("blobbench: MaxObjects %d: must be in [1, 10000000]", c.MaxObjects)
	case c.RequestTimeout <= 0:
		return fmt.Errorf("blobbench: RequestTimeout %v: must be > 0", c.RequestTimeout)
	}
	for _, s := range c.Sizes {
		if s < 1 || s > maxSize {
			return fmt.Errorf("blobbench: Sizes: %d bytes: must be in [1, %d]", s, maxSize)
		}
	}
	seen := map[Op]bool{}
	for _, op := range c.Ops {
		if op != OpPut && op != OpGet {
			return fmt.Errorf("blobbench: Ops: %q: want put or get", op)
		}
		if seen[op] {
			return fmt.Errorf("blobbench: Ops: %q twice", op)
		}
		seen[op] = true
	}
	return nil
}

func validEndpoint(target Target, ep string) error {
	if target == TargetGRPC {
		if _, port, err := net.SplitHostPort(ep); err != nil || port == "" {
			return fmt.Errorf("blobbench: Endpoints: %q: want host:port", ep)
		}
		return nil
	}
	u, err := url.Parse(ep)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return fmt.Errorf("blobbench: Endpoints: %q: want http://host:port or https://host:port", ep)
	}
	return nil
}

// validBucket applies S3's bucket naming rules (without the IP address
// form), which both blobd and SeaweedFS accept.
func validBucket(b string) bool {
	if len(b) < 3 || len(b) > 63 {
		return false
	}
	for i, r := range b {
		alnum := (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9')
		if !alnum && !((r == '-' || r == '.') && i > 0 && i < len(b)-1) {
			return false
		}
	}
	return !strings.Contains(b, "..")
}

// has reports whether op is among c.Ops.
func (c Config) has(op Op) bool {
	for _, o := range c.Ops {
		if o == op {
			return true
		}
	}
	return false
}

// ParseSize parses an object size: a number of bytes with an optional
// binary suffix (K/KiB, M/MiB, G/GiB, case-insensitive, B optional), e.g.
// "4KiB", "1M", "64mib", "100".
func ParseSize(s string) (int64, error) {
	m := sizeRE.FindStringSubmatch(strings.ToUpper(strings.TrimSpace(s)))
	var n int64
	var err error
	if m == nil {
		err = errors.New("syntax")
	} else {
		n, err = strconv.ParseInt(m[1], 10, 64)
	}
	mult := map[string]int64{"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
	if err == nil {
		mult1 := mult[strings.TrimSuffix(m[2], "I")]
		if n < 1 || n > maxSize/mult1 {
			err = errors.New("range")
		}
		n *= mult1
	}
	if err != nil {
		return 0, fmt.Errorf("object size %q: want a positive number of bytes with an optional K, M or G (binary) suffix, at most 1G", s)
	}
	return n, nil
}

// sizeRE matches an upper-cased size: digits, then optionally K, M or G
// with an optional I, then an optional B.
var sizeRE = regexp.MustCompile(`^([0-9]+) ?((?:K|M|G)I?)?B?$`)

// FormatSize writes a size the way ParseSize reads it: 4KiB, 1MiB, 64MiB,
// or bytes when it is not a whole number of KiB.
func FormatSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%dGiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}
