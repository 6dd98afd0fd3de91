package sqs

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/types/known/durationpb"

	"cairn.dev/cairn/node/rpcerr"
	queuedv1 "cairn.dev/cairn/proto/cairn/queued/v1"
)

// maxBatch is SQS's largest batch.
const maxBatch = 10

// maxBatchPayload bounds the bodies and attributes of one SendMessageBatch,
// like SQS's (which follows its largest message, now 1 MiB).
const maxBatchPayload = 1 << 20

// validBody checks that body holds only the characters SQS allows in a
// message: #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF.
func validBody(body string) *Error {
	if body == "" {
		return errorf(http.StatusBadRequest, CodeInvalidParameterValue, "The request must contain a non-empty message body.")
	}
	for i, r := range body {
		ok := r == 0x9 || r == 0xA || r == 0xD || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
		if r == utf8.RuneError {
			_, size := utf8.DecodeRuneInString(body[i:])
			ok = size == 3 // a real U+FFFD, not a bad byte
		}
		if !ok {
			return errorf(http.StatusBadRequest, CodeInvalidMessageContent,
				"Invalid binary character '#x"+strconv.FormatInt(int64(r), 16)+"' was found in the message body, the set of allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF")
		}
	}
	return nil
}

// decodeSendEntry reads one message to send from the parameters under
// prefix ("" for SendMessage, "SendMessageBatchRequestEntry.N." for a
// batch entry).
func decodeSendEntry(f form, prefix string) (*queuedv1.SendEntry, *Error) {
	body, ok := f.get(prefix + "MessageBody")
	if !ok {
		return nil, missingParam(prefix + "MessageBody")
	}
	if e := validBody(body); e != nil {
		return nil, e
	}
	entry := &queuedv1.SendEntry{Body: []byte(body)}
	delay, set, e := f.intParam(prefix+"DelaySeconds", 0, 900)
	if e != nil {
		return nil, e
	}
	if set {
		entry.Delay = durationpb.New(time.Duration(delay) * time.Second)
	}
	if entry.Attributes, e = decodeMessageAttributes(f, prefix+"MessageAttribute"); e != nil {
		return nil, e
	}
	if sys, e := f.members(prefix + "MessageSystemAttribute"); e != nil || len(sys) > 0 {
		if e != nil {
			return nil, e
		}
		return nil, errorf(http.StatusBadRequest, CodeUnsupportedOperation, "Message system attributes (AWSTraceHeader) are not supported by cairn.")
	}
	entry.GroupId, _ = f.get(prefix + "MessageGroupId")
	entry.DeduplicationId, _ = f.get(prefix + "MessageDeduplicationId")
	return entry, nil
}

func (h *Handler) sendMessage(c *call) (any, error) {
	name, e := h.queueName(c)
	if e != nil {
		return nil, e
	}
	entry, e := decodeSendEntry(c.f, "")
	if e != nil {
		return nil, e
	}
	resp, err := h.queues.Send(c.ctx, &queuedv1.SendRequest{Queue: name, Entries: []*queuedv1.SendEntry{entry}})
	if err != nil {
		return nil, err
	}
	if errs := resp.GetErrors(); len(errs) > 0 {
		return nil, sendEntryErr(entry, errs[0])
	}
	if len(resp.GetResults()) != 1 {
		return nil, errorf(http.StatusInternalServerError, CodeInternalFailure, "queued returned no result for the message")
	}
	r := resp.GetResults()[0]
	out := &sendMessageResult{MD5OfMessageBody: r.GetMd5OfBody(), MD5OfMessageAttributes: md5OfAttributes(entry.GetAttributes()), MessageID: r.GetMessageId()}
	if entry.GetGroupId() != "" {
		out.SequenceNumber = strconv.FormatUint(r.GetSequence(), 10)
	}
	return out, nil
}

// entryErr is the error of one failed entry of a queued batch call, as a
// status error with its reason and the field it names, for toError.
func entryErr(e *queuedv1.EntryError) error {
	var md map[string]string
	if e.GetField() != "" {
		md = map[string]string{rpcerr.KeyField: e.GetField()}
	}
	return rpcerr.Error(rpcerr.Reason(e.GetReason()), e.GetMessage(), md)
}

// sendEntryErr is entryErr for the failure of a sent entry; a FIFO entry
// refused for want of a deduplication id (the queue does not deduplicate by
// content) gets SQS's InvalidParameterValue for it.
func sendEntryErr(entry *queuedv1.SendEntry, e *queuedv1.EntryError) error {
	if entry.GetDeduplicationId() == "" && rpcerr.Reason(e.GetReason()) == rpcerr.InvalidArgument &&
		strings.HasSuffix(e.GetField(), "deduplication_id") {
		return errorf(http.StatusBadRequest, CodeInvalidParameterValue,
			"The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly")
	}
	return entryErr(e)
}

