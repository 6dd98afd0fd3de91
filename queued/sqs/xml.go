package sqs

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"strconv"
)

// xmlns is the namespace of every SQS query-protocol response.
const xmlns = "http://queue.amazonaws.com/doc/2012-11-05/"

// response is <ActionResponse><ActionResult>…</ActionResult>
// <ResponseMetadata><RequestId>…</RequestId></ResponseMetadata></ActionResponse>;
// Result is nil for actions that return nothing.
type response struct {
	XMLName   xml.Name
	Xmlns     string `xml:"xmlns,attr"`
	Result    any
	RequestID string `xml:"ResponseMetadata>RequestId"`
}

// errorResponse is SQS's error body.
type errorResponse struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Error   struct {
		Type    string
		Code    string
		Message string
		Detail  struct{}
	}
	RequestID string `xml:"RequestId"`
}

// nameValue is one entry of a flattened map (Attribute: Name, Value); a
// JSON response holds such a map as an object (see nameValues).
type nameValue struct {
	Name  string
	Value string
}

// nameValues is a map in the order it is written: XML elements, or one
// JSON object.
type nameValues []nameValue

// MarshalJSON writes the map as a JSON object, omitted by the callers when
// empty.
func (nv nameValues) MarshalJSON() ([]byte, error) {
	m := make(map[string]string, len(nv))
	for _, p := range nv {
		m[p.Name] = p.Value
	}
	return json.Marshal(m)
}

// The result types are written by both codecs: as XML by the query
// protocol (xml tags: the <ActionResult> element and its members) and as
// JSON by the JSON protocol (json tags: the output members of the SQS API
// reference). Lists a JSON output requires are never nil.

type createQueueResult struct {
	XMLName  xml.Name `xml:"CreateQueueResult" json:"-"`
	QueueURL string   `xml:"QueueUrl" json:"QueueUrl"`
}

type getQueueURLResult struct {
	XMLName  xml.Name `xml:"GetQueueUrlResult" json:"-"`
	QueueURL string   `xml:"QueueUrl" json:"QueueUrl"`
}

type listQueuesResult struct {
	XMLName   xml.Name `xml:"ListQueuesResult" json:"-"`
	QueueURLs []string `xml:"QueueUrl" json:"QueueUrls,omitempty"`
	NextToken string   `xml:"NextToken,omitempty" json:"NextToken,omitempty"`
}

type listDeadLetterSourceQueuesResult struct {
	XMLName xml.Name `xml:"ListDeadLetterSourceQueuesResult" json:"-"`
	// The JSON member is queueUrls, lower case, as SQS's model has it.
	QueueURLs []string `xml:"QueueUrl" json:"queueUrls"`
}

type getQueueAttributesResult struct {
	XMLName    xml.Name   `xml:"GetQueueAttributesResult" json:"-"`
	Attributes nameValues `xml:"Attribute" json:"Attributes,omitempty"`
}

type sendMessageResult struct {
	XMLName                xml.Name `xml:"SendMessageResult" json:"-"`
	MD5OfMessageBody       string   `json:"MD5OfMessageBody"`
	MD5OfMessageAttributes string   `xml:",omitempty" json:"MD5OfMessageAttributes,omitempty"`
	MessageID              string   `xml:"MessageId" json:"MessageId"`
	SequenceNumber         string   `xml:",omitempty" json:"SequenceNumber,omitempty"`
}

type sendBatchEntry struct {
	ID                     string `xml:"Id" json:"Id"`
	MessageID              string `xml:"MessageId" json:"MessageId"`
	MD5OfMessageBody       string `json:"MD5OfMessageBody"`
	MD5OfMessageAttributes string `xml:",omitempty" json:"MD5OfMessageAttributes,omitempty"`
	SequenceNumber         string `xml:",omitempty" json:"SequenceNumber,omitempty"`
}

// batchError is a BatchResultErrorEntry.
type batchError struct {
	ID          string `xml:"Id" json:"Id"`
	SenderFault bool   `json:"SenderFault"`
	Code        string `json:"Code"`
	Message     string `xml:",omitempty" json:"Message,omitempty"`
}

type sendMessageBatchResult struct {
	XMLName    xml.Name         `xml:"SendMessageBatchResult" json:"-"`
	Successful []sendBatchEntry `xml:"SendMessageBatchResultEntry" json:"Successful"`
	Failed     []batchError     `xml:"BatchResultErrorEntry" json:"Failed"`
}

type idEntry struct {
	ID string `xml:"Id" json:"Id"`
}

type deleteMessageBatchResult struct {
	XMLName    xml.Name     `xml:"DeleteMessageBatchResult" json:"-"`
	Successful []idEntry    `xml:"DeleteMessageBatchResultEntry" json:"Successful"`
	Failed     []batchError `xml:"BatchResultErrorEntry" json:"Failed"`
}

type changeMessageVisibilityBatchResult struct {
	XMLName    xml.Name     `xml:"ChangeMessageVisibilityBatchResult" json:"-"`
	Successful []idEntry    `xml:"ChangeMessageVisibilityBatchResultEntry" json:"Successful"`
	Failed     []batchError `xml:"BatchResultErrorEntry" json:"Failed"`
}

type receiveMessageResult struct {
	XMLName  xml.Name     `xml:"ReceiveMessageResult" json:"-"`
	Messages []xmlMessage `xml:"Message" json:"Messages,omitempty"`
}

type xmlMessage struct {
	MessageID              string          `xml:"MessageId" json:"MessageId"`
	ReceiptHandle          string          `json:"ReceiptHandle"`
	MD5OfBody              string          `json:"MD5OfBody"`
	Body                   string          `json:"Body"`
	Attributes             nameValues      `xml:"Attribute" json:"Attributes,omitempty"`
	MD5OfMessageAttributes string          `xml:",omitempty" json:"MD5OfMessageAttributes,omitempty"`
	MessageAttributes      xmlMessageAttrs `xml:"MessageAttribute" json:"MessageAttributes,omitempty"`
}

type xmlMessageAttr struct {
	Name  string
	Value xmlAttrValue
}

// xmlMessageAttrs are a message's attributes: MessageAttribute elements,
// or one JSON object of name → value.
type xmlMessageAttrs []xmlMessageAttr

// MarshalJSON writes the attributes as a JSON object.
func (as xmlMessageAttrs) MarshalJSON() ([]byte, error) {
	m := make(map[string]xmlAttrValue, len(as))
	for _, a := range as {
		m[a.Name] = a.Value
	}
	return json.Marshal(m)
}

type xmlAttrValue struct {
	StringValue string `xml:",omitempty" json:"StringValue,omitempty"`
	BinaryValue string `xml:",omitempty" json:"BinaryValue,omitempty"` // base64
	DataType    string `json:"DataType"`
}

// writeXML writes status and the XML document v.
func writeXML(w http.ResponseWriter, status int, v any) {
	b, err := xml.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte("<ErrorResponse><Error><Type>Receiver</Type><Code>InternalFailure</Code><Message>response encoding failed</Message></Error></ErrorResponse>")
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(xml.Header)+len(b)))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(b)
}

func xmlName(local string) xml.Name { return xml.Name{Local: local} }
