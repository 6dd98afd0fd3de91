package upstream_test

import (
	"fmt"

	"cairn.dev/cairn/gatewayd/gwconfig"
	"cairn.dev/cairn/gatewayd/upstream"
)

// A static upstream balanced by smooth weighted round robin: over every five
// picks, a gets three and b two, interleaved.
func Example() {
	pool, err := upstream.New(gwconfig.Upstream{
		Name: "api",
		Targets: []gwconfig.Target{
			{Address: "10.0.0.1:8080", Weight: 3},
			{Address: "10.0.0.2:8080", Weight: 2},
		},
	}, upstream.Options{})
	if err != nil {
		fmt.Println(err) // ErrInvalidSpec
		return
	}
	defer pool.Close()
	for range 5 {
		target, release, err := pool.Pick("")
		if err != nil {
			fmt.Println(err) // ErrCircuitOpen or ErrNoTargets: the route's fallback
			continue
		}
		fmt.Println(target.Address)
		release(upstream.Result{Kind: upstream.KindSuccess})
	}
	// Output:
	// 10.0.0.1:8080
	// 10.0.0.2:8080
	// 10.0.0.1:8080
	// 10.0.0.2:8080
	// 10.0.0.1:8080
}
