package gwconfig

import (
	"testing"
	"time"
)

func TestFingerprint(t *testing.T) {
	a, err := Parse([]byte("upstreams: [{name: u, targets: [{address: \"h:1\"}]}]"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Parse([]byte("upstreams: [{name: u, protocol: http, balance: round_robin, targets: [{address: \"h:1\", weight: 1}], timeouts: {connect: 2s}}]"))
	if err != nil {
		t.Fatal(err)
	}
	fa, fb := Fingerprint(a.Upstreams[0]), Fingerprint(b.Upstreams[0])
	if fa != fb {
		t.Errorf("defaults spelled out change the fingerprint: %s vs %s", fa, fb)
	}
	if len(fa) != 32 {
		t.Errorf("fingerprint %q is not 32 hex digits", fa)
	}
	if Fingerprint(a.Upstreams[0]) != fa {
		t.Error("fingerprint is not stable")
	}
	changes := []func(u *Upstream){
		func(u *Upstream) { u.Name = "v" },
		func(u *Upstream) { u.Targets[0].Weight = 2 },
		func(u *Upstream) { u.Targets = append(u.Targets, Target{Address: "h:2", Weight: 1}) },
		func(u *Upstream) { u.Timeouts.Idle = time.Second },
		func(u *Upstream) { u.Retries.On = append(u.Retries.On, "reset") },
		func(u *Upstream) { u.TLS = &TLS{} },
		func(u *Upstream) { u.CircuitBreaker = &CircuitBreaker{} },
		func(u *Upstream) { u.Outlier = &Outlier{MaxEjectedPercent: 1} },
	}
	seen := map[string]int{fa: -1}
	for i, change := range changes {
		d, _ := Parse([]byte("upstreams: [{name: u, targets: [{address: \"h:1\"}]}]"))
		u := d.Upstreams[0]
		change(&u)
		f := Fingerprint(u)
		if j, dup := seen[f]; dup {
			t.Errorf("change %d has the fingerprint of change %d", i, j)
		}
		seen[f] = i
	}
}
