package sqs

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"cairn.dev/cairn/node/sigv4"
)

// jreply is a JSON protocol response: its status, headers and body.
type jreply struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// jsonRequest builds a JSON protocol request for action with body in (a
// string is sent as it is, anything else marshalled).
func (e *env) jsonRequest(method, action string, in any) *http.Request {
	e.t.Helper()
	var b []byte
	switch v := in.(type) {
	case string:
		b = []byte(v)
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			e.t.Fatal(err)
		}
	}
	req, err := http.NewRequest(method, e.url+"/", bytes.NewReader(b))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "AmazonSQS."+action)
	return req
}

// callJSON signs and posts action with input in.
func (e *env) callJSON(action string, in any) jreply {
	e.t.Helper()
	return e.sendJSON(e.jsonRequest(http.MethodPost, action, in), signOpts())
}

// sendJSON signs req with o (unless o has no access key) and sends it.
func (e *env) sendJSON(req *http.Request, o sigv4.SignOptions) jreply {
	e.t.Helper()
	if o.Credential.AccessKeyID != "" {
		if err := sigv4.Sign(req, o); err != nil {
			e.t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/x-amz-json-1.0" {
		e.t.Fatalf("Content-Type %q, body %s", ct, b)
	}
	if resp.Header.Get("x-amzn-RequestId") == "" {
		e.t.Fatalf("no x-amzn-RequestId header")
	}
	r := jreply{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	if err := json.Unmarshal(b, &r.body); err != nil {
		e.t.Fatalf("response is not a JSON object: %v\n%s", err, b)
	}
	return r
}

func (r jreply) ok(t *testing.T) map[string]any {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.raw)
	}
	return r.body
}

// fails checks an error: status, the query code and fault in
// x-amzn-query-error, the shape in __type; it returns the message.
func (r jreply) fails(t *testing.T, status int, code, shape string) string {
	t.Helper()
	fault := "Sender"
	if status >= 500 {
		fault = "Receiver"
	}
	if r.status != status || r.header.Get("x-amzn-query-error") != code+";"+fault || r.body["__type"] != "com.amazonaws.sqs#"+shape {
		t.Fatalf("want %d %s (%s), got %d %q: %s", status, code, shape, r.status, r.header.Get("x-amzn-query-error"), r.raw)
	}
	msg, _ := r.body["message"].(string)
	if msg == "" {
		t.Fatalf("no message: %s", r.raw)
	}
	return msg
}

// str reads a string member at path ("Messages.0.Body").
func str(t *testing.T, v any, path string) string {
	t.Helper()
	for _, p := range strings.Split(path, ".") {
		switch c := v.(type) {
		case map[string]any:
			v = c[p]
		case []any:
			i := 0
			for _, ch := range p {
				i = i*10 + int(ch-'0')
			}
			if i >= len(c) {
				t.Fatalf("%s: index %d of %d", path, i, len(c))
			}
			v = c[i]
		default:
			t.Fatalf("%s: %T at %q", path, v, p)
		}
	}
	s, ok := v.(string)
	if !ok {
		t.Fatalf("%s: %T %v, not a string", path, v, v)
	}
	return s
}

func list(t *testing.T, m map[string]any, member string) []any {
	t.Helper()
	l, ok := m[member].([]any)
	if !ok {
		t.Fatalf("%s: %T %v, not a list", member, m[member], m[member])
	}
	return l
}

func ids(t *testing.T, entries []any) []string {
	t.Helper()
	var out []string
	for i := range entries {
		out = append(out, str(t, entries[i], "Id"))
	}
	return out
}

type obj = map[string]any

