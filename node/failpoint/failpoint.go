package failpoint

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// EnvVar names the environment variable read by ArmFromEnv.
const EnvVar = "CAIRN_FAILPOINTS"

// ErrBadTerm means a term does not parse.
var ErrBadTerm = errors.New("failpoint: bad term")

// Kind is what an armed point does.
type Kind int

// The kinds of action.
const (
	// Off does nothing.
	Off Kind = iota
	// Panic panics with a message naming the point.
	Panic
	// Exit ends the process at once with status 3, like a power cut for the
	// process (no deferred functions, no flushing).
	Exit
	// Delay sleeps for the term's duration.
	Delay
)

// Term is a parsed failpoint term: "[<pct>%][<count>*]<action>[(<arg>)]", where the
// action is off, panic, exit or delay(<duration>). pct is the chance that a pass
// through the point fires (default 100); count caps how many times it fires
// (default unlimited). Examples: "panic", "25%exit", "1*panic", "delay(200ms)".
type Term struct {
	Kind    Kind
	Percent float64
	Count   int64 // 0 = unlimited
	Delay   time.Duration
	raw     string
}

func (t Term) String() string { return t.raw }

// ParseTerm parses a term.
func ParseTerm(s string) (Term, error) {
	raw := strings.TrimSpace(s)
	t := Term{Percent: 100, raw: raw}
	rest := raw
	if i := strings.Index(rest, "%"); i >= 0 {
		p, err := strconv.ParseFloat(rest[:i], 64)
		if err != nil || p < 0 || p > 100 {
			return Term{}, fmt.Errorf("%w %q: percent must be in [0, 100]", ErrBadTerm, s)
		}
		t.Percent, rest = p, rest[i+1:]
	}
	if i := strings.Index(rest, "*"); i >= 0 {
		n, err := strconv.ParseInt(rest[:i], 10, 64)
		if err != nil || n < 1 {
			return Term{}, fmt.Errorf("%w %q: count must be a positive integer", ErrBadTerm, s)
		}
		t.Count, rest = n, rest[i+1:]
	}
	name, arg, hasArg := strings.Cut(rest, "(")
	if hasArg {
		if !strings.HasSuffix(arg, ")") {
			return Term{}, fmt.Errorf("%w %q: missing ')'", ErrBadTerm, s)
		}
		arg = strings.TrimSuffix(arg, ")")
	}
	switch name {
	case "off":
		t.Kind = Off
	case "panic":
		t.Kind = Panic
	case "exit":
		t.Kind = Exit
	case "delay", "sleep":
		d, err := time.ParseDuration(arg)
		if err != nil || d < 0 {
			return Term{}, fmt.Errorf("%w %q: delay needs a duration, e.g. delay(100ms)", ErrBadTerm, s)
		}
		t.Kind, t.Delay = Delay, d
	default:
		return Term{}, fmt.Errorf("%w %q: action must be off, panic, exit or delay(<duration>)", ErrBadTerm, s)
	}
	if hasArg && t.Kind != Delay {
		return Term{}, fmt.Errorf("%w %q: %s takes no argument", ErrBadTerm, s, name)
	}
	return t, nil
}

type point struct {
	term  Term
	fired atomic.Int64
}

// registry is the process-wide table of armed points. Failpoints are a test
// facility that is process-wide by nature (the code marking a point has no handle
// to pass), which is why this one table is global.
var registry = struct {
	mu     sync.RWMutex // protects points
	points map[string]*point
	armed  atomic.Bool // fast path: any point armed
}{points: map[string]*point{}}

// Arm arms (or re-arms) a point with a term. Arming with "off" disarms it.
func Arm(name, term string) error {
	if name == "" {
		return fmt.Errorf("%w: empty point name", ErrBadTerm)
	}
	t, err := ParseTerm(term)
	if err != nil {
		return err
	}
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if t.Kind == Off {
		delete(registry.points, name)
	} else {
		registry.points[name] = &point{term: t}
	}
	registry.armed.Store(len(registry.points) > 0)
	return nil
}

// Disarm disarms a point.
func Disarm(name string) {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	delete(registry.points, name)
	registry.armed.Store(len(registry.points) > 0)
}

// List returns the armed points and their terms.
func List() map[string]string {
	registry.mu.RLock()
	defer registry.mu.RUnlock()
	out := make(map[string]string, len(registry.points))
	for name, p := range registry.points {
		out[name] = p.term.String()
	}
	return out
}

// ArmFromEnv arms the points listed in $CAIRN_FAILPOINTS ("name=term;name=term").
func ArmFromEnv() error {
	return ArmAll(os.Getenv(EnvVar))
}

// ArmAll arms the points listed in spec ("name=term;name=term").
func ArmAll(spec string) error {
	for _, part := range strings.Split(spec, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, term, ok := strings.Cut(part, "=")
		if !ok {
			return fmt.Errorf("%w %q: want name=term", ErrBadTerm, part)
		}
		if err := Arm(strings.TrimSpace(name), term); err != nil {
			return err
		}
	}
	return nil
}

// eval runs the action armed at name, if any. Only Inject in failpoint builds calls it.
func eval(name string) {
	if !registry.armed.Load() {
		return
	}
	registry.mu.RLock()
	p := registry.points[name]
	registry.mu.RUnlock()
	if p == nil {
		return
	}
	if p.term.Percent < 100 && rand.Float64()*100 >= p.term.Percent {
		return
	}
	if n := p.fired.Add(1); p.term.Count > 0 && n > p.term.Count {
		return
	}
	switch p.term.Kind {
	case Panic:
		panic("failpoint " + name + " fired")
	case Exit:
		fmt.Fprintf(os.Stderr, "failpoint %s fired: exiting\n", name)
		os.Exit(3)
	case Delay:
		time.Sleep(p.term.Delay)
	}
}

// Handler serves the failpoint table: GET lists "name=term" lines, PUT
// /<prefix>/<name> arms with the request body as term, DELETE disarms. Mount it
// with http.StripPrefix.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.Trim(r.URL.Path, "/")
		switch r.Method {
		case http.MethodGet:
			list := List()
			names := make([]string, 0, len(list))
			for n := range list {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				fmt.Fprintf(w, "%s=%s\n", n, list[n])
			}
		case http.MethodPut, http.MethodPost:
			body, err := io.ReadAll(io.LimitReader(r.Body, 1024))
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			if err := Arm(name, string(body)); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			fmt.Fprintf(w, "%s=%s\n", name, strings.TrimSpace(string(body)))
		case http.MethodDelete:
			Disarm(name)
			w.WriteHeader(http.StatusNoContent)
		default:
			http.Error(w, "use GET, PUT or DELETE", http.StatusMethodNotAllowed)
		}
	})
}
