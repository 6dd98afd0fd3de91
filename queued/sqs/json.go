package sqs

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// The JSON protocol (awsJson1_0, as SQS has served it since 2023 and newer
// botocore, awscli v2 and the AWS SDKs speak it): a POST to "/" with the
// header "X-Amz-Target: AmazonSQS.<Action>", Content-Type
// application/x-amz-json-1.0, and a JSON object of the action's input
// members; the answer is a JSON object of its output members, or an error
// {"__type": "com.amazonaws.sqs#<shape>", "message": …} with the query
// protocol's code in the header x-amzn-query-error ("<code>;Sender").
//
// It is a codec beside the query protocol's, not a second implementation:
// decodeJSON turns the input into the same flattened parameters a query
// request carries (Attributes {"k": "v"} becomes Attribute.1.Name=k,
// Attribute.1.Value=v; Entries [...] becomes <Action>RequestEntry.N.…), the
// action of the one table runs on them, and its result value is written as
// JSON (the result types carry json tags beside their xml ones).

const (
	jsonContentType  = "application/x-amz-json-1.0"
	jsonTargetPrefix = "AmazonSQS."
	// jsonErrorNamespace prefixes the error shape in __type.
	jsonErrorNamespace = "com.amazonaws.sqs#"
)

// jsonRequest is the union of the input members of the actions served (and
// of the entries of their batches, which reuse the names), as the SQS API
// reference names them. Pointers tell an absent member from a zero one.
type jsonRequest struct {
	QueueName                   *string                  `json:"QueueName"`
	QueueURL                    *string                  `json:"QueueUrl"`
	QueueNamePrefix             *string                  `json:"QueueNamePrefix"`
	QueueOwnerAWSAccountID      *string                  `json:"QueueOwnerAWSAccountId"`
	NextToken                   *string                  `json:"NextToken"`
	MaxResults                  *int64                   `json:"MaxResults"`
	Attributes                  map[string]string        `json:"Attributes"`
	Tags                        map[string]string        `json:"tags"`
	AttributeNames              []string                 `json:"AttributeNames"`
	MessageAttributeNames       []string                 `json:"MessageAttributeNames"`
	MessageSystemAttributeNames []string                 `json:"MessageSystemAttributeNames"`
	MaxNumberOfMessages         *int64                   `json:"MaxNumberOfMessages"`
	VisibilityTimeout           *int64                   `json:"VisibilityTimeout"`
	WaitTimeSeconds             *int64                   `json:"WaitTimeSeconds"`
	ReceiveRequestAttemptID     *string                  `json:"ReceiveRequestAttemptId"`
	ID                          *string                  `json:"Id"`
	MessageBody                 *string                  `json:"MessageBody"`
	DelaySeconds                *int64                   `json:"DelaySeconds"`
	MessageAttributes           map[string]jsonAttrValue `json:"MessageAttributes"`
	MessageSystemAttributes     map[string]jsonAttrValue `json:"MessageSystemAttributes"`
	MessageDeduplicationID      *string                  `json:"MessageDeduplicationId"`
	MessageGroupID              *string                  `json:"MessageGroupId"`
	ReceiptHandle               *string                  `json:"ReceiptHandle"`
	Entries                     []jsonRequest            `json:"Entries"`
}

// jsonAttrValue is a MessageAttributeValue (or a message system attribute's
// value). Binary values are base64 in JSON, as in the query protocol.
type jsonAttrValue struct {
	DataType         *string  `json:"DataType"`
	StringValue      *string  `json:"StringValue"`
	BinaryValue      *string  `json:"BinaryValue"`
	StringListValues []string `json:"StringListValues"`
	BinaryListValues []string `json:"BinaryListValues"`
}

// jsonAction returns the action an X-Amz-Target names, or an error.
func jsonAction(target string) (string, *Error) {
	action, ok := strings.CutPrefix(target, jsonTargetPrefix)
	if !ok || action == "" {
		return "", errorf(http.StatusBadRequest, CodeInvalidAction, "The target "+target+" is not valid: it must be "+jsonTargetPrefix+"<Action>.")
	}
	return action, nil
}

// decodeJSON reads a JSON request body into the flattened parameters of the
// query protocol, for action. An empty body is an empty input. Numbers must
// be integers; a member of the wrong JSON type, or a body that is not one
// JSON object, is a SerializationException.
func decodeJSON(action string, body []byte) (form, *Error) {
	f := form{"Action": action}
	if len(bytes.TrimSpace(body)) == 0 {
		return f, nil
	}
	var req jsonRequest
	d := json.NewDecoder(bytes.NewReader(body))
	if err := d.Decode(&req); err != nil {
		return nil, errorf(http.StatusBadRequest, CodeSerialization, "The request body is not a valid "+action+" input: "+err.Error())
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errorf(http.StatusBadRequest, CodeSerialization, "The request body holds more than one JSON value.")
	}
	req.flatten(f, "", action+"RequestEntry")
	if len(f) > maxParams {
		return nil, errorf(http.StatusBadRequest, CodeSerialization, "The request has more than "+strconv.Itoa(maxParams)+" parameters.")
	}
	return f, nil
}

