package registry_test

import (
	"context"
	"fmt"

	"cairn.dev/cairn/node/registry"
)

// A consumer depends on registry.Watcher; Static stands in for the raftkv
// Resolver here. Instances arrive sorted by ID.
func ExampleWatcher() {
	var w registry.Watcher = registry.Static{"orders": {
		{ID: "orders-2", Address: "10.0.0.2:8080", Weight: 1},
		{ID: "orders-1", Address: "10.0.0.1:8080", Weight: 2},
	}}
	stop := w.Watch(context.Background(), "orders", func(list []registry.Instance) {
		for _, in := range list {
			fmt.Println(in.ID, in.Address, in.Weight)
		}
	})
	defer stop()
	// Output:
	// orders-1 10.0.0.1:8080 2
	// orders-2 10.0.0.2:8080 1
}
