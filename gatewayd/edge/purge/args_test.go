package purge

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	kvclient "cairn.dev/cairn/raftkv/client"
)

// Bad arguments are refused before any raftkv call: the client here points
// at nothing.
func TestArgumentsRefused(t *testing.T) {
	kv, err := kvclient.New(kvclient.Config{Endpoints: []string{"127.0.0.1:1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer kv.Close()
	ctx := context.Background()
	apply := func(Record) int64 { return 0 }
	all := func() int64 { return 0 }
	for _, tc := range []struct {
		name string
		o    SubscriberOptions
		want string
	}{
		{"no kv", SubscriberOptions{Node: "n", Apply: apply, ApplyAll: all}, "KV is nil"},
		{"no node", SubscriberOptions{KV: kv, Apply: apply, ApplyAll: all}, "Node is empty"},
		{"bad node", SubscriberOptions{KV: kv, Node: "a/b", Apply: apply, ApplyAll: all}, "Node \"a/b\""},
		{"no apply", SubscriberOptions{KV: kv, Node: "n", ApplyAll: all}, "Apply is nil"},
		{"no apply all", SubscriberOptions{KV: kv, Node: "n", Apply: apply}, "ApplyAll is nil"},
		{"negative ttl", SubscriberOptions{KV: kv, Node: "n", Apply: apply, ApplyAll: all, LeaseTTL: -time.Second}, "LeaseTTL -1s must be >= 0"},
		{"bad prefix", SubscriberOptions{KV: kv, Node: "n", Apply: apply, ApplyAll: all, Prefix: "a\x00"}, "prefix \"a\\x00\" has a control character"},
	} {
		if _, err := NewSubscriber(tc.o); !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: NewSubscriber = %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, err := Publish(ctx, nil, "", Spec{URL: "/a"}, ""); !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "kv is nil") {
		t.Errorf("Publish(nil kv) = %v", err)
	}
	if _, err := Wait(ctx, nil, "", 1); !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "kv is nil") {
		t.Errorf("Wait(nil kv) = %v", err)
	}
	if _, err := Compact(ctx, nil, "", CompactOptions{}); !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "kv is nil") {
		t.Errorf("Compact(nil kv) = %v", err)
	}
	if _, err := Publish(ctx, kv, "", Spec{}, "me"); !errors.Is(err, ErrInvalidSpec) {
		t.Errorf("Publish(empty spec) = %v, want ErrInvalidSpec", err)
	}
	if _, err := Publish(ctx, kv, "", Spec{URL: "/a"}, strings.Repeat("b", MaxByBytes+1)); !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "by is 257 bytes, the limit is 256") {
		t.Errorf("Publish(long by) = %v", err)
	}
	if _, err := Wait(ctx, kv, "", 0); !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "seq 0 must be >= 1") {
		t.Errorf("Wait(0) = %v", err)
	}
	if _, err := Compact(ctx, kv, "", CompactOptions{Retention: -1}); !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "Retention") {
		t.Errorf("Compact(negative retention) = %v", err)
	}
	if _, err := Compact(ctx, kv, "", CompactOptions{MinKeep: -1}); !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "MinKeep -1 must be >= 0") {
		t.Errorf("Compact(negative MinKeep) = %v", err)
	}
}

// A state file that does not parse is ignored (start from zero), not fatal.
func TestNewSubscriberCorruptStateFile(t *testing.T) {
	kv, err := kvclient.New(kvclient.Config{Endpoints: []string{"127.0.0.1:1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer kv.Close()
	path := stateFile(t)
	if err := saveState(path, state{Seq: 9, Log: 3}); err != nil {
		t.Fatal(err)
	}
	o := SubscriberOptions{KV: kv, Node: "n", StateFile: path, Apply: func(Record) int64 { return 0 }, ApplyAll: func() int64 { return 0 }}
	s, err := NewSubscriber(o)
	if err != nil || s.LastApplied() != 9 {
		t.Fatalf("NewSubscriber = %v, LastApplied %d; want 9", err, s.LastApplied())
	}
	if err := writeFile(path, "{"); err != nil {
		t.Fatal(err)
	}
	s, err = NewSubscriber(o)
	if err != nil || s.LastApplied() != 0 {
		t.Fatalf("corrupt state: NewSubscriber = %v, LastApplied %d; want 0", err, s.LastApplied())
	}
}
