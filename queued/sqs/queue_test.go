package sqs

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestQueueActions(t *testing.T) {
	e := newEnv(t)
	base := e.url + "/" + testAccount + "/"

	// CreateQueue, with attributes; again with the same ones or a subset
	// returns the URL; with another value it fails.
	created := time.Now().Unix()
	doc := e.call("CreateQueue", "QueueName", "orders",
		"Attribute.1.Name", "VisibilityTimeout", "Attribute.1.Value", "45",
		"Attribute.2.Name", "MessageRetentionPeriod", "Attribute.2.Value", "3600",
		"Attribute.3.Name", "DelaySeconds", "Attribute.3.Value", "2",
		"Attribute.4.Name", "MaximumMessageSize", "Attribute.4.Value", "2048",
		"Attribute.5.Name", "ReceiveMessageWaitTimeSeconds", "Attribute.5.Value", "3",
	).ok(t)
	if got := doc.text("CreateQueueResult/QueueUrl"); got != base+"orders" {
		t.Fatalf("QueueUrl %q", got)
	}
	if doc.name != "CreateQueueResponse" || doc.attr("xmlns") != xmlnsWant {
		t.Fatalf("envelope: %s %q", doc.name, doc.attr("xmlns"))
	}
	e.call("CreateQueue", "QueueName", "orders", "Attribute.1.Name", "VisibilityTimeout", "Attribute.1.Value", "45").ok(t)
	e.call("CreateQueue", "QueueName", "orders").ok(t)
	msg := e.call("CreateQueue", "QueueName", "orders", "Attribute.1.Name", "DelaySeconds", "Attribute.1.Value", "3").fails(t, 400, CodeQueueAlreadyExists)
	if !strings.Contains(msg, "DelaySeconds") {
		t.Fatalf("message %q does not name the attribute", msg)
	}

	// A queue created with VisibilityTimeout 0 has 0, not queued's default.
	e.call("CreateQueue", "QueueName", "instant", "Attribute.1.Name", "VisibilityTimeout", "Attribute.1.Value", "0").ok(t)
	if v := e.call("GetQueueAttributes", "QueueUrl", base+"instant", "AttributeName.1", "VisibilityTimeout").ok(t).
		pairs("GetQueueAttributesResult/Attribute")["VisibilityTimeout"]; v != "0" {
		t.Fatalf("VisibilityTimeout %q, want 0", v)
	}

	// Names: SQS's rules for new queues.
	for _, bad := range []string{"has.dot", "x.fifo", strings.Repeat("a", 81), "sp ace", ""} {
		e.call("CreateQueue", "QueueName", bad).fails(t, 400, CodeInvalidParameterValue)
	}
	e.call("CreateQueue").fails(t, 400, CodeMissingParameter)
	e.call("CreateQueue", "QueueName", "x", "Attribute.1.Name", "VisibilityTimeout", "Attribute.1.Value", "43201").fails(t, 400, CodeInvalidAttributeValue)
	e.call("CreateQueue", "QueueName", "x", "Attribute.1.Name", "Bogus", "Attribute.1.Value", "1").fails(t, 400, CodeInvalidAttributeName)
	e.call("CreateQueue", "QueueName", "x", "Attribute.1.Name", "Policy", "Attribute.1.Value", "{}").fails(t, 400, CodeInvalidAttributeName)
	e.call("CreateQueue", "QueueName", "x", "Tag.1.Key", "team", "Tag.1.Value", "a").fails(t, 400, CodeUnsupportedOperation)
	e.call("CreateQueue", "QueueName", "x", "Attribute.1.Name", "VisibilityTimeout").fails(t, 400, CodeMissingParameter)

	// GetQueueUrl.
	if got := e.call("GetQueueUrl", "QueueName", "orders").ok(t).text("GetQueueUrlResult/QueueUrl"); got != base+"orders" {
		t.Fatalf("GetQueueUrl %q", got)
	}
	e.call("GetQueueUrl", "QueueName", "nope").fails(t, 400, CodeNonExistentQueue)
	e.call("GetQueueUrl", "QueueName", "bad name").fails(t, 400, CodeNonExistentQueue)
	e.call("GetQueueUrl", "QueueName", "orders", "QueueOwnerAWSAccountId", "999999999999").fails(t, 400, CodeNonExistentQueue)
	e.call("GetQueueUrl").fails(t, 400, CodeMissingParameter)

	// GetQueueAttributes: All, and each name.
	attrs := e.call("GetQueueAttributes", "QueueUrl", base+"orders", "AttributeName.1", "All").ok(t).pairs("GetQueueAttributesResult/Attribute")
	want := map[string]string{
		"QueueArn": "arn:aws:sqs:" + testRegion + ":" + testAccount + ":orders", "VisibilityTimeout": "45",
		"MessageRetentionPeriod": "3600", "DelaySeconds": "2", "MaximumMessageSize": "2048",
		"ReceiveMessageWaitTimeSeconds": "3", "ApproximateNumberOfMessages": "0",
		"ApproximateNumberOfMessagesNotVisible": "0", "ApproximateNumberOfMessagesDelayed": "0",
	}
	for k, v := range want {
		if attrs[k] != v {
			t.Errorf("%s = %q, want %q", k, attrs[k], v)
		}
	}
	for _, k := range []string{"CreatedTimestamp", "LastModifiedTimestamp"} {
		n, err := strconv.ParseInt(attrs[k], 10, 64)
		if err != nil || n < created-5 || n > time.Now().Unix()+5 {
			t.Errorf("%s = %q, want about %d", k, attrs[k], created)
		}
	}
	for _, k := range []string{"FifoQueue", "ContentBasedDeduplication", "RedrivePolicy"} {
		if _, ok := attrs[k]; ok {
			t.Errorf("standard queue without redrive reports %s", k)
		}
	}
	for k, v := range want {
		got := e.call("GetQueueAttributes", "QueueUrl", base+"orders", "AttributeName.1", k).ok(t).pairs("GetQueueAttributesResult/Attribute")
		if len(got) != 1 || got[k] != v {
			t.Errorf("GetQueueAttributes %s: %v", k, got)
		}
	}
	if got := e.call("GetQueueAttributes", "QueueUrl", base+"orders", "AttributeName.1", "FifoQueue").ok(t).
		pairs("GetQueueAttributesResult/Attribute"); got["FifoQueue"] != "false" {
		t.Errorf("FifoQueue named: %v", got)
	}
	if got := e.call("GetQueueAttributes", "QueueUrl", base+"orders", "AttributeName.1", "Policy").ok(t).
		pairs("GetQueueAttributesResult/Attribute"); len(got) != 0 {
		t.Errorf("Policy: %v", got)
	}
	if got := e.call("GetQueueAttributes", "QueueUrl", base+"orders").ok(t).pairs("GetQueueAttributesResult/Attribute"); len(got) != 0 {
		t.Errorf("no names: %v", got)
	}
	e.call("GetQueueAttributes", "QueueUrl", base+"orders", "AttributeName.1", "Nope").fails(t, 400, CodeInvalidAttributeName)
	e.call("GetQueueAttributes", "QueueUrl", base+"nope", "AttributeName.1", "All").fails(t, 400, CodeNonExistentQueue)
	e.call("GetQueueAttributes", "QueueUrl", e.url+"/999999999999/orders").fails(t, 400, CodeNonExistentQueue)
	e.call("GetQueueAttributes", "QueueUrl", "http://[bad").fails(t, 400, CodeInvalidAddress)
	e.call("GetQueueAttributes").fails(t, 400, CodeMissingParameter)

	// SetQueueAttributes.
	e.call("SetQueueAttributes", "QueueUrl", base+"orders",
		"Attribute.1.Name", "VisibilityTimeout", "Attribute.1.Value", "0",
		"Attribute.2.Name", "DelaySeconds", "Attribute.2.Value", "0").ok(t)
	attrs = e.call("GetQueueAttributes", "QueueUrl", base+"orders", "AttributeName.1", "VisibilityTimeout", "AttributeName.2", "DelaySeconds").ok(t).
		pairs("GetQueueAttributesResult/Attribute")
	if attrs["VisibilityTimeout"] != "0" || attrs["DelaySeconds"] != "0" {
		t.Fatalf("after set: %v", attrs)
	}
	e.call("SetQueueAttributes", "QueueUrl", base+"orders").fails(t, 400, CodeMissingParameter)
	e.call("SetQueueAttributes", "QueueUrl", base+"orders", "Attribute.1.Name", "FifoQueue", "Attribute.1.Value", "true").fails(t, 400, CodeInvalidAttributeName)
	e.call("SetQueueAttributes", "QueueUrl", base+"orders", "Attribute.1.Name", "QueueArn", "Attribute.1.Value", "x").fails(t, 400, CodeInvalidAttributeName)
	e.call("SetQueueAttributes", "QueueUrl", base+"orders", "Attribute.1.Name", "MessageRetentionPeriod", "Attribute.1.Value", "59").fails(t, 400, CodeInvalidAttributeValue)
	e.call("SetQueueAttributes", "QueueUrl", base+"orders", "Attribute.1.Name", "ContentBasedDeduplication", "Attribute.1.Value", "true").fails(t, 400, CodeInvalidParameterValue)
	e.call("SetQueueAttributes", "QueueUrl", base+"nope", "Attribute.1.Name", "DelaySeconds", "Attribute.1.Value", "1").fails(t, 400, CodeNonExistentQueue)

	// ListQueues: all, by prefix, and in pages.
	for _, n := range []string{"list-a", "list-b", "list-c", "list-d", "list-e"} {
		e.call("CreateQueue", "QueueName", n).ok(t)
	}
	urls := func(d *xnode) []string {
		var out []string
		for _, u := range d.all("ListQueuesResult/QueueUrl") {
			out = append(out, strings.TrimPrefix(u.text_, base))
		}
		return out
	}
	if got := urls(e.call("ListQueues").ok(t)); strings.Join(got, ",") != "instant,list-a,list-b,list-c,list-d,list-e,orders" {
		t.Fatalf("ListQueues: %v", got)
	}
	if got := urls(e.call("ListQueues", "QueueNamePrefix", "list-").ok(t)); len(got) != 5 {
		t.Fatalf("prefix: %v", got)
	}
	var pages []string
	token := ""
	for i := 0; ; i++ {
		params := []string{"QueueNamePrefix", "list-", "MaxResults", "2"}
		if token != "" {
			params = append(params, "NextToken", token)
		}
		d := e.call("ListQueues", params...).ok(t)
		pages = append(pages, strings.Join(urls(d), ","))
		token = d.text("ListQueuesResult/NextToken")
		if token == "" || i > 5 {
			break
		}
	}
	if got := strings.Join(pages, "|"); got != "list-a,list-b|list-c,list-d|list-e" {
		t.Fatalf("pages: %s", got)
	}
	e.call("ListQueues", "MaxResults", "0").fails(t, 400, CodeInvalidParameterValue)
	e.call("ListQueues", "MaxResults", "1001").fails(t, 400, CodeInvalidParameterValue)
	e.call("ListQueues", "MaxResults", "1", "NextToken", "!!").fails(t, 400, CodeInvalidParameterValue)

	// PurgeQueue empties; DeleteQueue removes.
	e.call("SendMessage", "QueueUrl", base+"list-a", "MessageBody", "x").ok(t)
	e.call("PurgeQueue", "QueueUrl", base+"list-a").ok(t)
	if got := e.call("ReceiveMessage", "QueueUrl", base+"list-a").ok(t).all("ReceiveMessageResult/Message"); len(got) != 0 {
		t.Fatalf("after purge: %d messages", len(got))
	}
	e.call("PurgeQueue", "QueueUrl", base+"nope").fails(t, 400, CodeNonExistentQueue)
	e.call("DeleteQueue", "QueueUrl", base+"list-a").ok(t)
	e.call("GetQueueUrl", "QueueName", "list-a").fails(t, 400, CodeNonExistentQueue)
	e.call("DeleteQueue", "QueueUrl", base+"list-a").fails(t, 400, CodeNonExistentQueue)
}

// TestQueueURLFromRequest: queue URLs carry the host the request came to;
// a request may name its queue by its path instead of QueueUrl, or come as
// a GET with a query string.
func TestQueueURLFromRequest(t *testing.T) {
	e := newEnv(t)
	e.call("CreateQueue", "QueueName", "paths").ok(t)
	e.callPath("/"+testAccount+"/paths", "SendMessage", "MessageBody", "by path").ok(t)
	doc := e.callPath("/"+testAccount+"/paths", "ReceiveMessage").ok(t)
	if got := doc.text("ReceiveMessageResult/Message/Body"); got != "by path" {
		t.Fatalf("body %q", got)
	}
	e.callPath("/"+testAccount+"/nope", "SendMessage", "MessageBody", "x").fails(t, 400, CodeNonExistentQueue)

	req, err := http.NewRequest(http.MethodGet, e.url+"/?Action=GetQueueUrl&QueueName=paths", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "sqs.example.test:4443"
	r := e.send(req, signOpts())
	if got := r.ok(t).text("GetQueueUrlResult/QueueUrl"); got != "http://sqs.example.test:4443/"+testAccount+"/paths" {
		t.Fatalf("GET GetQueueUrl: %q", got)
	}
}
