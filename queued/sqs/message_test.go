package sqs

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
	"time"
)

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// attrsVector are message attributes whose MD5OfMessageAttributes was
// computed independently (Python's hashlib and struct, following SQS's
// documented algorithm): 98ace81f4bfc162f208aac0b896f8224.
var attrsVector = []string{
	"MessageAttribute.1.Name", "city", "MessageAttribute.1.Value.DataType", "String", "MessageAttribute.1.Value.StringValue", "Any City",
	"MessageAttribute.2.Name", "population", "MessageAttribute.2.Value.DataType", "Number", "MessageAttribute.2.Value.StringValue", "1250800",
	"MessageAttribute.3.Name", "blob", "MessageAttribute.3.Value.DataType", "Binary", "MessageAttribute.3.Value.BinaryValue", "AAH/",
	"MessageAttribute.4.Name", "note", "MessageAttribute.4.Value.DataType", "String.custom", "MessageAttribute.4.Value.StringValue", "héllo",
}

const attrsVectorMD5 = "98ace81f4bfc162f208aac0b896f8224"

func TestMessageActions(t *testing.T) {
	e := newEnv(t)
	q := e.url + "/" + testAccount + "/work"
	e.call("CreateQueue", "QueueName", "work").ok(t)

	// SendMessage: body and attribute digests.
	body := "hello <world> & \"you\"\r\n\ttab ✓ 𝄞"
	sent := time.Now()
	res := e.call("SendMessage", append([]string{"QueueUrl", q, "MessageBody", body}, attrsVector...)...).ok(t)
	if got := res.text("SendMessageResult/MD5OfMessageBody"); got != md5hex(body) {
		t.Fatalf("MD5OfMessageBody %s, want %s", got, md5hex(body))
	}
	if got := res.text("SendMessageResult/MD5OfMessageAttributes"); got != attrsVectorMD5 {
		t.Fatalf("MD5OfMessageAttributes %s, want %s", got, attrsVectorMD5)
	}
	id := res.text("SendMessageResult/MessageId")
	if id == "" || res.get("SendMessageResult/SequenceNumber") != nil {
		t.Fatalf("SendMessageResult: %s", res.text(""))
	}

	// ReceiveMessage with every system and message attribute.
	doc := e.call("ReceiveMessage", "QueueUrl", q, "AttributeName.1", "All", "MessageAttributeName.1", "All", "VisibilityTimeout", "0").ok(t)
	msgs := doc.all("ReceiveMessageResult/Message")
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	m := msgs[0]
	if m.text("MessageId") != id || m.text("Body") != body || m.text("MD5OfBody") != md5hex(body) || m.text("ReceiptHandle") == "" {
		t.Fatalf("message: id %q body %q md5 %q", m.text("MessageId"), m.text("Body"), m.text("MD5OfBody"))
	}
	if m.text("MD5OfMessageAttributes") != attrsVectorMD5 {
		t.Fatalf("received MD5OfMessageAttributes %s", m.text("MD5OfMessageAttributes"))
	}
	sys := m.pairs("Attribute")
	if sys["ApproximateReceiveCount"] != "1" {
		t.Fatalf("system attributes %v", sys)
	}
	for _, k := range []string{"SentTimestamp", "ApproximateFirstReceiveTimestamp"} {
		ms, err := strconv.ParseInt(sys[k], 10, 64)
		if err != nil || ms < sent.Add(-5*time.Second).UnixMilli() || ms > time.Now().Add(5*time.Second).UnixMilli() {
			t.Fatalf("%s = %q", k, sys[k])
		}
	}
	for _, k := range []string{"SequenceNumber", "MessageGroupId", "MessageDeduplicationId"} {
		if _, ok := sys[k]; ok {
			t.Fatalf("standard message has %s", k)
		}
	}
	got := map[string]string{}
	for _, a := range m.all("MessageAttribute") {
		got[a.text("Name")] = a.text("Value/DataType") + "=" + a.text("Value/StringValue") + a.text("Value/BinaryValue")
	}
	want := map[string]string{"city": "String=Any City", "population": "Number=1250800", "blob": "Binary=AAH/", "note": "String.custom=héllo"}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("message attribute %s = %q, want %q (all %v)", k, got[k], v, got)
		}
	}

	// VisibilityTimeout 0 made it visible again: received a second time,
	// only the attributes asked for, and their digest.
	doc = e.call("ReceiveMessage", "QueueUrl", q, "AttributeName.1", "ApproximateReceiveCount", "MessageAttributeName.1", "city", "MessageAttributeName.2", "po.*").ok(t)
	m = doc.get("ReceiveMessageResult/Message")
	if m == nil || m.pairs("Attribute")["ApproximateReceiveCount"] != "2" || len(m.pairs("Attribute")) != 1 {
		t.Fatalf("second receive: %v", doc)
	}
	if n := len(m.all("MessageAttribute")); n != 1 {
		t.Fatalf("selected %d attributes, want city only", n)
	}
	if m.text("MD5OfMessageAttributes") != "a6ffb68ea212e1f864e24e589a1bda87" { // Python-computed for city alone
		t.Fatalf("digest of the selected attribute: %s", m.text("MD5OfMessageAttributes"))
	}
	handle := m.text("ReceiptHandle")

	// In flight: nothing to receive; ChangeMessageVisibility 0 releases it.
	if n := len(e.call("ReceiveMessage", "QueueUrl", q).ok(t).all("ReceiveMessageResult/Message")); n != 0 {
		t.Fatalf("in-flight message received again")
	}
	e.call("ChangeMessageVisibility", "QueueUrl", q, "ReceiptHandle", handle, "VisibilityTimeout", "0").ok(t)
	m = e.call("ReceiveMessage", "QueueUrl", q, "VisibilityTimeout", "60").ok(t).get("ReceiveMessageResult/Message")
	if m == nil {
		t.Fatal("not visible after ChangeMessageVisibility 0")
	}
	handle2 := m.text("ReceiptHandle")
	e.call("ChangeMessageVisibility", "QueueUrl", q, "ReceiptHandle", handle, "VisibilityTimeout", "10").fails(t, 400, CodeMessageNotInflight)
	e.call("ChangeMessageVisibility", "QueueUrl", q, "ReceiptHandle", handle2, "VisibilityTimeout", "120").ok(t)
	e.call("ChangeMessageVisibility", "QueueUrl", q, "ReceiptHandle", handle2, "VisibilityTimeout", "43201").fails(t, 400, CodeInvalidParameterValue)
	e.call("ChangeMessageVisibility", "QueueUrl", q, "ReceiptHandle", handle2).fails(t, 400, CodeMissingParameter)
	e.call("ChangeMessageVisibility", "QueueUrl", q, "ReceiptHandle", "garbage", "VisibilityTimeout", "1").fails(t, 400, CodeReceiptHandleInvalid)

	// DeleteMessage: a stale handle is refused, the current one deletes,
	// and deleting again succeeds (the message is gone).
	e.call("DeleteMessage", "QueueUrl", q, "ReceiptHandle", handle).fails(t, 400, CodeReceiptHandleInvalid)
	e.call("DeleteMessage", "QueueUrl", q, "ReceiptHandle", handle2).ok(t)
	e.call("DeleteMessage", "QueueUrl", q, "ReceiptHandle", handle2).ok(t)
	e.call("DeleteMessage", "QueueUrl", q, "ReceiptHandle", "garbage").fails(t, 400, CodeReceiptHandleInvalid)
	e.call("DeleteMessage", "QueueUrl", q, "ReceiptHandle", strings.Repeat("x", 2000)).fails(t, 400, CodeReceiptHandleInvalid)
	e.call("DeleteMessage", "QueueUrl", q).fails(t, 400, CodeMissingParameter)
	e.call("DeleteMessage", "QueueUrl", q+"-nope", "ReceiptHandle", handle2).fails(t, 400, CodeNonExistentQueue)

	// Send errors.
	e.call("SendMessage", "QueueUrl", q).fails(t, 400, CodeMissingParameter)
	e.call("SendMessage", "QueueUrl", q, "MessageBody", "").fails(t, 400, CodeInvalidParameterValue)
	e.call("SendMessage", "QueueUrl", q, "MessageBody", "bell\x07").fails(t, 400, CodeInvalidMessageContent)
	e.call("SendMessage", "QueueUrl", q, "MessageBody", "x", "DelaySeconds", "901").fails(t, 400, CodeInvalidParameterValue)
	e.call("SendMessage", "QueueUrl", q, "MessageBody", "x", "MessageGroupId", "g").fails(t, 400, CodeInvalidParameterValue)
	e.call("SendMessage", "QueueUrl", q, "MessageBody", strings.Repeat("x", 256<<10+1)).fails(t, 400, CodeInvalidParameterValue)
	e.call("SendMessage", "QueueUrl", q, "MessageBody", "x", "MessageAttribute.1.Name", "n", "MessageAttribute.1.Value.DataType", "Number",
		"MessageAttribute.1.Value.StringValue", "NaN-ish").fails(t, 400, CodeInvalidParameterValue)
	e.call("SendMessage", "QueueUrl", q, "MessageBody", "x", "MessageAttribute.1.Name", "n", "MessageAttribute.1.Value.StringValue", "v").fails(t, 400, CodeInvalidParameterValue)
	e.call("SendMessage", "QueueUrl", q, "MessageBody", "x", "MessageAttribute.1.Name", "n", "MessageAttribute.1.Value.DataType", "String",
		"MessageAttribute.1.Value.StringListValue.1", "v").fails(t, 400, CodeUnsupportedOperation)
	e.call("SendMessage", "QueueUrl", q, "MessageBody", "x", "MessageSystemAttribute.1.Name", "AWSTraceHeader",
		"MessageSystemAttribute.1.Value.DataType", "String", "MessageSystemAttribute.1.Value.StringValue", "Root=1").fails(t, 400, CodeUnsupportedOperation)
	e.call("SendMessage", "QueueUrl", q+"-nope", "MessageBody", "x").fails(t, 400, CodeNonExistentQueue)

	// Receive parameters.
	for _, p := range [][]string{{"MaxNumberOfMessages", "0"}, {"MaxNumberOfMessages", "11"}, {"WaitTimeSeconds", "21"}, {"VisibilityTimeout", "-1"}, {"WaitTimeSeconds", "x"}} {
		e.call("ReceiveMessage", "QueueUrl", q, p[0], p[1]).fails(t, 400, CodeInvalidParameterValue)
	}

	// DelaySeconds: a delayed message is counted as delayed, then arrives.
	e.call("SendMessage", "QueueUrl", q, "MessageBody", "later", "DelaySeconds", "1").ok(t)
	waitFor(t, "the delayed count", func() bool {
		return e.call("GetQueueAttributes", "QueueUrl", q, "AttributeName.1", "ApproximateNumberOfMessagesDelayed").ok(t).
			pairs("GetQueueAttributesResult/Attribute")["ApproximateNumberOfMessagesDelayed"] == "1"
	})
	if n := len(e.call("ReceiveMessage", "QueueUrl", q).ok(t).all("ReceiveMessageResult/Message")); n != 0 {
		t.Fatal("delayed message delivered at once")
	}
	// A long poll returns it once it is due.
	start := time.Now()
	m = e.call("ReceiveMessage", "QueueUrl", q, "WaitTimeSeconds", "5").ok(t).get("ReceiveMessageResult/Message")
	if m == nil || m.text("Body") != "later" || time.Since(start) > 4*time.Second {
		t.Fatalf("long poll for the delayed message: %v after %v", m, time.Since(start))
	}
	waitFor(t, "the in-flight count", func() bool {
		a := e.call("GetQueueAttributes", "QueueUrl", q, "AttributeName.1", "All").ok(t).pairs("GetQueueAttributesResult/Attribute")
		return a["ApproximateNumberOfMessagesNotVisible"] == "1" && a["ApproximateNumberOfMessages"] == "0" && a["ApproximateNumberOfMessagesDelayed"] == "0"
	})

	// A long poll on an empty queue waits, then returns nothing.
	e.call("CreateQueue", "QueueName", "empty").ok(t)
	start = time.Now()
	if n := len(e.call("ReceiveMessage", "QueueUrl", e.url+"/"+testAccount+"/empty", "WaitTimeSeconds", "1").ok(t).all("ReceiveMessageResult/Message")); n != 0 {
		t.Fatal("message from an empty queue")
	}
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Fatalf("long poll returned after %v", d)
	}
}

