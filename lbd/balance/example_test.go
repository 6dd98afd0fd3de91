package balance_test

import (
	"fmt"
	"net/netip"
	"time"

	"cairn.dev/cairn/lbd/balance"
)

func Example() {
	alg, err := balance.ParseAlgorithm("weighted_round_robin")
	if err != nil {
		fmt.Println(err)
		return
	}
	backends := []*balance.Backend{
		balance.NewBackend("app-1", "10.0.0.1:8080", 3),
		balance.NewBackend("app-2", "10.0.0.2:8080", 1),
	}
	picker, err := balance.New(alg, backends, balance.Options{Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	for range 4 {
		b := picker.Pick(0, nil)
		b.Begin()
		fmt.Println(b.Name, b.Addr)
		b.End(2 * time.Millisecond)
	}
	// A retry rejects the backends already tried.
	tried := func(b *balance.Backend) bool { return b.Name == "app-1" }
	fmt.Println("retry:", picker.Pick(0, tried).Name)
	// Output:
	// app-1 10.0.0.1:8080
	// app-1 10.0.0.1:8080
	// app-2 10.0.0.2:8080
	// app-1 10.0.0.1:8080
	// retry: app-2
}

func ExampleHashKey() {
	alg, _ := balance.ParseAlgorithm("ip_hash") // maglev over the source address
	backends := []*balance.Backend{
		balance.NewBackend("app-1", "10.0.0.1:8080", 1),
		balance.NewBackend("app-2", "10.0.0.2:8080", 1),
		balance.NewBackend("app-3", "10.0.0.3:8080", 1),
	}
	picker, _ := balance.New(alg, backends, balance.Options{})
	client := netip.MustParseAddr("192.0.2.7")
	key := balance.HashKey(client.AsSlice())
	first := picker.Pick(key, nil)
	// The same client maps to the same backend on every pick, node and run.
	fmt.Println(alg, picker.Pick(key, nil) == first)
	// Output: maglev true
}
