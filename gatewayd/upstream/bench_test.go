package upstream

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/gatewayd/gwconfig"
)

// BenchmarkPick measures one Pick and its Release, sequential and parallel,
// for each balance over 3 and 16 targets, with breaker and outlier
// detection on.
func BenchmarkPick(b *testing.B) {
	for _, bal := range []string{"round_robin", "least_request", "random"} {
		for _, n := range []int{3, 16} {
			var addrs []string
			for i := range n {
				addrs = append(addrs, fmt.Sprintf("10.0.0.%d:80", i))
			}
			spec := gwconfig.Upstream{Name: "bench", Balance: bal, Targets: targets(addrs...),
				CircuitBreaker: &gwconfig.CircuitBreaker{ConsecutiveFailures: 5}, Outlier: &gwconfig.Outlier{}}
			p, err := New(spec, Options{})
			require.NoError(b, err)
			b.Run(fmt.Sprintf("%s/%d", bal, n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					_, rel, err := p.Pick("")
					if err != nil {
						b.Fatal(err)
					}
					rel(Result{Kind: KindSuccess})
				}
			})
			b.Run(fmt.Sprintf("%s/%d/parallel", bal, n), func(b *testing.B) {
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						_, rel, err := p.Pick("")
						if err != nil {
							b.Fatal(err)
						}
						rel(Result{Kind: KindSuccess})
					}
				})
			})
			p.Close()
		}
	}
}
