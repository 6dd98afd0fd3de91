package lbconfig

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"cairn.dev/cairn/node/yamldoc"
)

// MaxDocumentBytes bounds a configuration document.
const MaxDocumentBytes = 1 << 20

// Limits on a document's lists.
const (
	MaxFrontends = 64
	MaxPools     = 256
	MaxBackends  = 1024 // per pool, static ones
	MaxRoutes    = 256  // per frontend
)

// ErrInvalid is matched (errors.Is) by every error Parse and Validate return.
var ErrInvalid = errors.New("lbconfig: invalid document")

// Error is every problem found in a document, sorted by path.
type Error struct {
	Problems []yamldoc.Problem
}

// Error lists the problems, one per line.
func (e *Error) Error() string {
	if len(e.Problems) == 1 {
		return e.Problems[0].String()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d problems:", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n")
		b.WriteString(p.String())
	}
	return b.String()
}

// Is reports whether target is ErrInvalid.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

var decodeOptions = yamldoc.Options{MaxNodes: 1 << 18, MaxItems: MaxBackends, ListKnownFields: true}

// Parse reads a document, applies the defaults and validates it. The error,
// when not nil, is an *Error naming every problem by path and line.
func Parse(src []byte) (*Document, error) {
	if len(src) > MaxDocumentBytes {
		return nil, &Error{Problems: []yamldoc.Problem{{Message: fmt.Sprintf("document is %d bytes, the limit is %d", len(src), MaxDocumentBytes)}}}
	}
	d := &Document{}
	root, problems := yamldoc.Decode(src, d, decodeOptions)
	if len(problems) > 0 {
		return nil, &Error{Problems: problems}
	}
	d.SetDefaults()
	if problems := d.problems(); len(problems) > 0 {
		for i := range problems {
			if problems[i].Line == 0 && problems[i].Path != "" {
				problems[i].Line = yamldoc.LineOf(root, problems[i].Path)
			}
		}
		return nil, &Error{Problems: problems}
	}
	return d, nil
}

// Load reads and parses the document in path.
func Load(path string) (*Document, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("lbconfig: %w", err)
	}
	defer f.Close()
	src, err := io.ReadAll(io.LimitReader(f, MaxDocumentBytes+1))
	if err != nil {
		return nil, fmt.Errorf("lbconfig: %s: %w", path, err)
	}
	d, err := Parse(src)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}

// Validate reports the document's problems (without lines) as an *Error, or
// nil. Defaults must have been applied (Parse does).
func (d *Document) Validate() error {
	if p := d.problems(); len(p) > 0 {
		return &Error{Problems: p}
	}
	return nil
}

// Defaults of a pool's settings, applied by SetDefaults.
const (
	DefaultAlgorithm      = "round_robin"
	DefaultDrainTimeout   = 30 * time.Second
	DefaultConnectTimeout = 3 * time.Second
	DefaultQueueTimeout   = 3 * time.Second
	DefaultRetries        = 2
	DefaultTimeout        = 60 * time.Second
	DefaultMaxConns       = 10000
	DefaultIdleTimeout    = 5 * time.Minute
	DefaultUDPIdleTimeout = 30 * time.Second
)

// SetDefaults fills every unset field with its default.
func (d *Document) SetDefaults() {
	for i := range d.Frontends {
		f := &d.Frontends[i]
		if f.Mode == ModeHTTP && f.Pool == "" {
			f.Pool = f.DefaultPool
		}
		if f.TLS == "" {
			f.TLS = "none"
			if f.CertFile != "" {
				f.TLS = "files"
			}
		}
		if f.MaxConns == 0 {
			f.MaxConns = DefaultMaxConns
		}
		if f.IdleTimeout == 0 {
			f.IdleTimeout = DefaultIdleTimeout
			if f.Mode == ModeUDP {
				f.IdleTimeout = DefaultUDPIdleTimeout
			}
		}
		for j := range f.Routes {
			if f.Routes[j].PathPrefix == "" {
				f.Routes[j].PathPrefix = "/"
			}
		}
	}
	for i := range d.Pools {
		p := &d.Pools[i]
		if p.Algorithm == "" {
			p.Algorithm = DefaultAlgorithm
		}
		if p.HashOn == "" {
			p.HashOn = "source_ip"
		}
		for j := range p.Backends {
			if p.Backends[j].Weight == 0 {
				p.Backends[j].Weight = 1
			}
		}
		p.Health.setDefaults()
		p.Outlier.setDefaults()
		if p.DrainTimeout == 0 {
			p.DrainTimeout = DefaultDrainTimeout
		}
		if p.QueueTimeout == 0 {
			p.QueueTimeout = DefaultQueueTimeout
		}
		if p.ConnectTimeout == 0 {
			p.ConnectTimeout = DefaultConnectTimeout
		}
		if p.Retries == 0 {
			p.Retries = DefaultRetries
		}
		if p.Protocol == "" {
			p.Protocol = "http1"
		}
		if p.Timeout == 0 {
			p.Timeout = DefaultTimeout
		}
	}
}

func (h *Health) setDefaults() {
	if h.Type == "" {
		h.Type = CheckTCP
	}
	if h.Interval == 0 {
		h.Interval = 2 * time.Second
	}
	if h.Timeout == 0 {
		h.Timeout = min(time.Second, h.Interval)
	}
	if h.Rise == 0 {
		h.Rise = 2
	}
	if h.Fall == 0 {
		h.Fall = 3
	}
	if h.Jitter == 0 {
		h.Jitter = 0.1
	}
	if h.Type == CheckHTTP {
		if h.Path == "" {
			h.Path = "/"
		}
		if h.Method == "" {
			h.Method = "GET"
		}
		if h.Expect == "" {
			h.Expect = "200-399"
		}
	}
}

func (o *Outlier) setDefaults() {
	if o.ConsecutiveFailures == 0 {
		o.ConsecutiveFailures = 5
	}
	if o.Window == 0 {
		o.Window = 10 * time.Second
	}
	if o.MinRequests == 0 {
		o.MinRequests = 20
	}
	if o.BaseEjection == 0 {
		o.BaseEjection = 5 * time.Second
	}
	if o.MaxEjection == 0 {
		o.MaxEjection = 5 * time.Minute
	}
	if o.MaxEjectedPercent == 0 {
		o.MaxEjectedPercent = 50
	}
}