func TestBatchActions(t *testing.T) {
	e := newEnv(t)
	q := e.url + "/" + testAccount + "/batch"
	e.call("CreateQueue", "QueueName", "batch", "Attribute.1.Name", "MaximumMessageSize", "Attribute.1.Value", "1024").ok(t)
	entry := func(n int, field, value string) []string {
		return []string{"SendMessageBatchRequestEntry." + strconv.Itoa(n) + "." + field, value}
	}
	var params []string
	params = append(params, "QueueUrl", q)
	params = append(params, entry(1, "Id", "a")...)
	params = append(params, entry(1, "MessageBody", "first")...)
	params = append(params, entry(2, "Id", "b")...)
	params = append(params, entry(2, "MessageBody", strings.Repeat("x", 1025))...) // over the queue's size
	params = append(params, entry(3, "Id", "c")...)
	params = append(params, entry(3, "MessageBody", "bad\x01")...) // refused before queued
	params = append(params, entry(4, "Id", "d")...)
	params = append(params, entry(4, "MessageBody", "fourth")...)
	params = append(params, entry(4, "MessageAttribute.1.Name", "city")...)
	params = append(params, entry(4, "MessageAttribute.1.Value.DataType", "String")...)
	params = append(params, entry(4, "MessageAttribute.1.Value.StringValue", "Any City")...)
	doc := e.call("SendMessageBatch", params...).ok(t)
	ok := doc.all("SendMessageBatchResult/SendMessageBatchResultEntry")
	failed := doc.all("SendMessageBatchResult/BatchResultErrorEntry")
	if len(ok) != 2 || len(failed) != 2 {
		t.Fatalf("successful %d, failed %d: %v", len(ok), len(failed), doc)
	}
	if ok[0].text("Id") != "a" || ok[0].text("MD5OfMessageBody") != md5hex("first") || ok[0].text("MessageId") == "" ||
		ok[1].text("Id") != "d" || ok[1].text("MD5OfMessageAttributes") != "a6ffb68ea212e1f864e24e589a1bda87" {
		t.Fatalf("successful entries: %v %v", ok[0], ok[1])
	}
	if failed[0].text("Id") != "b" || failed[0].text("Code") != CodeInvalidParameterValue || failed[0].text("SenderFault") != "true" ||
		failed[1].text("Id") != "c" || failed[1].text("Code") != CodeInvalidMessageContent {
		t.Fatalf("failed entries: %v %v", failed[0], failed[1])
	}

	// Whole-batch errors.
	e.call("SendMessageBatch", "QueueUrl", q).fails(t, 400, CodeEmptyBatchRequest)
	var many []string
	for i := 1; i <= 11; i++ {
		many = append(many, entry(i, "Id", "m"+strconv.Itoa(i))...)
		many = append(many, entry(i, "MessageBody", "x")...)
	}
	e.call("SendMessageBatch", append([]string{"QueueUrl", q}, many...)...).fails(t, 400, CodeTooManyEntries)
	e.call("SendMessageBatch", append([]string{"QueueUrl", q}, append(append(entry(1, "Id", "same"), entry(1, "MessageBody", "x")...),
		append(entry(2, "Id", "same"), entry(2, "MessageBody", "y")...)...)...)...).fails(t, 400, CodeBatchEntryIDsNotDist)
	e.call("SendMessageBatch", append([]string{"QueueUrl", q}, append(entry(1, "Id", "bad id!"), entry(1, "MessageBody", "x")...)...)...).fails(t, 400, CodeInvalidBatchEntryID)
	e.call("SendMessageBatch", "QueueUrl", q, "SendMessageBatchRequestEntry.x.Id", "a").fails(t, 400, CodeInvalidParameterValue)

	// Receive both, then batch delete and change visibility with partial failures.
	doc = e.call("ReceiveMessage", "QueueUrl", q, "MaxNumberOfMessages", "10", "WaitTimeSeconds", "1").ok(t)
	msgs := doc.all("ReceiveMessageResult/Message")
	for len(msgs) < 2 {
		more := e.call("ReceiveMessage", "QueueUrl", q, "MaxNumberOfMessages", "10", "WaitTimeSeconds", "1").ok(t).all("ReceiveMessageResult/Message")
		if len(more) == 0 {
			t.Fatalf("received %d of 2", len(msgs))
		}
		msgs = append(msgs, more...)
	}
	h1, h2 := msgs[0].text("ReceiptHandle"), msgs[1].text("ReceiptHandle")
	doc = e.call("ChangeMessageVisibilityBatch", "QueueUrl", q,
		"ChangeMessageVisibilityBatchRequestEntry.1.Id", "one", "ChangeMessageVisibilityBatchRequestEntry.1.ReceiptHandle", h1,
		"ChangeMessageVisibilityBatchRequestEntry.1.VisibilityTimeout", "100",
		"ChangeMessageVisibilityBatchRequestEntry.2.Id", "bad", "ChangeMessageVisibilityBatchRequestEntry.2.ReceiptHandle", "garbage",
		"ChangeMessageVisibilityBatchRequestEntry.2.VisibilityTimeout", "100",
		"ChangeMessageVisibilityBatchRequestEntry.3.Id", "two", "ChangeMessageVisibilityBatchRequestEntry.3.ReceiptHandle", h2,
		"ChangeMessageVisibilityBatchRequestEntry.3.VisibilityTimeout", "0",
	).ok(t)
	if ids := texts(doc.all("ChangeMessageVisibilityBatchResult/ChangeMessageVisibilityBatchResultEntry"), "Id"); ids != "one,two" {
		t.Fatalf("visibility batch successful: %s", ids)
	}
	if f := doc.all("ChangeMessageVisibilityBatchResult/BatchResultErrorEntry"); len(f) != 1 || f[0].text("Id") != "bad" || f[0].text("Code") != CodeReceiptHandleInvalid {
		t.Fatalf("visibility batch failed: %v", doc)
	}
	// two is visible again: receive it for a fresh handle.
	m := e.call("ReceiveMessage", "QueueUrl", q, "WaitTimeSeconds", "2").ok(t).get("ReceiveMessageResult/Message")
	if m == nil {
		t.Fatal("entry two not visible after VisibilityTimeout 0")
	}
	doc = e.call("DeleteMessageBatch", "QueueUrl", q,
		"DeleteMessageBatchRequestEntry.1.Id", "x1", "DeleteMessageBatchRequestEntry.1.ReceiptHandle", h1,
		"DeleteMessageBatchRequestEntry.2.Id", "x2", "DeleteMessageBatchRequestEntry.2.ReceiptHandle", h2, // stale: redelivered since
		"DeleteMessageBatchRequestEntry.3.Id", "x3", "DeleteMessageBatchRequestEntry.3.ReceiptHandle", m.text("ReceiptHandle"),
	).ok(t)
	if ids := texts(doc.all("DeleteMessageBatchResult/DeleteMessageBatchResultEntry"), "Id"); ids != "x1,x3" {
		t.Fatalf("delete batch successful: %s (%v)", ids, doc)
	}
	if f := doc.all("DeleteMessageBatchResult/BatchResultErrorEntry"); len(f) != 1 || f[0].text("Id") != "x2" || f[0].text("Code") != CodeReceiptHandleInvalid {
		t.Fatalf("delete batch failed: %v", doc)
	}
	e.call("DeleteMessageBatch", "QueueUrl", q).fails(t, 400, CodeEmptyBatchRequest)
	e.call("ChangeMessageVisibilityBatch", "QueueUrl", q, "ChangeMessageVisibilityBatchRequestEntry.1.Id", "a",
		"ChangeMessageVisibilityBatchRequestEntry.1.ReceiptHandle", "h", "ChangeMessageVisibilityBatchRequestEntry.2.Id", "a",
		"ChangeMessageVisibilityBatchRequestEntry.2.ReceiptHandle", "h").fails(t, 400, CodeBatchEntryIDsNotDist)
	waitFor(t, "an empty queue", func() bool {
		a := e.call("GetQueueAttributes", "QueueUrl", q, "AttributeName.1", "All").ok(t).pairs("GetQueueAttributesResult/Attribute")
		return a["ApproximateNumberOfMessages"] == "0" && a["ApproximateNumberOfMessagesNotVisible"] == "0"
	})
}