// TestJSONQueueActions runs every queue action through the JSON protocol.
func TestJSONQueueActions(t *testing.T) {
	e := newEnv(t)
	base := e.url + "/" + testAccount + "/"

	// CreateQueue: attributes are a map; again with the same ones returns
	// the URL, with another value QueueNameExists.
	got := e.callJSON("CreateQueue", obj{"QueueName": "orders", "Attributes": obj{"VisibilityTimeout": "45", "DelaySeconds": "2"}}).ok(t)
	if !reflect.DeepEqual(got, obj{"QueueUrl": base + "orders"}) {
		t.Fatalf("CreateQueue: %v", got)
	}
	e.callJSON("CreateQueue", obj{"QueueName": "orders", "Attributes": obj{"VisibilityTimeout": "45"}}).ok(t)
	e.callJSON("CreateQueue", obj{"QueueName": "orders", "Attributes": obj{"DelaySeconds": "3"}}).fails(t, 400, CodeQueueAlreadyExists, "QueueNameExists")
	e.callJSON("CreateQueue", obj{}).fails(t, 400, CodeMissingParameter, "MissingParameter")
	e.callJSON("CreateQueue", obj{"QueueName": "x", "tags": obj{"team": "a"}}).fails(t, 400, CodeUnsupportedOperation, "UnsupportedOperation")
	e.callJSON("CreateQueue", obj{"QueueName": "x", "Attributes": obj{"Bogus": "1"}}).fails(t, 400, CodeInvalidAttributeName, "InvalidAttributeName")
	e.callJSON("CreateQueue", obj{"QueueName": "x", "Attributes": obj{"VisibilityTimeout": "43201"}}).fails(t, 400, CodeInvalidAttributeValue, "InvalidAttributeValue")
	e.callJSON("CreateQueue", obj{"QueueName": "has.dot"}).fails(t, 400, CodeInvalidParameterValue, "InvalidParameterValue")
	e.callJSON("CreateQueue", obj{"QueueName": "orders-dlq"}).ok(t)
	policy := `{"deadLetterTargetArn":"arn:aws:sqs:` + testRegion + ":" + testAccount + `:orders-dlq","maxReceiveCount":"3"}`

	// GetQueueUrl.
	if got := e.callJSON("GetQueueUrl", obj{"QueueName": "orders"}).ok(t); !reflect.DeepEqual(got, obj{"QueueUrl": base + "orders"}) {
		t.Fatalf("GetQueueUrl: %v", got)
	}
	if msg := e.callJSON("GetQueueUrl", obj{"QueueName": "nope"}).fails(t, 400, CodeNonExistentQueue, "QueueDoesNotExist"); msg != "The specified queue does not exist." {
		t.Fatalf("message %q", msg)
	}
	e.callJSON("GetQueueUrl", obj{"QueueName": "orders", "QueueOwnerAWSAccountId": "999999999999"}).fails(t, 400, CodeNonExistentQueue, "QueueDoesNotExist")

	// ListQueues: QueueUrls, pages with MaxResults and NextToken; no
	// member when nothing matches.
	all := e.callJSON("ListQueues", obj{}).ok(t)
	if got := list(t, all, "QueueUrls"); !reflect.DeepEqual(got, []any{base + "orders", base + "orders-dlq"}) {
		t.Fatalf("ListQueues: %v", got)
	}
	if _, has := all["NextToken"]; has {
		t.Fatalf("NextToken without MaxResults: %v", all)
	}
	page := e.callJSON("ListQueues", obj{"QueueNamePrefix": "orders", "MaxResults": 1}).ok(t)
	if got := list(t, page, "QueueUrls"); !reflect.DeepEqual(got, []any{base + "orders"}) {
		t.Fatalf("first page: %v", page)
	}
	page = e.callJSON("ListQueues", obj{"QueueNamePrefix": "orders", "MaxResults": 1, "NextToken": str(t, page, "NextToken")}).ok(t)
	if got := list(t, page, "QueueUrls"); !reflect.DeepEqual(got, []any{base + "orders-dlq"}) {
		t.Fatalf("second page: %v", page)
	}
	if got := e.callJSON("ListQueues", obj{"QueueNamePrefix": "zzz"}).ok(t); len(got) != 0 {
		t.Fatalf("no match: %v", got)
	}
	e.callJSON("ListQueues", obj{"MaxResults": 0}).fails(t, 400, CodeInvalidParameterValue, "InvalidParameterValue")

	// SetQueueAttributes and GetQueueAttributes: maps both ways.
	if got := e.callJSON("SetQueueAttributes", obj{"QueueUrl": base + "orders", "Attributes": obj{"VisibilityTimeout": "10", "RedrivePolicy": policy}}).ok(t); len(got) != 0 {
		t.Fatalf("SetQueueAttributes answered %v", got)
	}
	e.callJSON("SetQueueAttributes", obj{"QueueUrl": base + "orders"}).fails(t, 400, CodeMissingParameter, "MissingParameter")
	e.callJSON("SetQueueAttributes", obj{"QueueUrl": base + "orders", "Attributes": obj{"FifoQueue": "true"}}).fails(t, 400, CodeInvalidAttributeName, "InvalidAttributeName")
	attrs := e.callJSON("GetQueueAttributes", obj{"QueueUrl": base + "orders", "AttributeNames": []string{"All"}}).ok(t)
	a, ok := attrs["Attributes"].(map[string]any)
	if !ok || a["VisibilityTimeout"] != "10" || a["DelaySeconds"] != "2" || a["QueueArn"] != "arn:aws:sqs:"+testRegion+":"+testAccount+":orders" ||
		a["ApproximateNumberOfMessages"] != "0" || a["RedrivePolicy"] == nil {
		t.Fatalf("GetQueueAttributes: %v", attrs)
	}
	one := e.callJSON("GetQueueAttributes", obj{"QueueUrl": base + "orders", "AttributeNames": []string{"DelaySeconds"}}).ok(t)
	if !reflect.DeepEqual(one, obj{"Attributes": obj{"DelaySeconds": "2"}}) {
		t.Fatalf("one attribute: %v", one)
	}
	e.callJSON("GetQueueAttributes", obj{"QueueUrl": base + "orders", "AttributeNames": []string{"Bogus"}}).fails(t, 400, CodeInvalidAttributeName, "InvalidAttributeName")
	e.callJSON("GetQueueAttributes", obj{"QueueUrl": base + "nope"}).fails(t, 400, CodeNonExistentQueue, "QueueDoesNotExist")

	// ListDeadLetterSourceQueues: queueUrls (lower case, as SQS's model),
	// present even when empty.
	if got := e.callJSON("ListDeadLetterSourceQueues", obj{"QueueUrl": base + "orders-dlq"}).ok(t); !reflect.DeepEqual(got, obj{"queueUrls": []any{base + "orders"}}) {
		t.Fatalf("ListDeadLetterSourceQueues: %v", got)
	}
	if got := e.callJSON("ListDeadLetterSourceQueues", obj{"QueueUrl": base + "orders"}).ok(t); !reflect.DeepEqual(got, obj{"queueUrls": []any{}}) {
		t.Fatalf("ListDeadLetterSourceQueues of a queue without sources: %v", got)
	}
	e.callJSON("ListDeadLetterSourceQueues", obj{}).fails(t, 400, CodeMissingParameter, "MissingParameter")

	// PurgeQueue and DeleteQueue answer {}.
	e.callJSON("SendMessage", obj{"QueueUrl": base + "orders", "MessageBody": "x"}).ok(t)
	if got := e.callJSON("PurgeQueue", obj{"QueueUrl": base + "orders"}).ok(t); len(got) != 0 {
		t.Fatalf("PurgeQueue answered %v", got)
	}
	e.callJSON("SetQueueAttributes", obj{"QueueUrl": base + "orders", "Attributes": obj{"DelaySeconds": "0"}}).ok(t)
	if n := len(e.callJSON("ReceiveMessage", obj{"QueueUrl": base + "orders"}).ok(t)); n != 0 {
		t.Fatal("a message survived the purge")
	}
	if got := e.callJSON("DeleteQueue", obj{"QueueUrl": base + "orders"}).ok(t); len(got) != 0 {
		t.Fatalf("DeleteQueue answered %v", got)
	}
	e.callJSON("GetQueueUrl", obj{"QueueName": "orders"}).fails(t, 400, CodeNonExistentQueue, "QueueDoesNotExist")
	e.callJSON("DeleteQueue", obj{"QueueUrl": base + "orders"}).fails(t, 400, CodeNonExistentQueue, "QueueDoesNotExist")
	e.callJSON("PurgeQueue", obj{"QueueUrl": "::bad"}).fails(t, 400, CodeInvalidAddress, "InvalidAddress")
}