// flatten writes r's members into f under prefix; entries names the members
// of Entries.
func (r *jsonRequest) flatten(f form, prefix, entries string) {
	str := func(name string, v *string) {
		if v != nil {
			f[prefix+name] = *v
		}
	}
	num := func(name string, v *int64) {
		if v != nil {
			f[prefix+name] = strconv.FormatInt(*v, 10)
		}
	}
	list := func(name string, vs []string) {
		for i, v := range vs {
			f[prefix+name+"."+strconv.Itoa(i+1)] = v
		}
	}
	pairs := func(name, key, value string, m map[string]string) {
		for i, k := range sortedKeys(m) {
			p := prefix + name + "." + strconv.Itoa(i+1) + "."
			f[p+key], f[p+value] = k, m[k]
		}
	}
	attrs := func(name string, m map[string]jsonAttrValue) {
		names := make([]string, 0, len(m))
		for k := range m {
			names = append(names, k)
		}
		sort.Strings(names)
		for i, k := range names {
			v := m[k]
			p := prefix + name + "." + strconv.Itoa(i+1) + "."
			f[p+"Name"] = k
			if v.DataType != nil {
				f[p+"Value.DataType"] = *v.DataType
			}
			if v.StringValue != nil {
				f[p+"Value.StringValue"] = *v.StringValue
			}
			if v.BinaryValue != nil {
				f[p+"Value.BinaryValue"] = *v.BinaryValue
			}
			for j, s := range v.StringListValues {
				f[p+"Value.StringListValue."+strconv.Itoa(j+1)] = s
			}
			for j, s := range v.BinaryListValues {
				f[p+"Value.BinaryListValue."+strconv.Itoa(j+1)] = s
			}
		}
	}
	str("QueueName", r.QueueName)
	str("QueueUrl", r.QueueURL)
	str("QueueNamePrefix", r.QueueNamePrefix)
	str("QueueOwnerAWSAccountId", r.QueueOwnerAWSAccountID)
	str("NextToken", r.NextToken)
	num("MaxResults", r.MaxResults)
	pairs("Attribute", "Name", "Value", r.Attributes)
	pairs("Tag", "Key", "Value", r.Tags)
	list("AttributeName", r.AttributeNames)
	list("MessageAttributeName", r.MessageAttributeNames)
	list("MessageSystemAttributeName", r.MessageSystemAttributeNames)
	num("MaxNumberOfMessages", r.MaxNumberOfMessages)
	num("VisibilityTimeout", r.VisibilityTimeout)
	num("WaitTimeSeconds", r.WaitTimeSeconds)
	str("ReceiveRequestAttemptId", r.ReceiveRequestAttemptID)
	str("Id", r.ID)
	str("MessageBody", r.MessageBody)
	num("DelaySeconds", r.DelaySeconds)
	attrs("MessageAttribute", r.MessageAttributes)
	attrs("MessageSystemAttribute", r.MessageSystemAttributes)
	str("MessageDeduplicationId", r.MessageDeduplicationID)
	str("MessageGroupId", r.MessageGroupID)
	str("ReceiptHandle", r.ReceiptHandle)
	for i := range r.Entries {
		r.Entries[i].flatten(f, prefix+entries+"."+strconv.Itoa(i+1)+".", entries)
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// writeJSON writes status and v as the JSON protocol's body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		w.Header().Set("x-amzn-query-error", CodeInternalFailure+";Receiver")
		b = []byte(`{"__type":"` + jsonErrorNamespace + `InternalFailure","message":"response encoding failed"}`)
	}
	w.Header().Set("Content-Type", jsonContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeJSONResult writes an action's result; nil (the actions that return
// nothing) is the empty object.
func writeJSONResult(w http.ResponseWriter, res any) {
	if res == nil {
		res = struct{}{}
	}
	writeJSON(w, http.StatusOK, res)
}

// jsonErrorShapes are the error shapes of SQS's JSON model whose name is
// not the query protocol's code.
var jsonErrorShapes = map[string]string{
	CodeNonExistentQueue:     "QueueDoesNotExist",
	CodeQueueAlreadyExists:   "QueueNameExists",
	CodeBatchEntryIDsNotDist: "BatchEntryIdsNotDistinct",
	CodeBatchRequestTooLong:  "BatchRequestTooLong",
	CodeEmptyBatchRequest:    "EmptyBatchRequest",
	CodeInvalidBatchEntryID:  "InvalidBatchEntryId",
	CodeMessageNotInflight:   "MessageNotInflight",
	CodeTooManyEntries:       "TooManyEntriesInBatchRequest",
	CodeUnsupportedOperation: "UnsupportedOperation",
}

// jsonErrorType is the __type of e: the model's shape name, in SQS's
// namespace.
func jsonErrorType(code string) string {
	if shape, ok := jsonErrorShapes[code]; ok {
		return jsonErrorNamespace + shape
	}
	return jsonErrorNamespace + code
}

// writeJSONError writes e as the JSON protocol's error: __type and message
// in the body, the query protocol's code and fault in x-amzn-query-error
// (from which query-compatible SDKs take the code).
func writeJSONError(w http.ResponseWriter, e *Error) {
	fault := "Sender"
	if !e.Sender() {
		fault = "Receiver"
	}
	w.Header().Set("x-amzn-query-error", e.Code+";"+fault)
	writeJSON(w, e.Status, struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{jsonErrorType(e.Code), e.Message})
}
