package chaos

import (
	"context"
	"fmt"
)

// maxViolations caps the violations a verdict lists; the count stays exact.
const maxViolations = 50

// Checker judges a run after its workloads stopped (and, where the scenario says
// so, after a full restart of the cluster). The daemon packages implement it;
// Run calls the checkers of a scenario one after the other.
type Checker interface {
	// Name names the checker in the report.
	Name() string
	// Check returns the verdict. It may read the cluster through env.
	Check(ctx context.Context, env *Env) Verdict
}

// Verdict is one checker's conclusion. It passes when Err is empty and there
// are no violations.
type Verdict struct {
	Checker string `json:"checker"`
	// Summary says what was checked, for the report.
	Summary string `json:"summary"`
	// Violations lists what broke the checked property (at most maxViolations;
	// Count has the total).
	Violations []string `json:"violations,omitempty"`
	Count      int      `json:"violation_count"`
	// Err is why the checker could not decide; it fails the run.
	Err string `json:"err,omitempty"`
}

// Pass reports whether the verdict is a pass.
func (v Verdict) Pass() bool { return v.Err == "" && v.Count == 0 }

// Violate records a violation of the checked property: it counts it, and
// lists it while fewer than maxViolations are listed. Checkers call it from
// one goroutine.
func (v *Verdict) Violate(format string, args ...any) {
	v.Count++
	if len(v.Violations) < maxViolations {
		v.Violations = append(v.Violations, fmt.Sprintf(format, args...))
	}
}