// TestJSONMessageActions runs every message action through the JSON
// protocol, with message attributes, batches and their per-entry failures.
func TestJSONMessageActions(t *testing.T) {
	e := newEnv(t)
	q := e.url + "/" + testAccount + "/work"
	e.callJSON("CreateQueue", obj{"QueueName": "work"}).ok(t)

	// SendMessage: the same attributes as attrsVector, as a JSON map
	// (binary values base64), give the same digest.
	body := "hello <world> & \"you\"\r\n\ttab ✓ 𝄞"
	msgAttrs := obj{
		"city":       obj{"DataType": "String", "StringValue": "Any City"},
		"population": obj{"DataType": "Number", "StringValue": "1250800"},
		"blob":       obj{"DataType": "Binary", "BinaryValue": "AAH/"},
		"note":       obj{"DataType": "String.custom", "StringValue": "héllo"},
	}
	sent := e.callJSON("SendMessage", obj{"QueueUrl": q, "MessageBody": body, "MessageAttributes": msgAttrs}).ok(t)
	if sent["MD5OfMessageBody"] != md5hex(body) || sent["MD5OfMessageAttributes"] != attrsVectorMD5 || str(t, sent, "MessageId") == "" {
		t.Fatalf("SendMessage: %v", sent)
	}
	if _, has := sent["SequenceNumber"]; has {
		t.Fatalf("a standard queue's send has a SequenceNumber: %v", sent)
	}
	e.callJSON("SendMessage", obj{"QueueUrl": q}).fails(t, 400, CodeMissingParameter, "MissingParameter")
	e.callJSON("SendMessage", obj{"QueueUrl": q, "MessageBody": "x", "DelaySeconds": 901}).fails(t, 400, CodeInvalidParameterValue, "InvalidParameterValue")
	e.callJSON("SendMessage", obj{"QueueUrl": q, "MessageBody": "\x01"}).fails(t, 400, CodeInvalidMessageContent, "InvalidMessageContents")
	e.callJSON("SendMessage", obj{"QueueUrl": q, "MessageBody": "x",
		"MessageAttributes": obj{"l": obj{"DataType": "String", "StringListValues": []string{"a"}}}}).fails(t, 400, CodeUnsupportedOperation, "UnsupportedOperation")
	e.callJSON("SendMessage", obj{"QueueUrl": q, "MessageBody": "x",
		"MessageSystemAttributes": obj{"AWSTraceHeader": obj{"DataType": "String", "StringValue": "Root=1"}}}).fails(t, 400, CodeUnsupportedOperation, "UnsupportedOperation")

	// ReceiveMessage: Messages with system attributes and message
	// attributes as maps.
	got := e.callJSON("ReceiveMessage", obj{"QueueUrl": q, "MaxNumberOfMessages": 10, "VisibilityTimeout": 30, "WaitTimeSeconds": 0,
		"MessageSystemAttributeNames": []string{"All"}, "MessageAttributeNames": []string{"All"}}).ok(t)
	msgs := list(t, got, "Messages")
	if len(msgs) != 1 {
		t.Fatalf("ReceiveMessage: %v", got)
	}
	m := msgs[0].(map[string]any)
	if m["MessageId"] != sent["MessageId"] || m["Body"] != body || m["MD5OfBody"] != md5hex(body) || m["MD5OfMessageAttributes"] != attrsVectorMD5 {
		t.Fatalf("message: %v", m)
	}
	handle := str(t, m, "ReceiptHandle")
	if str(t, m, "Attributes.ApproximateReceiveCount") != "1" || str(t, m, "Attributes.SentTimestamp") == "" {
		t.Fatalf("system attributes: %v", m["Attributes"])
	}
	wantAttrs := obj{
		"city":       obj{"DataType": "String", "StringValue": "Any City"},
		"population": obj{"DataType": "Number", "StringValue": "1250800"},
		"blob":       obj{"DataType": "Binary", "BinaryValue": "AAH/"},
		"note":       obj{"DataType": "String.custom", "StringValue": "héllo"},
	}
	if !reflect.DeepEqual(m["MessageAttributes"], map[string]any(wantAttrs)) {
		t.Fatalf("MessageAttributes %v", m["MessageAttributes"])
	}
	// Asked for none: neither map is there.
	e.callJSON("ChangeMessageVisibility", obj{"QueueUrl": q, "ReceiptHandle": handle, "VisibilityTimeout": 0}).ok(t)
	got = e.callJSON("ReceiveMessage", obj{"QueueUrl": q, "AttributeNames": []string{"ApproximateReceiveCount"}}).ok(t)
	m = list(t, got, "Messages")[0].(map[string]any)
	if _, has := m["MessageAttributes"]; has || !reflect.DeepEqual(m["Attributes"], map[string]any{"ApproximateReceiveCount": "2"}) {
		t.Fatalf("second delivery: %v", m)
	}
	handle = str(t, m, "ReceiptHandle")
	e.callJSON("ReceiveMessage", obj{"QueueUrl": q, "MaxNumberOfMessages": 11}).fails(t, 400, CodeInvalidParameterValue, "InvalidParameterValue")
	if got := e.callJSON("ReceiveMessage", obj{"QueueUrl": q}).ok(t); len(got) != 0 {
		t.Fatalf("nothing visible: %v", got)
	}

	// ChangeMessageVisibility, DeleteMessage: {} or errors.
	if got := e.callJSON("ChangeMessageVisibility", obj{"QueueUrl": q, "ReceiptHandle": handle, "VisibilityTimeout": 60}).ok(t); len(got) != 0 {
		t.Fatalf("ChangeMessageVisibility answered %v", got)
	}
	e.callJSON("ChangeMessageVisibility", obj{"QueueUrl": q, "ReceiptHandle": handle}).fails(t, 400, CodeMissingParameter, "MissingParameter")
	if got := e.callJSON("DeleteMessage", obj{"QueueUrl": q, "ReceiptHandle": handle}).ok(t); len(got) != 0 {
		t.Fatalf("DeleteMessage answered %v", got)
	}
	e.callJSON("ChangeMessageVisibility", obj{"QueueUrl": q, "ReceiptHandle": handle, "VisibilityTimeout": 5}).fails(t, 400, CodeMessageNotInflight, "MessageNotInflight")
	e.callJSON("DeleteMessage", obj{"QueueUrl": q, "ReceiptHandle": "garbage"}).fails(t, 400, CodeReceiptHandleInvalid, "ReceiptHandleIsInvalid")
	e.callJSON("DeleteMessage", obj{"QueueUrl": q}).fails(t, 400, CodeMissingParameter, "MissingParameter")

	// SendMessageBatch: Entries; Successful and Failed, both present.
	batch := e.callJSON("SendMessageBatch", obj{"QueueUrl": q, "Entries": []obj{
		{"Id": "a", "MessageBody": "A", "MessageAttributes": msgAttrs},
		{"Id": "b", "MessageBody": "B", "DelaySeconds": 0},
		{"Id": "bad", "MessageBody": "C", "MessageGroupId": "g"},
	}}).ok(t)
	okEntries, failed := list(t, batch, "Successful"), list(t, batch, "Failed")
	if !reflect.DeepEqual(ids(t, okEntries), []string{"a", "b"}) || !reflect.DeepEqual(ids(t, failed), []string{"bad"}) {
		t.Fatalf("SendMessageBatch: %v", batch)
	}
	if str(t, okEntries[0], "MD5OfMessageAttributes") != attrsVectorMD5 || str(t, okEntries[1], "MD5OfMessageBody") != md5hex("B") || str(t, okEntries[1], "MessageId") == "" {
		t.Fatalf("successful entries: %v", okEntries)
	}
	f := failed[0].(map[string]any)
	if f["SenderFault"] != true || f["Code"] != CodeInvalidParameterValue || f["Message"] == "" {
		t.Fatalf("failed entry: %v", f)
	}
	e.callJSON("SendMessageBatch", obj{"QueueUrl": q, "Entries": []obj{}}).fails(t, 400, CodeEmptyBatchRequest, "EmptyBatchRequest")
	e.callJSON("SendMessageBatch", obj{"QueueUrl": q, "Entries": []obj{{"Id": "x", "MessageBody": "1"}, {"Id": "x", "MessageBody": "2"}}}).
		fails(t, 400, CodeBatchEntryIDsNotDist, "BatchEntryIdsNotDistinct")
	e.callJSON("SendMessageBatch", obj{"QueueUrl": q, "Entries": []obj{{"Id": "no spaces", "MessageBody": "1"}}}).fails(t, 400, CodeInvalidBatchEntryID, "InvalidBatchEntryId")
	eleven := make([]obj, 11)
	for i := range eleven {
		eleven[i] = obj{"Id": string(rune('a' + i)), "MessageBody": "x"}
	}
	e.callJSON("SendMessageBatch", obj{"QueueUrl": q, "Entries": eleven}).fails(t, 400, CodeTooManyEntries, "TooManyEntriesInBatchRequest")

	// ChangeMessageVisibilityBatch and DeleteMessageBatch: one good entry,
	// one bad, each.
	got = e.callJSON("ReceiveMessage", obj{"QueueUrl": q, "MaxNumberOfMessages": 10}).ok(t)
	msgs = list(t, got, "Messages")
	if len(msgs) != 2 {
		t.Fatalf("batch messages: %v", got)
	}
	h0, h1 := str(t, msgs[0], "ReceiptHandle"), str(t, msgs[1], "ReceiptHandle")
	vis := e.callJSON("ChangeMessageVisibilityBatch", obj{"QueueUrl": q, "Entries": []obj{
		{"Id": "0", "ReceiptHandle": h0, "VisibilityTimeout": 120},
		{"Id": "1", "ReceiptHandle": "garbage", "VisibilityTimeout": 120},
		{"Id": "2", "ReceiptHandle": h1},
	}}).ok(t)
	if !reflect.DeepEqual(ids(t, list(t, vis, "Successful")), []string{"0"}) || !reflect.DeepEqual(ids(t, list(t, vis, "Failed")), []string{"1", "2"}) {
		t.Fatalf("ChangeMessageVisibilityBatch: %v", vis)
	}
	if code := str(t, list(t, vis, "Failed")[0], "Code"); code != CodeReceiptHandleInvalid {
		t.Fatalf("bad handle: %s", code)
	}
	del := e.callJSON("DeleteMessageBatch", obj{"QueueUrl": q, "Entries": []obj{
		{"Id": "x", "ReceiptHandle": h0},
		{"Id": "y", "ReceiptHandle": h1},
		{"Id": "z", "ReceiptHandle": "garbage"},
	}}).ok(t)
	if !reflect.DeepEqual(ids(t, list(t, del, "Successful")), []string{"x", "y"}) || !reflect.DeepEqual(ids(t, list(t, del, "Failed")), []string{"z"}) {
		t.Fatalf("DeleteMessageBatch: %v", del)
	}
	if all := e.callJSON("DeleteMessageBatch", obj{"QueueUrl": q, "Entries": []obj{{"Id": "x", "ReceiptHandle": h0}}}).ok(t); len(list(t, all, "Failed")) != 0 ||
		len(list(t, all, "Successful")) != 1 {
		t.Fatalf("deleting a deleted message again: %v", all)
	}
	e.callJSON("DeleteMessageBatch", obj{"QueueUrl": q}).fails(t, 400, CodeEmptyBatchRequest, "EmptyBatchRequest")
	e.callJSON("ChangeMessageVisibilityBatch", obj{"QueueUrl": q}).fails(t, 400, CodeEmptyBatchRequest, "EmptyBatchRequest")
}

