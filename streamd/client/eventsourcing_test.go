package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	streamdv1 "cairn.dev/cairn/proto/cairn/streamd/v1"
	"cairn.dev/cairn/streamd/client"
	"cairn.dev/cairn/streamd/streamdtest"
)

// event is one change to a bank account, as docs/streamd.md's example
// stores it.
type event struct {
	Kind   string `json:"kind"` // "deposit" or "withdrawal"
	Amount int64  `json:"amount"`
}

// account is the state rebuilt from the events.
type account struct {
	balance int64
	next    int64 // the offset the next event must be appended at
}

// replay folds the account's events from offset 0 up to (not including)
// until, or to the end when until < 0.
func replay(ctx context.Context, t *testing.T, cli *client.Client, topic string, until int64) account {
	t.Helper()
	var a account
	for {
		f, err := cli.Fetch(ctx, topic, 0, a.next, client.FetchOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range f.Records {
			if until >= 0 && r.Offset >= until {
				return a
			}
			var e event
			if err := json.Unmarshal(r.Value, &e); err != nil {
				t.Fatal(err)
			}
			switch e.Kind {
			case "deposit":
				a.balance += e.Amount
			case "withdrawal":
				a.balance -= e.Amount
			}
			a.next = r.Offset + 1
		}
		if len(f.Records) == 0 || a.next >= f.HighWatermark {
			return a
		}
	}
}

// appendEvent appends e at the account's next offset, or fails with
// ErrOffsetMismatch when another writer got there first.
func appendEvent(ctx context.Context, cli *client.Client, topic string, a account, e event, at time.Time) error {
	b, _ := json.Marshal(e)
	zero := int32(0)
	_, err := cli.Produce(ctx, topic, []client.Record{{Value: b, Timestamp: at}}, client.ProduceOptions{Partition: &zero, ExpectedOffset: &a.next})
	return err
}

// TestEventSourcedBankAccount is docs/streamd.md's worked example: an
// account's deposits and withdrawals appended with expected offsets
// (optimistic concurrency), its balance rebuilt by replay, and its balance
// at a past time.
func TestEventSourcedBankAccount(t *testing.T) {
	c := streamdtest.New(t, 3, nil)
	cli, err := client.New(client.Config{Endpoints: c.Endpoints()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx := context.Background()
	const topic = "account-42"
	if _, err := cli.CreateTopic(ctx, &streamdv1.CreateTopicRequest{Name: topic, Partitions: 1, Replication: 3}); err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	history := []event{{"deposit", 100}, {"withdrawal", 30}, {"deposit", 50}, {"withdrawal", 20}}
	for i, e := range history {
		a := replay(ctx, t, cli, topic, -1)
		if err := appendEvent(ctx, cli, topic, a, e, base.Add(time.Duration(i)*time.Hour)); err != nil {
			t.Fatalf("append %v: %v", e, err)
		}
	}
	// Two writers decide on the same state; the second append is refused.
	a := replay(ctx, t, cli, topic, -1)
	if err := appendEvent(ctx, cli, topic, a, event{"withdrawal", 90}, base.Add(4*time.Hour)); err != nil {
		t.Fatal(err)
	}
	err = appendEvent(ctx, cli, topic, a, event{"withdrawal", 90}, base.Add(4*time.Hour))
	if !errors.Is(err, client.ErrOffsetMismatch) {
		t.Fatalf("conflicting append: %v, want ErrOffsetMismatch", err)
	}
	if end, ok := client.CurrentEnd(err); !ok || end != 5 {
		t.Fatalf("conflicting append names end offset %d (%v), want 5: %v", end, ok, err)
	}
	if got := replay(ctx, t, cli, topic, -1); got.balance != 10 || got.next != 5 {
		t.Fatalf("balance %d after %d events, want 10 after 5", got.balance, got.next)
	}
	// The balance at 11:30 is the fold of the events before it: the first
	// at or after 11:30 is found by timestamp.
	at, err := cli.ListOffsets(ctx, topic, 0, streamdv1.OffsetSpec_OFFSET_SPEC_TIMESTAMP, base.Add(150*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if got := replay(ctx, t, cli, topic, at.Offset); got.balance != 120 {
		t.Fatalf("balance at 11:30 = %d (events before offset %d), want 120", got.balance, at.Offset)
	}
}
