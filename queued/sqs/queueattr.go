package sqs

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	queuedv1 "cairn.dev/cairn/proto/cairn/queued/v1"
)

// Queue attribute names of SQS.
const (
	attrVisibilityTimeout   = "VisibilityTimeout"
	attrRetention           = "MessageRetentionPeriod"
	attrDelaySeconds        = "DelaySeconds"
	attrMaxMessageSize      = "MaximumMessageSize"
	attrReceiveWait         = "ReceiveMessageWaitTimeSeconds"
	attrRedrivePolicy       = "RedrivePolicy"
	attrFifoQueue           = "FifoQueue"
	attrContentBasedDedup   = "ContentBasedDeduplication"
	attrQueueArn            = "QueueArn"
	attrApproxMessages      = "ApproximateNumberOfMessages"
	attrApproxNotVisible    = "ApproximateNumberOfMessagesNotVisible"
	attrApproxDelayed       = "ApproximateNumberOfMessagesDelayed"
	attrCreatedTimestamp    = "CreatedTimestamp"
	attrLastModifiedTimestp = "LastModifiedTimestamp"
)

// readableAttrs are the attributes GetQueueAttributes reports, in the order
// it reports them for All.
var readableAttrs = []string{
	attrQueueArn, attrApproxMessages, attrApproxNotVisible, attrApproxDelayed,
	attrCreatedTimestamp, attrLastModifiedTimestp, attrVisibilityTimeout, attrMaxMessageSize,
	attrRetention, attrDelaySeconds, attrReceiveWait, attrRedrivePolicy, attrFifoQueue, attrContentBasedDedup,
}

// unsupportedAttrs are SQS attributes cairn does not implement: reading one
// returns nothing (as SQS does for an attribute that is not set), setting
// one is an InvalidAttributeName.
var unsupportedAttrs = map[string]bool{
	"Policy": true, "KmsMasterKeyId": true, "KmsDataKeyReusePeriodSeconds": true, "DeduplicationScope": true,
	"FifoThroughputLimit": true, "RedriveAllowPolicy": true, "SqsManagedSseEnabled": true,
}

// queueAttrs are the attributes a CreateQueue or SetQueueAttributes request
// sets, as queued's: attrs with mask naming the fields set.
type queueAttrs struct {
	attrs *queuedv1.QueueAttributes
	mask  []string
	// fifo is the FifoQueue attribute; fifoSet says it was given.
	fifo, fifoSet bool
}