// batchFailure is the BatchResultErrorEntry of entry id failing with err.
func batchFailure(action, id string, err error) batchError {
	e := toError(action, err)
	return batchError{ID: id, SenderFault: e.Sender(), Code: e.Code, Message: e.Message}
}

// batchEntries returns the entries of a batch request (prefix.N.*), checked
// as SQS checks them: 1 to 10 entries, each with an Id of 1 to 80
// characters of [A-Za-z0-9_-], the Ids distinct.
func batchEntries(f form, prefix string) ([]member, []string, *Error) {
	ms, e := f.members(prefix)
	if e != nil {
		return nil, nil, e
	}
	switch {
	case len(ms) == 0:
		return nil, nil, errorf(http.StatusBadRequest, CodeEmptyBatchRequest, "There should be at least one "+prefix+" in the request.")
	case len(ms) > maxBatch:
		return nil, nil, errorf(http.StatusBadRequest, CodeTooManyEntries,
			"Maximum number of entries per request are "+strconv.Itoa(maxBatch)+". You have sent "+strconv.Itoa(len(ms))+".")
	}
	ids := make([]string, len(ms))
	seen := map[string]bool{}
	for i, m := range ms {
		id, ok := m.sub["Id"]
		if !ok {
			return nil, nil, missingParam(prefix + "." + strconv.Itoa(m.index) + ".Id")
		}
		if !validEntryID(id) {
			return nil, nil, errorf(http.StatusBadRequest, CodeInvalidBatchEntryID,
				"A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.")
		}
		if seen[id] {
			return nil, nil, errorf(http.StatusBadRequest, CodeBatchEntryIDsNotDist, "Id "+id+" repeated.")
		}
		seen[id] = true
		ids[i] = id
	}
	return ms, ids, nil
}

