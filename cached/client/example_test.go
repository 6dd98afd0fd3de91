package client_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"cairn.dev/cairn/cached/client"
	kvclient "cairn.dev/cairn/raftkv/client"
)

// Example puts cached in front of raftkv: raftkv is the database (the system
// of record), cached the cache. Reads are cache-aside with request
// coalescing; writes go to raftkv first, then to the cache.
func Example() {
	ctx := context.Background()
	db, err := kvclient.New(kvclient.Config{Endpoints: []string{"127.0.0.1:7000"}})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	cache, err := client.New(client.Config{Endpoints: []string{"127.0.0.1:7200"}})
	if err != nil {
		log.Fatal(err)
	}
	defer cache.Close()

	users := &client.WriteThrough{Cache: cache, Store: client.RaftKVStore{KV: db, Prefix: "users/"}, TTL: time.Hour}
	if err := users.Set(ctx, "123", []byte(`{"name":"John"}`)); err != nil {
		log.Fatal(err)
	}
	val, ok, err := users.Get(ctx, "123")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ok, string(val))

	// Write-behind: the cache at once, raftkv in batches.
	wb, err := client.NewWriteBehind(cache, client.RaftKVStore{KV: db, Prefix: "sessions/"},
		client.WriteBehindConfig{QueueSize: 10000, BatchSize: 100, FlushInterval: 50 * time.Millisecond, TTL: 30 * time.Minute})
	if err != nil {
		log.Fatal(err)
	}
	_ = wb.Set(ctx, "abc", []byte("user=123"))
	if err := wb.Close(ctx); err != nil { // saves what is queued
		log.Fatal(err)
	}
}
