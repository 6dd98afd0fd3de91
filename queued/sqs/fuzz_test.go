package sqs

import (
	"net/url"
	"reflect"
	"testing"
)

// FuzzParseForm feeds arbitrary query strings and bodies to the form parser
// and every request decoder: none may panic; a form that parses encodes
// back (url.Values) to one that parses to the same parameters; decoders
// return either a value or an SQS error with a code.
func FuzzParseForm(f *testing.F) {
	seeds := [][2]string{
		{"Action=ListQueues", ""},
		{"", "Action=SendMessage&MessageBody=hi&MessageAttribute.1.Name=a&MessageAttribute.1.Value.DataType=String&MessageAttribute.1.Value.StringValue=v"},
		{"", "SendMessageBatchRequestEntry.1.Id=a&SendMessageBatchRequestEntry.1.MessageBody=x&SendMessageBatchRequestEntry.2.Id=a"},
		{"", "Attribute.1.Name=RedrivePolicy&Attribute.1.Value=%7B%22deadLetterTargetArn%22%3A%22arn%3Aaws%3Asqs%3Aus-east-1%3A000000000000%3Ad%22%2C%22maxReceiveCount%22%3A3%7D"},
		{"", "Attribute.1.Name=FifoQueue&Attribute.1.Value=true&Attribute.2.Name=VisibilityTimeout&Attribute.2.Value=0"},
		{"a=%zz", "b=1&b=2"},
		{"L.01=a&L.1000=b", "MaxNumberOfMessages=10&WaitTimeSeconds=20&AttributeName.1=All&MessageAttributeName.1=a.*"},
		{"", "MessageAttribute.1.Name=b&MessageAttribute.1.Value.DataType=Binary&MessageAttribute.1.Value.BinaryValue=AAH%2F"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, query, body string) {
		fm, e := parseForm(query, body)
		if e != nil {
			if e.Code == "" || e.Message == "" {
				t.Fatalf("error without code or message: %+v", e)
			}
			return
		}
		v := url.Values{}
		for k, val := range fm {
			v.Set(k, val)
		}
		again, e := parseForm("", v.Encode())
		if e != nil {
			t.Fatalf("re-encoded form does not parse: %v", e)
		}
		if len(fm) > 0 && !reflect.DeepEqual(fm, again) {
			t.Fatalf("round trip: %v != %v", fm, again)
		}
		check := func(e *Error) {
			if e != nil && (e.Code == "" || e.Message == "" || e.Status < 400) {
				t.Fatalf("bad error %+v", e)
			}
		}
		_, e = fm.list("AttributeName")
		check(e)
		_, e = fm.pairs("Attribute", "Name", "Value")
		check(e)
		_, e = decodeQueueAttributes(fm, true, "us-east-1", "000000000000")
		check(e)
		_, e = decodeSendEntry(fm, "")
		check(e)
		_, e = decodeReceive(fm, "q")
		check(e)
		_, e = decodeMessageAttributes(fm, "MessageAttribute")
		check(e)
		for _, p := range []string{sendBatchPrefix, deleteBatchPrefix, visibilityBatchPrefix} {
			ms, _, e := batchEntries(fm, p)
			check(e)
			for _, m := range ms {
				_, e := decodeSendEntry(m.sub, "")
				check(e)
				_, e = visibilityTimeout(m.sub, "")
				check(e)
			}
		}
	})
}

// FuzzDecodeJSON feeds arbitrary JSON protocol bodies to decodeJSON: it
// must not panic; it returns a SerializationException or parameters whose
// structured members the query decoders read without panicking, and which
// encode back (url.Values) to the same form.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{
		`{}`, ``, `{"QueueName":"q","Attributes":{"VisibilityTimeout":"0","FifoQueue":"true"},"tags":{"a":"b"}}`,
		`{"QueueUrl":"http://h/000000000000/q","MessageBody":"x","DelaySeconds":5,"MessageAttributes":{"a":{"DataType":"String","StringValue":"v"},"b":{"DataType":"Binary","BinaryValue":"AAH/"}}}`,
		`{"Entries":[{"Id":"a","MessageBody":"x","MessageGroupId":"g"},{"Id":"b","ReceiptHandle":"h","VisibilityTimeout":3}]}`,
		`{"AttributeNames":["All"],"MessageSystemAttributeNames":["All"],"MaxNumberOfMessages":10,"WaitTimeSeconds":20}`,
		`{"MaxResults":1.5}`, `{"Entries":[{"Entries":[{"Id":"x"}]}]}`, `null`, `{"MessageAttributes":{"l":{"StringListValues":["a"]}}}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		fm, e := decodeJSON("SendMessageBatch", []byte(body))
		if e != nil {
			if e.Code != CodeSerialization || e.Message == "" || e.Status != 400 {
				t.Fatalf("bad error %+v", e)
			}
			return
		}
		if fm["Action"] != "SendMessageBatch" {
			t.Fatalf("Action %q", fm["Action"])
		}
		v := url.Values{}
		for k, val := range fm {
			v.Set(k, val)
		}
		again, e := parseForm("", v.Encode())
		if e != nil || !reflect.DeepEqual(fm, again) {
			t.Fatalf("round trip: %v, %v != %v", e, fm, again)
		}
		_, _ = decodeQueueAttributes(fm, true, "us-east-1", "000000000000")
		_, _ = decodeSendEntry(fm, "")
		_, _ = decodeReceive(fm, "q")
		ms, _, _ := batchEntries(fm, sendBatchPrefix)
		for _, m := range ms {
			_, _ = decodeSendEntry(m.sub, "")
		}
	})
}