func texts(ns []*xnode, field string) string {
	var out []string
	for _, n := range ns {
		out = append(out, n.text(field))
	}
	return strings.Join(out, ",")
}

func TestFIFO(t *testing.T) {
	e := newEnv(t)
	q := e.url + "/" + testAccount + "/jobs.fifo"
	e.call("CreateQueue", "QueueName", "jobs", "Attribute.1.Name", "FifoQueue", "Attribute.1.Value", "true").fails(t, 400, CodeInvalidParameterValue)
	e.call("CreateQueue", "QueueName", "jobs.fifo").fails(t, 400, CodeInvalidParameterValue)
	e.call("CreateQueue", "QueueName", "jobs.fifo", "Attribute.1.Name", "FifoQueue", "Attribute.1.Value", "true",
		"Attribute.2.Name", "ContentBasedDeduplication", "Attribute.2.Value", "true").ok(t)
	attrs := e.call("GetQueueAttributes", "QueueUrl", q, "AttributeName.1", "All").ok(t).pairs("GetQueueAttributesResult/Attribute")
	if attrs["FifoQueue"] != "true" || attrs["ContentBasedDeduplication"] != "true" {
		t.Fatalf("FIFO attributes: %v", attrs)
	}
	e.call("CreateQueue", "QueueName", "jobs.fifo", "Attribute.1.Name", "FifoQueue", "Attribute.1.Value", "false").fails(t, 400, CodeInvalidParameterValue)

	send := func(body, group string, extra ...string) *xnode {
		t.Helper()
		return e.call("SendMessage", append([]string{"QueueUrl", q, "MessageBody", body, "MessageGroupId", group}, extra...)...).ok(t)
	}
	a1 := send("a1", "A")
	a1dup := send("a1", "A") // content-based deduplication
	if a1.text("SendMessageResult/MessageId") != a1dup.text("SendMessageResult/MessageId") {
		t.Fatal("duplicate body got a new message id")
	}
	seq1, _ := strconv.ParseUint(a1.text("SendMessageResult/SequenceNumber"), 10, 64)
	a2 := send("a2", "A", "MessageDeduplicationId", "explicit-a2")
	seq2, _ := strconv.ParseUint(a2.text("SendMessageResult/SequenceNumber"), 10, 64)
	if seq1 == 0 || seq2 <= seq1 {
		t.Fatalf("sequence numbers %d, %d", seq1, seq2)
	}
	send("b1", "B")
	e.call("SendMessage", "QueueUrl", q, "MessageBody", "x", "MessageGroupId", "A", "DelaySeconds", "5").fails(t, 400, CodeInvalidParameterValue)
	e.call("SendMessage", "QueueUrl", q, "MessageBody", "x").fails(t, 400, CodeInvalidParameterValue)

	// One receive: the head of each group, in order; A's second waits.
	doc := e.call("ReceiveMessage", "QueueUrl", q, "MaxNumberOfMessages", "10", "AttributeName.1", "All").ok(t)
	msgs := doc.all("ReceiveMessageResult/Message")
	if got := texts(msgs, "Body"); got != "a1,b1" {
		t.Fatalf("first receive: %s", got)
	}
	sys := msgs[0].pairs("Attribute")
	sum := sha256.Sum256([]byte("a1"))
	if sys["MessageGroupId"] != "A" || sys["SequenceNumber"] != strconv.FormatUint(seq1, 10) || sys["MessageDeduplicationId"] != hex.EncodeToString(sum[:]) {
		t.Fatalf("FIFO system attributes: %v", sys)
	}
	if n := len(e.call("ReceiveMessage", "QueueUrl", q, "MaxNumberOfMessages", "10").ok(t).all("ReceiveMessageResult/Message")); n != 0 {
		t.Fatalf("a group with its head in flight delivered %d more", n)
	}
	e.call("DeleteMessage", "QueueUrl", q, "ReceiptHandle", msgs[0].text("ReceiptHandle")).ok(t)
	m := e.call("ReceiveMessage", "QueueUrl", q, "AttributeName.1", "MessageDeduplicationId").ok(t).get("ReceiveMessageResult/Message")
	if m == nil || m.text("Body") != "a2" || m.pairs("Attribute")["MessageDeduplicationId"] != "explicit-a2" {
		t.Fatalf("after deleting A's head: %v", m)
	}

	// A batch on a FIFO queue: sequence numbers per entry.
	doc = e.call("SendMessageBatch", "QueueUrl", q,
		"SendMessageBatchRequestEntry.1.Id", "c1", "SendMessageBatchRequestEntry.1.MessageBody", "c1", "SendMessageBatchRequestEntry.1.MessageGroupId", "C",
		"SendMessageBatchRequestEntry.2.Id", "c2", "SendMessageBatchRequestEntry.2.MessageBody", "c2").ok(t)
	if s := doc.all("SendMessageBatchResult/SendMessageBatchResultEntry"); len(s) != 1 || s[0].text("SequenceNumber") == "" {
		t.Fatalf("FIFO batch successful: %v", doc)
	}
	if f := doc.all("SendMessageBatchResult/BatchResultErrorEntry"); len(f) != 1 || f[0].text("Id") != "c2" {
		t.Fatalf("FIFO batch without a group: %v", doc)
	}

	// Without ContentBasedDeduplication a send needs a
	// MessageDeduplicationId, as on SQS.
	e.call("CreateQueue", "QueueName", "strict.fifo", "Attribute.1.Name", "FifoQueue", "Attribute.1.Value", "true").ok(t)
	sq := e.url + "/" + testAccount + "/strict.fifo"
	msg := e.call("SendMessage", "QueueUrl", sq, "MessageBody", "x", "MessageGroupId", "A").fails(t, 400, CodeInvalidParameterValue)
	if msg != "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly" {
		t.Fatalf("message %q", msg)
	}
	e.call("SendMessage", "QueueUrl", sq, "MessageBody", "x", "MessageGroupId", "A", "MessageDeduplicationId", "x1").ok(t)
	doc = e.call("SendMessageBatch", "QueueUrl", sq,
		"SendMessageBatchRequestEntry.1.Id", "d1", "SendMessageBatchRequestEntry.1.MessageBody", "d1", "SendMessageBatchRequestEntry.1.MessageGroupId", "D",
		"SendMessageBatchRequestEntry.2.Id", "d2", "SendMessageBatchRequestEntry.2.MessageBody", "d2", "SendMessageBatchRequestEntry.2.MessageGroupId", "D",
		"SendMessageBatchRequestEntry.2.MessageDeduplicationId", "d2").ok(t)
	if s := doc.all("SendMessageBatchResult/SendMessageBatchResultEntry"); len(s) != 1 || s[0].text("Id") != "d2" {
		t.Fatalf("strict FIFO batch successful: %s", doc.text(""))
	}
	if f := doc.all("SendMessageBatchResult/BatchResultErrorEntry"); len(f) != 1 || f[0].text("Id") != "d1" ||
		f[0].text("Code") != CodeInvalidParameterValue || f[0].text("SenderFault") != "true" || !strings.Contains(f[0].text("Message"), "MessageDeduplicationId") {
		t.Fatalf("strict FIFO batch without a deduplication id: %v", f)
	}
}

