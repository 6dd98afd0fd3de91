package sqs

import (
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

// nameValue is one entry of a flattened map (Attribute: Name, Value).
type nameValue struct {
	Name  string
	Value string
}

type createQueueResult struct {
	XMLName  xml.Name `xml:"CreateQueueResult"`
	QueueURL string   `xml:"QueueUrl"`
}

type getQueueURLResult struct {
	XMLName  xml.Name `xml:"GetQueueUrlResult"`
	QueueURL string   `xml:"QueueUrl"`
}

type listQueuesResult struct {
	XMLName   xml.Name `xml:"ListQueuesResult"`
	QueueURLs []string `xml:"QueueUrl"`
	NextToken string   `xml:"NextToken,omitempty"`
}

type listDeadLetterSourceQueuesResult struct {
	XMLName   xml.Name `xml:"ListDeadLetterSourceQueuesResult"`
	QueueURLs []string `xml:"QueueUrl"`
}

type getQueueAttributesResult struct {
	XMLName    xml.Name    `xml:"GetQueueAttributesResult"`
	Attributes []nameValue `xml:"Attribute"`
}

type sendMessageResult struct {
	XMLName                xml.Name `xml:"SendMessageResult"`
	MD5OfMessageBody       string
	MD5OfMessageAttributes string `xml:",omitempty"`
	MessageID              string `xml:"MessageId"`
	SequenceNumber         string `xml:",omitempty"`
}

type sendBatchEntry struct {
	ID                     string `xml:"Id"`
	MessageID              string `xml:"MessageId"`
	MD5OfMessageBody       string
	MD5OfMessageAttributes string `xml:",omitempty"`
	SequenceNumber         string `xml:",omitempty"`
}

// batchError is a BatchResultErrorEntry.
type batchError struct {
	ID          string `xml:"Id"`
	SenderFault bool
	Code        string
	Message     string `xml:",omitempty"`
}

type sendMessageBatchResult struct {
	XMLName    xml.Name         `xml:"SendMessageBatchResult"`
	Successful []sendBatchEntry `xml:"SendMessageBatchResultEntry"`
	Failed     []batchError     `xml:"BatchResultErrorEntry"`
}

type idEntry struct {
	ID string `xml:"Id"`
}

type deleteMessageBatchResult struct {
	XMLName    xml.Name     `xml:"DeleteMessageBatchResult"`
	Successful []idEntry    `xml:"DeleteMessageBatchResultEntry"`
	Failed     []batchError `xml:"BatchResultErrorEntry"`
}

type changeMessageVisibilityBatchResult struct {
	XMLName    xml.Name     `xml:"ChangeMessageVisibilityBatchResult"`
	Successful []idEntry    `xml:"ChangeMessageVisibilityBatchResultEntry"`
	Failed     []batchError `xml:"BatchResultErrorEntry"`
}

type receiveMessageResult struct {
	XMLName  xml.Name     `xml:"ReceiveMessageResult"`
	Messages []xmlMessage `xml:"Message"`
}

type xmlMessage struct {
	MessageID              string `xml:"MessageId"`
	ReceiptHandle          string
	MD5OfBody              string
	Body                   string
	Attributes             []nameValue      `xml:"Attribute"`
	MD5OfMessageAttributes string           `xml:",omitempty"`
	MessageAttributes      []xmlMessageAttr `xml:"MessageAttribute"`
}

type xmlMessageAttr struct {
	Name  string
	Value xmlAttrValue
}

type xmlAttrValue struct {
	StringValue string `xml:",omitempty"`
	BinaryValue string `xml:",omitempty"` // base64
	DataType    string
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