// TestJSONFIFO: group and deduplication ids, sequence numbers, and SQS's
// refusal of a send without a deduplication id to a queue that does not
// deduplicate by content.
func TestJSONFIFO(t *testing.T) {
	e := newEnv(t)
	q := e.url + "/" + testAccount + "/jobs.fifo"
	e.callJSON("CreateQueue", obj{"QueueName": "jobs.fifo", "Attributes": obj{"FifoQueue": "true"}}).ok(t)
	msg := e.callJSON("SendMessage", obj{"QueueUrl": q, "MessageBody": "a1", "MessageGroupId": "A"}).fails(t, 400, CodeInvalidParameterValue, "InvalidParameterValue")
	if msg != "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly" {
		t.Fatalf("message %q", msg)
	}
	a1 := e.callJSON("SendMessage", obj{"QueueUrl": q, "MessageBody": "a1", "MessageGroupId": "A", "MessageDeduplicationId": "a1"}).ok(t)
	dup := e.callJSON("SendMessage", obj{"QueueUrl": q, "MessageBody": "again", "MessageGroupId": "A", "MessageDeduplicationId": "a1"}).ok(t)
	if str(t, a1, "SequenceNumber") == "" || a1["MessageId"] != dup["MessageId"] {
		t.Fatalf("FIFO sends: %v, %v", a1, dup)
	}
	b := e.callJSON("SendMessageBatch", obj{"QueueUrl": q, "Entries": []obj{
		{"Id": "b1", "MessageBody": "b1", "MessageGroupId": "B", "MessageDeduplicationId": "b1"},
		{"Id": "b2", "MessageBody": "b2", "MessageGroupId": "B"},
	}}).ok(t)
	if s := list(t, b, "Successful"); len(s) != 1 || str(t, s[0], "SequenceNumber") == "" {
		t.Fatalf("FIFO batch: %v", b)
	}
	if f := list(t, b, "Failed"); len(f) != 1 || str(t, f[0], "Id") != "b2" || str(t, f[0], "Code") != CodeInvalidParameterValue {
		t.Fatalf("FIFO batch without a deduplication id: %v", b)
	}
	got := e.callJSON("ReceiveMessage", obj{"QueueUrl": q, "MaxNumberOfMessages": 10, "MessageSystemAttributeNames": []string{"MessageGroupId", "MessageDeduplicationId"}}).ok(t)
	var bodies []string
	for _, m := range list(t, got, "Messages") {
		bodies = append(bodies, str(t, m, "Body")+"/"+str(t, m, "Attributes.MessageGroupId")+"/"+str(t, m, "Attributes.MessageDeduplicationId"))
	}
	sort.Strings(bodies)
	if !reflect.DeepEqual(bodies, []string{"a1/A/a1", "b1/B/b1"}) {
		t.Fatalf("FIFO receive: %v", bodies)
	}
}

