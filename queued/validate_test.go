package queued

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	"cairn.dev/cairn/node/rpcerr"
	queuedv1 "cairn.dev/cairn/proto/cairn/queued/v1"
)

func dur(d time.Duration) *durationpb.Duration { return durationpb.New(d) }

// checkErr asserts that err maps to reason and names field in its metadata.
func checkErr(t *testing.T, err error, reason rpcerr.Reason, field string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s on %s", reason, field)
	}
	info, _ := rpcerr.FromError(toStatus(err))
	if info.Reason != reason {
		t.Fatalf("%v: reason %q, want %q", err, info.Reason, reason)
	}
	if field != "" && info.Metadata[rpcerr.KeyField] != field {
		t.Fatalf("%v: field %q, want %q", err, info.Metadata[rpcerr.KeyField], field)
	}
	if field != "" && !strings.Contains(info.Message, field) {
		t.Fatalf("message %q does not name %s", info.Message, field)
	}
}

func TestValidName(t *testing.T) {
	for _, ok := range []string{"orders", "orders-dlq", "order.created", "A_b-9.fifo", strings.Repeat("q", MaxNameLen)} {
		if err := validName("name", ok); err != nil {
			t.Errorf("validName(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "has space", "slash/", "ünï", strings.Repeat("q", MaxNameLen+1)} {
		checkErr(t, validName("name", bad), rpcerr.InvalidArgument, "name")
	}
}

func TestCompleteAttributesDefaults(t *testing.T) {
	a, err := validateCreateQueue(&queuedv1.CreateQueueRequest{Name: "orders"})
	if err != nil {
		t.Fatal(err)
	}
	if a.GetType() != queuedv1.QueueType_QUEUE_TYPE_STANDARD || a.GetVisibilityTimeout().AsDuration() != DefaultVisibilityTimeout ||
		a.GetRetention().AsDuration() != DefaultRetention || a.GetMaxMessageBytes() != DefaultMaxMessageBytes ||
		a.GetDeliveryDelay() == nil || a.GetReceiveWait() == nil {
		t.Fatalf("defaults not filled in: %v", a)
	}
	in := &queuedv1.QueueAttributes{VisibilityTimeout: dur(2 * time.Second)}
	a, err = completeAttributes("orders", in)
	if err != nil || a.GetVisibilityTimeout().AsDuration() != 2*time.Second {
		t.Fatalf("completeAttributes kept %v, %v", a, err)
	}
	if in.GetRetention() != nil {
		t.Fatal("completeAttributes changed its input")
	}
}

func TestValidateCreateQueue(t *testing.T) {
	for _, tc := range []struct {
		name   string
		attrs  *queuedv1.QueueAttributes
		reason rpcerr.Reason
		field  string
	}{
		{"", nil, rpcerr.InvalidArgument, "name"},
		{"q", &queuedv1.QueueAttributes{Type: 7}, rpcerr.InvalidArgument, "attributes.type"},
		{"q", &queuedv1.QueueAttributes{VisibilityTimeout: dur(13 * time.Hour)}, rpcerr.InvalidArgument, "attributes.visibility_timeout"},
		{"q", &queuedv1.QueueAttributes{VisibilityTimeout: dur(-time.Second)}, rpcerr.InvalidArgument, "attributes.visibility_timeout"},
		{"q", &queuedv1.QueueAttributes{Retention: dur(30 * time.Second)}, rpcerr.InvalidArgument, "attributes.retention"},
		{"q", &queuedv1.QueueAttributes{Retention: dur(15 * 24 * time.Hour)}, rpcerr.InvalidArgument, "attributes.retention"},
		{"q", &queuedv1.QueueAttributes{DeliveryDelay: dur(16 * time.Minute)}, rpcerr.InvalidArgument, "attributes.delivery_delay"},
		{"q", &queuedv1.QueueAttributes{ReceiveWait: dur(21 * time.Second)}, rpcerr.InvalidArgument, "attributes.receive_wait"},
		{"q", &queuedv1.QueueAttributes{MaxMessageBytes: 100}, rpcerr.InvalidArgument, "attributes.max_message_bytes"},
		{"q", &queuedv1.QueueAttributes{MaxMessageBytes: 2 << 20}, rpcerr.InvalidArgument, "attributes.max_message_bytes"},
		{"q", &queuedv1.QueueAttributes{MaxReceives: 1001, DeadLetterQueue: "d"}, rpcerr.InvalidArgument, "attributes.max_receives"},
		{"q", &queuedv1.QueueAttributes{MaxReceives: 3}, rpcerr.InvalidArgument, "attributes.dead_letter_queue"},
		{"q", &queuedv1.QueueAttributes{DeadLetterQueue: "d"}, rpcerr.InvalidArgument, "attributes.max_receives"},
		{"q", &queuedv1.QueueAttributes{MaxReceives: 3, DeadLetterQueue: "bad name"}, rpcerr.InvalidArgument, "attributes.dead_letter_queue"},
		{"q", &queuedv1.QueueAttributes{MaxReceives: 3, DeadLetterQueue: "q"}, rpcerr.DeadLetterLoop, "attributes.dead_letter_queue"},
		{"q", &queuedv1.QueueAttributes{ContentBasedDeduplication: true}, rpcerr.QueueMismatch, "attributes.content_based_deduplication"},
	} {
		_, err := validateCreateQueue(&queuedv1.CreateQueueRequest{Name: tc.name, Attributes: tc.attrs})
		checkErr(t, err, tc.reason, tc.field)
	}
	if _, err := validateCreateQueue(&queuedv1.CreateQueueRequest{Name: "q", Attributes: &queuedv1.QueueAttributes{
		Type: queuedv1.QueueType_QUEUE_TYPE_FIFO, ContentBasedDeduplication: true, MaxReceives: 3, DeadLetterQueue: "d",
	}}); err != nil {
		t.Fatal(err)
	}
}

func TestValidateSetAttributes(t *testing.T) {
	ok := &queuedv1.SetQueueAttributesRequest{Name: "q", Attributes: &queuedv1.QueueAttributes{VisibilityTimeout: dur(0)}, Mask: []string{"visibility_timeout"}}
	if err := validateSetAttributes(ok); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		req    *queuedv1.SetQueueAttributesRequest
		reason rpcerr.Reason
		field  string
	}{
		{&queuedv1.SetQueueAttributesRequest{Name: "q"}, rpcerr.InvalidArgument, "mask"},
		{&queuedv1.SetQueueAttributesRequest{Name: "q", Mask: []string{"colour"}}, rpcerr.InvalidArgument, "mask[0]"},
		{&queuedv1.SetQueueAttributesRequest{Name: "q", Mask: []string{"retention", "retention"}, Attributes: &queuedv1.QueueAttributes{Retention: dur(time.Hour)}}, rpcerr.InvalidArgument, "mask[1]"},
		{&queuedv1.SetQueueAttributesRequest{Name: "q", Mask: []string{"type"}}, rpcerr.QueueMismatch, "mask[0]"},
		{&queuedv1.SetQueueAttributesRequest{Name: "q", Mask: []string{"retention"}}, rpcerr.InvalidArgument, "attributes.retention"},
		{&queuedv1.SetQueueAttributesRequest{Name: "q", Mask: []string{"max_message_bytes"}}, rpcerr.InvalidArgument, "attributes.max_message_bytes"},
		{&queuedv1.SetQueueAttributesRequest{Name: "q", Mask: []string{"max_receives", "dead_letter_queue"}, Attributes: &queuedv1.QueueAttributes{MaxReceives: 2}}, rpcerr.InvalidArgument, "attributes.dead_letter_queue"},
		{&queuedv1.SetQueueAttributesRequest{Name: "q", Mask: []string{"dead_letter_queue"}, Attributes: &queuedv1.QueueAttributes{DeadLetterQueue: "q"}}, rpcerr.DeadLetterLoop, "attributes.dead_letter_queue"},
	} {
		checkErr(t, validateSetAttributes(tc.req), tc.reason, tc.field)
	}
}

func TestValidateSend(t *testing.T) {
	l := DefaultConfig().limits()
	entry := func(id string, body string) *queuedv1.SendEntry {
		return &queuedv1.SendEntry{Id: id, Body: []byte(body)}
	}

	_, _, err := l.validateSend(&queuedv1.SendRequest{Queue: "q"})
	checkErr(t, err, rpcerr.InvalidArgument, "entries")
	many := make([]*queuedv1.SendEntry, MaxBatchEntries+1)
	for i := range many {
		many[i] = entry(strings.Repeat("i", i+1), "x")
	}
	_, _, err = l.validateSend(&queuedv1.SendRequest{Queue: "q", Entries: many})
	checkErr(t, err, rpcerr.LimitExceeded, "entries")
	_, _, err = l.validateSend(&queuedv1.SendRequest{Queue: "q", Entries: []*queuedv1.SendEntry{entry("a", "x"), entry("a", "y")}})
	checkErr(t, err, rpcerr.InvalidArgument, "entries[1].id")
	_, _, err = l.validateSend(&queuedv1.SendRequest{Queue: "q", Entries: []*queuedv1.SendEntry{entry("", "x"), entry("b", "y")}})
	checkErr(t, err, rpcerr.InvalidArgument, "entries[0].id")
	big := strings.Repeat("x", 1<<20)
	var heavy []*queuedv1.SendEntry
	for i := range 5 {
		heavy = append(heavy, entry(string(rune('a'+i)), big))
	}
	_, _, err = l.validateSend(&queuedv1.SendRequest{Queue: "q", Entries: heavy})
	checkErr(t, err, rpcerr.LimitExceeded, "entries")
	info, _ := rpcerr.FromError(toStatus(err))
	if info.Metadata[rpcerr.KeyLimitName] != "max_batch_bytes" {
		t.Fatalf("limit name %q", info.Metadata[rpcerr.KeyLimitName])
	}

	// Bad entries fail one by one.
	ok, bad, err := l.validateSend(&queuedv1.SendRequest{Queue: "q", Entries: []*queuedv1.SendEntry{
		entry("good", "x"),
		entry("empty", ""),
		{Id: "delay", Body: []byte("x"), Delay: dur(time.Hour)},
		{Id: "attr", Body: []byte("x"), Attributes: map[string]*queuedv1.AttributeValue{"n": {DataType: "Number", StringValue: "ten"}}},
		{Id: "type", Body: []byte("x"), Attributes: map[string]*queuedv1.AttributeValue{"n": {DataType: "Blob", StringValue: "x"}}},
		{Id: "huge", Body: make([]byte, MaxMaxMessageBytes+1)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(ok) != 1 || ok[0].GetId() != "good" {
		t.Fatalf("accepted %v", ok)
	}
	want := map[string]rpcerr.Reason{"empty": rpcerr.InvalidArgument, "delay": rpcerr.InvalidArgument, "attr": rpcerr.InvalidArgument, "type": rpcerr.InvalidArgument, "huge": rpcerr.LimitExceeded}
	if len(bad) != len(want) {
		t.Fatalf("errors %v", bad)
	}
	for _, e := range bad {
		if rpcerr.Reason(e.GetReason()) != want[e.GetId()] || !e.GetSenderFault() || e.GetMessage() == "" {
			t.Errorf("entry error %v, want reason %s", e, want[e.GetId()])
		}
	}
}

func TestValidateReceiveAndSettle(t *testing.T) {
	p, err := validateReceive(&queuedv1.ReceiveRequest{Queue: "q"})
	if err != nil || p.max != 1 || p.waitSet {
		t.Fatalf("defaults %+v %v", p, err)
	}
	_, err = validateReceive(&queuedv1.ReceiveRequest{Queue: "q", MaxMessages: 101})
	checkErr(t, err, rpcerr.InvalidArgument, "max_messages")
	_, err = validateReceive(&queuedv1.ReceiveRequest{Queue: "q", Wait: dur(21 * time.Second)})
	checkErr(t, err, rpcerr.InvalidArgument, "wait")
	_, err = validateReceive(&queuedv1.ReceiveRequest{Queue: "q", VisibilityTimeout: dur(13 * time.Hour)})
	checkErr(t, err, rpcerr.InvalidArgument, "visibility_timeout")

	_, err = validateSettle("q", nil, "")
	checkErr(t, err, rpcerr.InvalidArgument, "entries")
	_, err = validateSettle("q", []*queuedv1.VisibilityEntry{{}}, "")
	checkErr(t, err, rpcerr.InvalidArgument, "entries[0].receipt_handle")
	_, err = validateSettle("q", []*queuedv1.VisibilityEntry{{ReceiptHandle: "h", Timeout: dur(13 * time.Hour)}}, "timeout")
	checkErr(t, err, rpcerr.InvalidArgument, "entries[0].timeout")
	out, err := validateSettle("q", []*queuedv1.VisibilityEntry{{ReceiptHandle: "a"}, {Id: "x", ReceiptHandle: "b"}}, "")
	if err != nil || out[0].GetId() != "0" || out[1].GetId() != "x" {
		t.Fatalf("ids %v %v", out, err)
	}
}

func TestValidateTopics(t *testing.T) {
	checkErr(t, validateSubscription(nil), rpcerr.InvalidArgument, "subscription")
	checkErr(t, validateSubscription(&queuedv1.Subscription{Queue: "q", Filter: map[string]*queuedv1.FilterValues{"k": {}}}), rpcerr.InvalidArgument, "subscription.filter[k]")
	checkErr(t, validatePublish(&queuedv1.PublishRequest{Topic: "t"}), rpcerr.InvalidArgument, "body")
	checkErr(t, validatePublish(&queuedv1.PublishRequest{Topic: "t", Body: []byte("x"), GroupId: "a b"}), rpcerr.InvalidArgument, "group_id")
}

func TestConfigValidate(t *testing.T) {
	cfg := DefaultConfig()
	cfg.ID, cfg.DataDir = "queued-1", t.TempDir()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := cfg
	bad.ID, bad.SQSAddr, bad.MaxPrefetch, bad.SweepPoll = "", "nope", 0, 0
	err := bad.Validate()
	for _, field := range []string{"id", "sqs_addr", "max_prefetch", "sweep_poll"} {
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("Validate() = %v, does not name %s", err, field)
		}
	}
}

// FuzzValidateSend checks that validation never panics and that every entry
// is either accepted or reported, once.
func FuzzValidateSend(f *testing.F) {
	f.Add("q", "id", []byte("body"), "String", "v", int64(0), "g")
	f.Add("", "", []byte{}, "Number", "x", int64(-1), "")
	l := DefaultConfig().limits()
	f.Fuzz(func(t *testing.T, queue, id string, body []byte, dataType, value string, delayNanos int64, group string) {
		req := &queuedv1.SendRequest{Queue: queue, Entries: []*queuedv1.SendEntry{{
			Id: id, Body: body, Delay: durationpb.New(time.Duration(delayNanos)), GroupId: group,
			Attributes: map[string]*queuedv1.AttributeValue{"a": {DataType: dataType, StringValue: value}},
		}}}
		ok, bad, err := l.validateSend(req)
		if err == nil && len(ok)+len(bad) != 1 {
			t.Fatalf("accepted %d and refused %d of 1", len(ok), len(bad))
		}
	})
}
