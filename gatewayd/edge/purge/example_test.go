package purge_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"cairn.dev/cairn/gatewayd/edge/purge"
	kvclient "cairn.dev/cairn/raftkv/client"
)

// An edge node subscribes; a publisher purges a tag everywhere and waits.
func Example() {
	kv, err := kvclient.New(kvclient.Config{Endpoints: []string{"127.0.0.1:7001"}})
	if err != nil {
		log.Fatal(err)
	}
	defer kv.Close()
	ctx := context.Background()

	// On every edge node:
	sub, err := purge.NewSubscriber(purge.SubscriberOptions{
		KV:        kv,
		Node:      "edge-1",
		StateFile: "/var/lib/cairn/edge-1/purge.state",
		Apply: func(r purge.Record) int64 {
			// e.g. cache.PurgeTag(r.Spec.Tag, r.Spec.Soft)
			return 0
		},
		ApplyAll: func() int64 { return 0 /* cache.PurgeAll() */ },
	})
	if err != nil {
		log.Fatal(err)
	}
	go func() { _ = sub.Run(ctx) }()

	// On the publisher:
	rec, err := purge.Publish(ctx, kv, purge.DefaultPrefix, purge.Spec{Tag: "product-42"}, "admin")
	if err != nil {
		log.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	res, err := purge.Wait(wctx, kv, purge.DefaultPrefix, rec.Seq)
	fmt.Println(rec.Seq, res.Applied, res.Pending, res.Removed, err)
}