// TestJSONProtocol: the JSON protocol's own errors (target, body, method)
// and SigV4 over JSON requests, with the error shape of the protocol.
func TestJSONProtocol(t *testing.T) {
	e := newEnv(t)
	// An empty body is an empty input.
	e.callJSON("ListQueues", "").ok(t)

	e.callJSON("Frobnicate", obj{}).fails(t, 400, CodeInvalidAction, "InvalidAction")
	e.callJSON("TagQueue", obj{}).fails(t, 400, CodeInvalidAction, "InvalidAction")
	odd := e.jsonRequest(http.MethodPost, "ListQueues", obj{})
	odd.Header.Set("X-Amz-Target", "AmazonSNS.ListQueues")
	e.sendJSON(odd, signOpts()).fails(t, 400, CodeInvalidAction, "InvalidAction")
	for _, body := range []string{`not json`, `{"MaxResults":"ten"}`, `{"MaxResults":1.5}`, `{"AttributeNames":"All"}`, `{} {}`, `[]`} {
		e.callJSON("ListQueues", body).fails(t, 400, CodeSerialization, "SerializationException")
	}
	get := e.jsonRequest(http.MethodGet, "ListQueues", "")
	e.sendJSON(get, signOpts()).fails(t, 405, CodeInvalidAction, "InvalidAction")

	// SigV4 over the JSON request: the target and the body are signed.
	e.sendJSON(e.jsonRequest(http.MethodPost, "ListQueues", obj{}), sigv4.SignOptions{}).fails(t, 403, CodeMissingAuthToken, "MissingAuthenticationToken")
	wrong := testCred
	wrong.SecretAccessKey = "not the secret"
	e.sendJSON(e.jsonRequest(http.MethodPost, "ListQueues", obj{}), sigv4.SignOptions{Credential: wrong, Region: testRegion, Service: "sqs"}).
		fails(t, 403, CodeSignatureDoesNotMatch, "SignatureDoesNotMatch")
	unknown := testCred
	unknown.AccessKeyID = "AKIDUNKNOWN"
	e.sendJSON(e.jsonRequest(http.MethodPost, "ListQueues", obj{}), sigv4.SignOptions{Credential: unknown, Region: testRegion, Service: "sqs"}).
		fails(t, 403, CodeInvalidClientTokenID, "InvalidClientTokenId")
	e.sendJSON(e.jsonRequest(http.MethodPost, "ListQueues", obj{}), sigv4.SignOptions{Credential: testCred, Region: testRegion, Service: "sqs", Time: time.Now().Add(-time.Hour)}).
		fails(t, 400, CodeRequestExpired, "RequestExpired")
	retarget := e.jsonRequest(http.MethodPost, "ListQueues", obj{})
	if err := sigv4.Sign(retarget, signOpts()); err != nil {
		t.Fatal(err)
	}
	retarget.Header.Set("X-Amz-Target", "AmazonSQS.DeleteQueue")
	e.sendJSON(retarget, sigv4.SignOptions{}).fails(t, 403, CodeSignatureDoesNotMatch, "SignatureDoesNotMatch")
	tampered := e.jsonRequest(http.MethodPost, "CreateQueue", obj{"QueueName": "a"})
	if err := sigv4.Sign(tampered, signOpts()); err != nil {
		t.Fatal(err)
	}
	b := []byte(`{"QueueName":"b"}`)
	tampered.Body, tampered.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
	e.sendJSON(tampered, sigv4.SignOptions{}).fails(t, 403, CodeSignatureDoesNotMatch, "SignatureDoesNotMatch")
	big := e.jsonRequest(http.MethodPost, "SendMessage", obj{"QueueUrl": e.url + "/" + testAccount + "/q", "MessageBody": strings.Repeat("x", sigv4.DefaultMaxBodyBytes)})
	e.sendJSON(big, signOpts()).fails(t, 413, CodeRequestEntityTooLarge, "RequestEntityTooLarge")
}