// decodeQueueAttributes reads Attribute.N.Name/Value. create allows
// FifoQueue; region and account are those of the ARNs a RedrivePolicy may
// name.
func decodeQueueAttributes(f form, create bool, region, account string) (queueAttrs, *Error) {
	qa := queueAttrs{attrs: &queuedv1.QueueAttributes{}}
	pairs, e := f.pairs("Attribute", "Name", "Value")
	if e != nil {
		return qa, e
	}
	a := qa.attrs
	for _, p := range pairs {
		name, v := p[0], p[1]
		seconds := func(lo, hi int) (*durationpb.Duration, *Error) {
			n, err := strconv.Atoi(v)
			if err != nil || n < lo || n > hi {
				return nil, errorf(http.StatusBadRequest, CodeInvalidAttributeValue, "Invalid value for the parameter "+name+". Reason: it must be an integer from "+strconv.Itoa(lo)+" to "+strconv.Itoa(hi)+".")
			}
			return durationpb.New(time.Duration(n) * time.Second), nil
		}
		boolean := func() (bool, *Error) {
			switch strings.ToLower(v) {
			case "true":
				return true, nil
			case "false":
				return false, nil
			}
			return false, errorf(http.StatusBadRequest, CodeInvalidAttributeValue, "Invalid value for the parameter "+name+". Reason: it must be true or false.")
		}
		var err *Error
		switch name {
		case attrVisibilityTimeout:
			a.VisibilityTimeout, err = seconds(0, 43200)
			qa.mask = append(qa.mask, "visibility_timeout")
		case attrRetention:
			a.Retention, err = seconds(60, 1209600)
			qa.mask = append(qa.mask, "retention")
		case attrDelaySeconds:
			a.DeliveryDelay, err = seconds(0, 900)
			qa.mask = append(qa.mask, "delivery_delay")
		case attrReceiveWait:
			a.ReceiveWait, err = seconds(0, 20)
			qa.mask = append(qa.mask, "receive_wait")
		case attrMaxMessageSize:
			n, cerr := strconv.Atoi(v)
			if cerr != nil || n < 1024 || n > 1048576 {
				err = errorf(http.StatusBadRequest, CodeInvalidAttributeValue, "Invalid value for the parameter MaximumMessageSize. Reason: it must be an integer from 1024 to 1048576.")
			}
			a.MaxMessageBytes = uint32(n)
			qa.mask = append(qa.mask, "max_message_bytes")
		case attrRedrivePolicy:
			a.DeadLetterQueue, a.MaxReceives, err = decodeRedrivePolicy(v, region, account)
			qa.mask = append(qa.mask, "dead_letter_queue", "max_receives")
		case attrContentBasedDedup:
			a.ContentBasedDeduplication, err = boolean()
			qa.mask = append(qa.mask, "content_based_deduplication")
		case attrFifoQueue:
			if !create {
				return qa, errorf(http.StatusBadRequest, CodeInvalidAttributeName, "FifoQueue can only be set when the queue is created.")
			}
			qa.fifo, err = boolean()
			qa.fifoSet = true
		default:
			if unsupportedAttrs[name] {
				return qa, errorf(http.StatusBadRequest, CodeInvalidAttributeName, "Attribute "+name+" is not supported by cairn.")
			}
			return qa, errorf(http.StatusBadRequest, CodeInvalidAttributeName, "Unknown Attribute "+name+".")
		}
		if err != nil {
			return qa, err
		}
	}
	if qa.fifo {
		a.Type = queuedv1.QueueType_QUEUE_TYPE_FIFO
	}
	return qa, nil
}

// decodeRedrivePolicy parses {"deadLetterTargetArn": ARN, "maxReceiveCount":
// N} (N a number or a string of digits, 1..1000); "" removes the policy.
func decodeRedrivePolicy(v, region, account string) (dlq string, maxReceives uint32, e *Error) {
	if v == "" {
		return "", 0, nil
	}
	bad := func(reason string) *Error {
		return invalidParam("RedrivePolicy", v, reason)
	}
	var p map[string]json.RawMessage
	if err := json.Unmarshal([]byte(v), &p); err != nil {
		return "", 0, bad("Redrive policy is not a valid JSON map.")
	}
	for k := range p {
		if k != "deadLetterTargetArn" && k != "maxReceiveCount" {
			return "", 0, bad("Redrive policy has an unknown key " + k + ".")
		}
	}
	var arn string
	if err := json.Unmarshal(p["deadLetterTargetArn"], &arn); err != nil || arn == "" {
		return "", 0, bad("Redrive policy must name deadLetterTargetArn.")
	}
	raw := strings.Trim(string(p["maxReceiveCount"]), `"`)
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > 1000 {
		return "", 0, bad("Invalid value for maxReceiveCount: it must be an integer from 1 to 1000.")
	}
	name, ok := parseARN(arn, region, account)
	if !ok {
		return "", 0, bad("Dead-letter target " + arn + " is not a queue ARN of this region and account (arn:aws:sqs:" + region + ":" + account + ":<name>).")
	}
	return name, uint32(n), nil
}

// queueARN is the ARN of queue name.
func queueARN(region, account, name string) string {
	return "arn:aws:sqs:" + region + ":" + account + ":" + name
}

// parseARN returns the queue name of an SQS queue ARN of region and account.
func parseARN(arn, region, account string) (string, bool) {
	p := strings.Split(arn, ":")
	if len(p) != 6 || p[0] != "arn" || p[1] != "aws" || p[2] != "sqs" || p[3] != region || p[4] != account || p[5] == "" {
		return "", false
	}
	return p[5], true
}