func validEntryID(id string) bool {
	if id == "" || len(id) > 80 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// memberPrefix is the parameter prefix of batch entry m.
func memberPrefix(prefix string, m member) string {
	return prefix + "." + strconv.Itoa(m.index) + "."
}

const sendBatchPrefix = "SendMessageBatchRequestEntry"

// sendMessageBatch sends the entries that decode; the others fail one by
// one, as the entries queued refuses do.
func (h *Handler) sendMessageBatch(c *call) (any, error) {
	name, e := h.queueName(c)
	if e != nil {
		return nil, e
	}
	ms, ids, e := batchEntries(c.f, sendBatchPrefix)
	if e != nil {
		return nil, e
	}
	out := &sendMessageBatchResult{Successful: []sendBatchEntry{}, Failed: []batchError{}}
	var entries []*queuedv1.SendEntry
	size := 0
	for i, m := range ms {
		entry, e := decodeSendEntry(m.sub, "")
		if e != nil {
			out.Failed = append(out.Failed, batchFailure(c.action, ids[i], e))
			continue
		}
		entry.Id = ids[i]
		size += len(entry.GetBody())
		for n, v := range entry.GetAttributes() {
			size += len(n) + len(v.GetDataType()) + len(v.GetStringValue()) + len(v.GetBinaryValue())
		}
		entries = append(entries, entry)
	}
	if size > maxBatchPayload {
		return nil, errorf(http.StatusBadRequest, CodeBatchRequestTooLong,
			"Batch requests cannot be longer than "+strconv.Itoa(maxBatchPayload)+" bytes. You have sent "+strconv.Itoa(size)+" bytes.")
	}
	if len(entries) == 0 {
		return out, nil
	}
	resp, err := h.queues.Send(c.ctx, &queuedv1.SendRequest{Queue: name, Entries: entries})
	if err != nil {
		return nil, err
	}
	byID := map[string]*queuedv1.SendEntry{}
	for _, en := range entries {
		byID[en.GetId()] = en
	}
	for _, r := range resp.GetResults() {
		en := byID[r.GetId()]
		s := sendBatchEntry{ID: r.GetId(), MessageID: r.GetMessageId(), MD5OfMessageBody: r.GetMd5OfBody(), MD5OfMessageAttributes: md5OfAttributes(en.GetAttributes())}
		if en.GetGroupId() != "" {
			s.SequenceNumber = strconv.FormatUint(r.GetSequence(), 10)
		}
		out.Successful = append(out.Successful, s)
	}
	for _, fe := range resp.GetErrors() {
		out.Failed = append(out.Failed, batchFailure(c.action, fe.GetId(), sendEntryErr(byID[fe.GetId()], fe)))
	}
	order := map[string]int{}
	for i, id := range ids {
		order[id] = i
	}
	sort.SliceStable(out.Successful, func(i, j int) bool { return order[out.Successful[i].ID] < order[out.Successful[j].ID] })
	sort.SliceStable(out.Failed, func(i, j int) bool { return order[out.Failed[i].ID] < order[out.Failed[j].ID] })
	return out, nil
}

// System attributes of a received message.
const (
	sysApproxReceiveCount      = "ApproximateReceiveCount"
	sysApproxFirstReceive      = "ApproximateFirstReceiveTimestamp"
	sysSentTimestamp           = "SentTimestamp"
	sysSequenceNumber          = "SequenceNumber"
	sysMessageGroupID          = "MessageGroupId"
	sysMessageDeduplicationID  = "MessageDeduplicationId"
	sysDeadLetterQueueSourceAr = "DeadLetterQueueSourceArn"
)

var systemAttrs = []string{sysSentTimestamp, sysApproxReceiveCount, sysApproxFirstReceive,
	sysSequenceNumber, sysMessageDeduplicationID, sysMessageGroupID, sysDeadLetterQueueSourceAr}

// receiveParams are a decoded ReceiveMessage.
type receiveParams struct {
	req      *queuedv1.ReceiveRequest
	sysAttrs map[string]bool // nil: none
	msgAttrs []string
}

// decodeReceive reads MaxNumberOfMessages (1..10, default 1),
// WaitTimeSeconds (0..20; absent: the queue's), VisibilityTimeout
// (0..43200; absent: the queue's), AttributeName.N and
// MessageSystemAttributeName.N (system attributes: All or names),
// MessageAttributeName.N.
func decodeReceive(f form, queue string) (receiveParams, *Error) {
	p := receiveParams{req: &queuedv1.ReceiveRequest{Queue: queue, MaxMessages: 1}}
	n, set, e := f.intParam("MaxNumberOfMessages", 1, maxBatch)
	if e != nil {
		return p, e
	}
	if set {
		p.req.MaxMessages = uint32(n)
	}
	if n, set, e = f.intParam("WaitTimeSeconds", 0, 20); e != nil {
		return p, e
	} else if set {
		p.req.Wait = durationpb.New(time.Duration(n) * time.Second)
	}
	if n, set, e = f.intParam("VisibilityTimeout", 0, 43200); e != nil {
		return p, e
	} else if set {
		// queued takes 0 for the queue's timeout; SQS's 0 makes the
		// messages visible again at once, which the shortest timeout does.
		p.req.VisibilityTimeout = durationpb.New(max(time.Duration(n)*time.Second, time.Nanosecond))
	}
	for _, param := range []string{"AttributeName", "MessageSystemAttributeName"} {
		names, e := f.list(param)
		if e != nil {
			return p, e
		}
		for _, n := range names {
			if p.sysAttrs == nil {
				p.sysAttrs = map[string]bool{}
			}
			p.sysAttrs[n] = true
		}
	}
	if p.msgAttrs, e = f.list("MessageAttributeName"); e != nil {
		return p, e
	}
	return p, nil
}

func (h *Handler) receiveMessage(c *call) (any, error) {
	name, e := h.queueName(c)
	if e != nil {
		return nil, e
	}
	p, e := decodeReceive(c.f, name)
	if e != nil {
		return nil, e
	}
	resp, err := h.queues.Receive(c.ctx, p.req)
	if err != nil {
		return nil, err
	}
	out := &receiveMessageResult{}
	for _, m := range resp.GetMessages() {
		out.Messages = append(out.Messages, h.message(m, p))
	}
	return out, nil
}

// message renders a delivery with the system and message attributes the
// request asked for. A message with a group id is a FIFO queue's: it has
// a sequence number, and its deduplication id is the one sent or, by
// content, the body's SHA-256.
func (h *Handler) message(m *queuedv1.Message, p receiveParams) xmlMessage {
	x := xmlMessage{MessageID: m.GetMessageId(), ReceiptHandle: m.GetReceiptHandle(), MD5OfBody: m.GetMd5OfBody(), Body: string(m.GetBody())}
	all := p.sysAttrs["All"]
	for _, n := range systemAttrs {
		if !all && !p.sysAttrs[n] {
			continue
		}
		var v string
		switch n {
		case sysSentTimestamp:
			v = strconv.FormatInt(m.GetSent().AsTime().UnixMilli(), 10)
		case sysApproxReceiveCount:
			v = strconv.FormatUint(uint64(m.GetReceiveCount()), 10)
		case sysApproxFirstReceive:
			if m.GetFirstReceived() != nil {
				v = strconv.FormatInt(m.GetFirstReceived().AsTime().UnixMilli(), 10)
			}
		case sysSequenceNumber:
			if m.GetGroupId() != "" {
				v = strconv.FormatUint(m.GetSequence(), 10)
			}
		case sysMessageGroupID:
			v = m.GetGroupId()
		case sysMessageDeduplicationID:
			v = m.GetDeduplicationId()
			if v == "" && m.GetGroupId() != "" {
				sum := sha256.Sum256(m.GetBody())
				v = hex.EncodeToString(sum[:])
			}
		case sysDeadLetterQueueSourceAr:
			if s := m.GetDeadLetterSource(); s != "" {
				v = queueARN(h.cfg.Region, h.cfg.AccountID, s)
			}
		}
		if v != "" {
			x.Attributes = append(x.Attributes, nameValue{Name: n, Value: v})
		}
	}
	sel := selectAttributes(m.GetAttributes(), p.msgAttrs)
	if len(sel) > 0 {
		x.MD5OfMessageAttributes = md5OfAttributes(sel)
		names := make([]string, 0, len(sel))
		for n := range sel {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			v := sel[n]
			a := xmlMessageAttr{Name: n, Value: xmlAttrValue{DataType: v.GetDataType()}}
			if isBinary(v.GetDataType()) {
				a.Value.BinaryValue = base64.StdEncoding.EncodeToString(v.GetBinaryValue())
			} else {
				a.Value.StringValue = v.GetStringValue()
			}
			x.MessageAttributes = append(x.MessageAttributes, a)
		}
	}
	return x
}

func (h *Handler) deleteMessage(c *call) (any, error) {
	name, e := h.queueName(c)
	if e != nil {
		return nil, e
	}
	handle, ok := c.f.get("ReceiptHandle")
	if !ok {
		return nil, missingParam("ReceiptHandle")
	}
	if handle == "" {
		return nil, errorf(http.StatusBadRequest, CodeReceiptHandleInvalid, "The input receipt handle is invalid.")
	}
	resp, err := h.queues.Ack(c.ctx, &queuedv1.AckRequest{Queue: name, Entries: []*queuedv1.ReceiptEntry{{Id: "0", ReceiptHandle: handle}}})
	if err != nil {
		return nil, err
	}
	if errs := resp.GetErrors(); len(errs) > 0 {
		return nil, entryErr(errs[0])
	}
	return nil, nil
}

const deleteBatchPrefix = "DeleteMessageBatchRequestEntry"

func (h *Handler) deleteMessageBatch(c *call) (any, error) {
	name, e := h.queueName(c)
	if e != nil {
		return nil, e
	}
	ms, ids, e := batchEntries(c.f, deleteBatchPrefix)
	if e != nil {
		return nil, e
	}
	out := &deleteMessageBatchResult{Successful: []idEntry{}, Failed: []batchError{}}
	var entries []*queuedv1.ReceiptEntry
	for i, m := range ms {
		handle := m.sub["ReceiptHandle"]
		if handle == "" {
			out.Failed = append(out.Failed, batchFailure(c.action, ids[i], missingParam(memberPrefix(deleteBatchPrefix, m)+"ReceiptHandle")))
			continue
		}
		entries = append(entries, &queuedv1.ReceiptEntry{Id: ids[i], ReceiptHandle: handle})
	}
	if len(entries) > 0 {
		resp, err := h.queues.Ack(c.ctx, &queuedv1.AckRequest{Queue: name, Entries: entries})
		if err != nil {
			return nil, err
		}
		for _, id := range resp.GetAcked() {
			out.Successful = append(out.Successful, idEntry{ID: id})
		}
		for _, fe := range resp.GetErrors() {
			out.Failed = append(out.Failed, batchFailure(c.action, fe.GetId(), entryErr(fe)))
		}
	}
	sortBatch(ids, out.Successful, out.Failed)
	return out, nil
}

// sortBatch puts results and failures in the order of the request's ids.
func sortBatch(ids []string, ok []idEntry, failed []batchError) {
	order := map[string]int{}
	for i, id := range ids {
		order[id] = i
	}
	sort.SliceStable(ok, func(i, j int) bool { return order[ok[i].ID] < order[ok[j].ID] })
	sort.SliceStable(failed, func(i, j int) bool { return order[failed[i].ID] < order[failed[j].ID] })
}

// changeVisibility sets the visibility of deliveries: a timeout of 0 makes
// them visible now (queued's Nack), any other extends it from now
// (ExtendVisibility). It returns the ids that succeeded and the failures.
func (h *Handler) changeVisibility(c *call, queue string, entries []*queuedv1.VisibilityEntry) ([]string, []batchError, error) {
	var now, later []*queuedv1.VisibilityEntry
	for _, e := range entries {
		if e.GetTimeout().AsDuration() == 0 {
			now = append(now, e)
		} else {
			later = append(later, e)
		}
	}
	var ok []string
	var failed []batchError
	collect := func(succeeded []string, errs []*queuedv1.EntryError) {
		ok = append(ok, succeeded...)
		for _, fe := range errs {
			failed = append(failed, batchFailure(c.action, fe.GetId(), entryErr(fe)))
		}
	}
	if len(now) > 0 {
		resp, err := h.queues.Nack(c.ctx, &queuedv1.NackRequest{Queue: queue, Entries: now})
		if err != nil {
			return nil, nil, err
		}
		collect(resp.GetSucceeded(), resp.GetErrors())
	}
	if len(later) > 0 {
		resp, err := h.queues.ExtendVisibility(c.ctx, &queuedv1.ExtendVisibilityRequest{Queue: queue, Entries: later})
		if err != nil {
			return nil, nil, err
		}
		collect(resp.GetSucceeded(), resp.GetErrors())
	}
	return ok, failed, nil
}

// visibilityTimeout reads an entry's VisibilityTimeout: required, 0..43200.
func visibilityTimeout(f form, prefix string) (*durationpb.Duration, *Error) {
	n, set, e := f.intParam("VisibilityTimeout", 0, 43200)
	if e != nil {
		return nil, e
	}
	if !set {
		return nil, missingParam(prefix + "VisibilityTimeout")
	}
	return durationpb.New(time.Duration(n) * time.Second), nil
}

func (h *Handler) changeMessageVisibility(c *call) (any, error) {
	name, e := h.queueName(c)
	if e != nil {
		return nil, e
	}
	handle, ok := c.f.get("ReceiptHandle")
	if !ok {
		return nil, missingParam("ReceiptHandle")
	}
	if handle == "" {
		return nil, errorf(http.StatusBadRequest, CodeReceiptHandleInvalid, "The input receipt handle is invalid.")
	}
	d, e := visibilityTimeout(c.f, "")
	if e != nil {
		return nil, e
	}
	_, failed, err := h.changeVisibility(c, name, []*queuedv1.VisibilityEntry{{Id: "0", ReceiptHandle: handle, Timeout: d}})
	if err != nil {
		return nil, err
	}
	if len(failed) > 0 {
		status := http.StatusBadRequest
		if !failed[0].SenderFault {
			status = http.StatusServiceUnavailable
		}
		return nil, &Error{Status: status, Code: failed[0].Code, Message: failed[0].Message}
	}
	return nil, nil
}

const visibilityBatchPrefix = "ChangeMessageVisibilityBatchRequestEntry"

func (h *Handler) changeMessageVisibilityBatch(c *call) (any, error) {
	name, e := h.queueName(c)
	if e != nil {
		return nil, e
	}
	ms, ids, e := batchEntries(c.f, visibilityBatchPrefix)
	if e != nil {
		return nil, e
	}
	out := &changeMessageVisibilityBatchResult{Successful: []idEntry{}, Failed: []batchError{}}
	var entries []*queuedv1.VisibilityEntry
	for i, m := range ms {
		p := memberPrefix(visibilityBatchPrefix, m)
		handle := m.sub["ReceiptHandle"]
		if handle == "" {
			out.Failed = append(out.Failed, batchFailure(c.action, ids[i], missingParam(p+"ReceiptHandle")))
			continue
		}
		d, e := visibilityTimeout(m.sub, p)
		if e != nil {
			out.Failed = append(out.Failed, batchFailure(c.action, ids[i], e))
			continue
		}
		entries = append(entries, &queuedv1.VisibilityEntry{Id: ids[i], ReceiptHandle: handle, Timeout: d})
	}
	if len(entries) > 0 {
		ok, failed, err := h.changeVisibility(c, name, entries)
		if err != nil {
			return nil, err
		}
		for _, id := range ok {
			out.Successful = append(out.Successful, idEntry{ID: id})
		}
		out.Failed = append(out.Failed, failed...)
	}
	sortBatch(ids, out.Successful, out.Failed)
	return out, nil
}