func TestRedrivePolicy(t *testing.T) {
	e := newEnv(t)
	base := e.url + "/" + testAccount + "/"
	arn := "arn:aws:sqs:" + testRegion + ":" + testAccount + ":"
	e.call("CreateQueue", "QueueName", "dlq").ok(t)
	policy := `{"deadLetterTargetArn":"` + arn + `dlq","maxReceiveCount":"2"}`
	e.call("CreateQueue", "QueueName", "src", "Attribute.1.Name", "RedrivePolicy", "Attribute.1.Value", policy).ok(t)
	got := e.call("GetQueueAttributes", "QueueUrl", base+"src", "AttributeName.1", "RedrivePolicy").ok(t).pairs("GetQueueAttributesResult/Attribute")
	if want := `{"deadLetterTargetArn":"` + arn + `dlq","maxReceiveCount":2}`; got["RedrivePolicy"] != want {
		t.Fatalf("RedrivePolicy %q, want %q", got["RedrivePolicy"], want)
	}
	srcs := e.call("ListDeadLetterSourceQueues", "QueueUrl", base+"dlq").ok(t).all("ListDeadLetterSourceQueuesResult/QueueUrl")
	if len(srcs) != 1 || srcs[0].text_ != base+"src" {
		t.Fatalf("ListDeadLetterSourceQueues: %v", srcs)
	}

	// Two deliveries, then the message is in the dead letter queue.
	e.call("SendMessage", "QueueUrl", base+"src", "MessageBody", "poison").ok(t)
	for i := 1; i <= 2; i++ {
		m := e.call("ReceiveMessage", "QueueUrl", base+"src", "VisibilityTimeout", "0", "WaitTimeSeconds", "2", "AttributeName.1", "ApproximateReceiveCount").ok(t).get("ReceiveMessageResult/Message")
		if m == nil || m.pairs("Attribute")["ApproximateReceiveCount"] != strconv.Itoa(i) {
			t.Fatalf("delivery %d: %v", i, m)
		}
	}
	if m := e.call("ReceiveMessage", "QueueUrl", base+"src", "WaitTimeSeconds", "1").ok(t).get("ReceiveMessageResult/Message"); m != nil {
		t.Fatalf("third delivery: %v", m)
	}
	m := e.call("ReceiveMessage", "QueueUrl", base+"dlq", "WaitTimeSeconds", "5", "AttributeName.1", "All").ok(t).get("ReceiveMessageResult/Message")
	if m == nil || m.text("Body") != "poison" || m.pairs("Attribute")["DeadLetterQueueSourceArn"] != arn+"src" {
		t.Fatalf("dead letter: %v", m)
	}

	// Bad policies; removing the policy.
	for _, bad := range []string{
		`{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:` + testAccount + `:dlq","maxReceiveCount":2}`, // other region
		`{"deadLetterTargetArn":"` + arn + `dlq","maxReceiveCount":0}`,
		`{"deadLetterTargetArn":"` + arn + `dlq"}`,
		`{"maxReceiveCount":3}`,
		`not json`,
		`{"deadLetterTargetArn":"` + arn + `dlq","maxReceiveCount":3,"extra":1}`,
	} {
		e.call("SetQueueAttributes", "QueueUrl", base+"src", "Attribute.1.Name", "RedrivePolicy", "Attribute.1.Value", bad).fails(t, 400, CodeInvalidParameterValue)
	}
	e.call("SetQueueAttributes", "QueueUrl", base+"src", "Attribute.1.Name", "RedrivePolicy", "Attribute.1.Value",
		`{"deadLetterTargetArn":"`+arn+`missing","maxReceiveCount":3}`).fails(t, 400, CodeNonExistentQueue)
	e.call("SetQueueAttributes", "QueueUrl", base+"dlq", "Attribute.1.Name", "RedrivePolicy", "Attribute.1.Value",
		`{"deadLetterTargetArn":"`+arn+`src","maxReceiveCount":3}`).fails(t, 400, CodeInvalidParameterValue) // a loop
	e.call("SetQueueAttributes", "QueueUrl", base+"src", "Attribute.1.Name", "RedrivePolicy", "Attribute.1.Value", "").ok(t)
	if got := e.call("GetQueueAttributes", "QueueUrl", base+"src", "AttributeName.1", "All").ok(t).pairs("GetQueueAttributesResult/Attribute"); got["RedrivePolicy"] != "" {
		t.Fatalf("policy not removed: %v", got)
	}
}
