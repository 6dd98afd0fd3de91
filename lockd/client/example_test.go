package client_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"cairn.dev/cairn/lockd/client"
)

// A stalled holder's late write is refused by the resource, which remembers
// the highest fencing token it has accepted. (With raftkv as the resource, do
// the same check and write atomically in a Txn: see ValidateToken.)
func ExampleFence() {
	var stock client.Fence // kept by the resource, beside the data
	write := func(who string, token uint64) {
		if err := stock.Check(token); errors.Is(err, client.ErrStaleToken) {
			fmt.Printf("%s (token %d): refused, a newer holder wrote\n", who, token)
			return
		}
		fmt.Printf("%s (token %d): sold the last item\n", who, token)
	}
	// Server A holds the lock with token 12, then stalls past its session TTL;
	// the lock is granted to server B with token 17, which sells the item.
	write("B", 17)
	// A wakes up and tries to sell the same item.
	write("A", 12)
	// Output:
	// B (token 17): sold the last item
	// A (token 12): refused, a newer holder wrote
}

func ExampleClient_WithLock() {
	c, err := client.New(client.Config{Endpoints: []string{"127.0.0.1:7100", "127.0.0.1:7102", "127.0.0.1:7104"}})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = c.WithLock(ctx, "stock/item-42", []byte("web-3"), 10*time.Second, func(ctx context.Context, token uint64) error {
		// Do the work; send token with every write to the protected store, and
		// stop when ctx is cancelled (the session was lost).
		return nil
	})
	if err != nil {
		fmt.Println("lock:", err)
	}
}