// redrivePolicy renders a queue's redrive policy as SQS does, or "" when
// it has none.
func redrivePolicy(a *queuedv1.QueueAttributes, region, account string) string {
	if a.GetDeadLetterQueue() == "" || a.GetMaxReceives() == 0 {
		return ""
	}
	b, _ := json.Marshal(struct {
		Arn string `json:"deadLetterTargetArn"`
		N   uint32 `json:"maxReceiveCount"`
	}{queueARN(region, account, a.GetDeadLetterQueue()), a.GetMaxReceives()})
	return string(b)
}

// queueAttribute is the value of SQS attribute name of q, and whether q has
// one: FifoQueue and ContentBasedDeduplication only exist on FIFO queues
// (unless asked for by name), RedrivePolicy only when set.
func queueAttribute(q *queuedv1.Queue, name string, named bool, region, account string) (string, bool) {
	a, st := q.GetAttributes(), q.GetStats()
	fifo := a.GetType() == queuedv1.QueueType_QUEUE_TYPE_FIFO
	secs := func(d *durationpb.Duration) string { return strconv.FormatInt(int64(d.AsDuration()/time.Second), 10) }
	i64 := func(n int64) string { return strconv.FormatInt(n, 10) }
	switch name {
	case attrQueueArn:
		return queueARN(region, account, q.GetName()), true
	case attrApproxMessages:
		return i64(max(st.GetVisible(), 0)), true
	case attrApproxNotVisible:
		return i64(st.GetInFlight()), true
	case attrApproxDelayed:
		return i64(st.GetDelayed()), true
	case attrCreatedTimestamp:
		return i64(q.GetCreated().GetSeconds()), true
	case attrLastModifiedTimestp:
		m := q.GetModified()
		if m == nil {
			m = q.GetCreated()
		}
		return i64(m.GetSeconds()), true
	case attrVisibilityTimeout:
		return secs(a.GetVisibilityTimeout()), true
	case attrMaxMessageSize:
		return strconv.FormatUint(uint64(a.GetMaxMessageBytes()), 10), true
	case attrRetention:
		return secs(a.GetRetention()), true
	case attrDelaySeconds:
		return secs(a.GetDeliveryDelay()), true
	case attrReceiveWait:
		return secs(a.GetReceiveWait()), true
	case attrRedrivePolicy:
		p := redrivePolicy(a, region, account)
		return p, p != ""
	case attrFifoQueue:
		return strconv.FormatBool(fifo), fifo || named
	case attrContentBasedDedup:
		return strconv.FormatBool(a.GetContentBasedDeduplication()), fifo || named
	}
	return "", false
}

// sameAttrs reports whether the fields of want named in mask (and the type,
// when fifoSet) equal those of have, and otherwise the SQS name of the first
// that differs: CreateQueue of an existing queue succeeds only when every
// attribute it gives matches, as in SQS.
func sameAttrs(want queueAttrs, have *queuedv1.QueueAttributes) (bool, string) {
	if want.fifoSet && want.fifo != (have.GetType() == queuedv1.QueueType_QUEUE_TYPE_FIFO) {
		return false, attrFifoQueue
	}
	w := want.attrs
	for _, f := range want.mask {
		var same bool
		var name string
		switch f {
		case "visibility_timeout":
			same, name = w.GetVisibilityTimeout().AsDuration() == have.GetVisibilityTimeout().AsDuration(), attrVisibilityTimeout
		case "retention":
			same, name = w.GetRetention().AsDuration() == have.GetRetention().AsDuration(), attrRetention
		case "delivery_delay":
			same, name = w.GetDeliveryDelay().AsDuration() == have.GetDeliveryDelay().AsDuration(), attrDelaySeconds
		case "receive_wait":
			same, name = w.GetReceiveWait().AsDuration() == have.GetReceiveWait().AsDuration(), attrReceiveWait
		case "max_message_bytes":
			same, name = w.GetMaxMessageBytes() == have.GetMaxMessageBytes(), attrMaxMessageSize
		case "dead_letter_queue", "max_receives":
			same = w.GetDeadLetterQueue() == have.GetDeadLetterQueue() && w.GetMaxReceives() == have.GetMaxReceives()
			name = attrRedrivePolicy
		case "content_based_deduplication":
			same, name = w.GetContentBasedDeduplication() == have.GetContentBasedDeduplication(), attrContentBasedDedup
		}
		if !same {
			return false, name
		}
	}
	return true, ""
}
