package queued

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/types/known/durationpb"

	"cairn.dev/cairn/node/rpcerr"
	queuedv1 "cairn.dev/cairn/proto/cairn/queued/v1"
)

// Fixed limits of the API (SQS's, where SQS has one). The proto documents
// them; Config holds the node-wide ones an operator may tune.
const (
	DefaultVisibilityTimeout = 30 * time.Second
	MaxVisibilityTimeout     = 12 * time.Hour
	DefaultRetention         = 4 * 24 * time.Hour
	MinRetention             = time.Minute
	MaxRetention             = 14 * 24 * time.Hour
	MaxDeliveryDelay         = 15 * time.Minute
	DefaultMaxMessageBytes   = 256 << 10
	MinMaxMessageBytes       = 1 << 10
	MaxMaxMessageBytes       = 1 << 20
	MaxReceiveWait           = 20 * time.Second
	MaxReceives              = 1000
	MaxNameLen               = 80
	MaxBatchEntries          = 100
	MaxReceiveMessages       = 100
	MaxAttributes            = 10
	MaxAttributeNameLen      = 256
	MaxEntryIDLen            = 80
	MaxGroupIDLen            = 128
	MaxListPage              = 1000
	MaxRedrivePerEntry       = 1000
	DefaultPrefetch          = 10
	MaxFilterKeys            = 10
	MaxFilterValues          = 100
)

// limits are the request limits a Server enforces. Every check names the
// field (and, for sizes, the limit and its config key) in its message and
// metadata.
type limits struct {
	maxBatchBytes int
	maxPrefetch   int
}

func (c Config) limits() limits {
	return limits{maxBatchBytes: c.MaxBatchBytes, maxPrefetch: c.MaxPrefetch}
}

// invalid is ErrInvalidArgument about field.
func invalid(field, format string, args ...any) error {
	return rpcerr.WithMetadata(fmt.Errorf("%w: %s %s", ErrInvalidArgument, field, fmt.Sprintf(format, args...)), rpcerr.KeyField, field)
}

// overLimit is ErrTooLarge for field, size units long, over limit (named
// limitName when it is a config key, else "").
func overLimit(field string, size int, units string, limitName string, limit int) error {
	msg := fmt.Sprintf("%s is %d %s, the limit is %d", field, size, units, limit)
	if limitName != "" {
		msg = fmt.Sprintf("%s is %d %s, the limit (%s) is %d", field, size, units, limitName, limit)
	}
	kv := []string{rpcerr.KeyField, field, rpcerr.KeySize, strconv.Itoa(size), rpcerr.KeyLimit, strconv.Itoa(limit)}
	if limitName != "" {
		kv = append(kv, rpcerr.KeyLimitName, limitName)
	}
	return rpcerr.WithMetadata(fmt.Errorf("%w: %s", ErrTooLarge, msg), kv...)
}

// validName checks a queue or topic name: 1..80 characters of [A-Za-z0-9_.-].
func validName(field, name string) error {
	if name == "" {
		return invalid(field, "must not be empty")
	}
	if len(name) > MaxNameLen {
		return invalid(field, "%q is %d characters, at most %d are allowed", name, len(name), MaxNameLen)
	}
	for i := 0; i < len(name); i++ {
		if !nameChar(name[i]) {
			return invalid(field, "%q has %q at %d: names use A-Z, a-z, 0-9, '_', '.' and '-'", name, name[i], i)
		}
	}
	return nil
}

func nameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
}

// validID checks a batch entry id, a message group id or a deduplication id:
// at most maxLen printable ASCII characters (SQS allows alphanumerics and
// punctuation).
func validID(field, id string, maxLen int) error {
	if len(id) > maxLen {
		return invalid(field, "is %d characters, at most %d are allowed", len(id), maxLen)
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '!' || id[i] > '~' {
			return invalid(field, "%q has a character outside printable ASCII at %d", id, i)
		}
	}
	return nil
}

// duration converts a proto duration, rejecting malformed values and values
// outside [lo, hi].
func duration(field string, d *durationpb.Duration, lo, hi time.Duration) (time.Duration, error) {
	if d == nil {
		return 0, nil
	}
	if err := d.CheckValid(); err != nil {
		return 0, invalid(field, "is malformed: %v", err)
	}
	v := d.AsDuration()
	if v < lo || v > hi {
		return 0, invalid(field, "%v must be in [%v, %v]", v, lo, hi)
	}
	return v, nil
}

// attrFields are the QueueAttributes fields a SetQueueAttributes mask may name.
var attrFields = map[string]bool{
	"visibility_timeout": true, "retention": true, "delivery_delay": true, "max_message_bytes": true,
	"max_receives": true, "dead_letter_queue": true, "content_based_deduplication": true, "receive_wait": true,
}

// checkAttr checks the attribute name of a (as set) against its range; in
// create, zero values mean the default and were replaced before.
func checkAttr(field, name string, a *queuedv1.QueueAttributes) error {
	var err error
	switch name {
	case "visibility_timeout":
		_, err = duration(field+".visibility_timeout", a.GetVisibilityTimeout(), 0, MaxVisibilityTimeout)
	case "retention":
		if a.GetRetention() == nil {
			return invalid(field+".retention", "must be set (from %v to %v)", MinRetention, MaxRetention)
		}
		_, err = duration(field+".retention", a.GetRetention(), MinRetention, MaxRetention)
	case "delivery_delay":
		_, err = duration(field+".delivery_delay", a.GetDeliveryDelay(), 0, MaxDeliveryDelay)
	case "receive_wait":
		_, err = duration(field+".receive_wait", a.GetReceiveWait(), 0, MaxReceiveWait)
	case "max_message_bytes":
		if n := a.GetMaxMessageBytes(); n < MinMaxMessageBytes || n > MaxMaxMessageBytes {
			err = invalid(field+".max_message_bytes", "%d must be in [%d, %d]", n, MinMaxMessageBytes, MaxMaxMessageBytes)
		}
	case "max_receives":
		if n := a.GetMaxReceives(); n > MaxReceives {
			err = invalid(field+".max_receives", "%d must be in [0, %d]", n, MaxReceives)
		}
	case "dead_letter_queue":
		if q := a.GetDeadLetterQueue(); q != "" {
			err = validName(field+".dead_letter_queue", q)
		}
	case "content_based_deduplication":
		if a.GetContentBasedDeduplication() && a.GetType() != queuedv1.QueueType_QUEUE_TYPE_FIFO {
			err = rpcerr.WithMetadata(fmt.Errorf("%w: %s.content_based_deduplication is for FIFO queues only", ErrQueueMismatch, field),
				rpcerr.KeyField, field+".content_based_deduplication")
		}
	}
	return err
}

// completeAttributes validates the attributes of a CreateQueue and returns
// them complete: zero values replaced by the defaults.
func completeAttributes(name string, in *queuedv1.QueueAttributes) (*queuedv1.QueueAttributes, error) {
	const field = "attributes"
	a := &queuedv1.QueueAttributes{}
	if in != nil {
		a = cloneAttrs(in)
	}
	switch a.GetType() {
	case queuedv1.QueueType_QUEUE_TYPE_UNSPECIFIED:
		a.Type = queuedv1.QueueType_QUEUE_TYPE_STANDARD
	case queuedv1.QueueType_QUEUE_TYPE_STANDARD, queuedv1.QueueType_QUEUE_TYPE_FIFO:
	default:
		return nil, invalid(field+".type", "%d is not a known QueueType", a.GetType())
	}
	if zeroDuration(a.VisibilityTimeout) {
		a.VisibilityTimeout = durationpb.New(DefaultVisibilityTimeout)
	}
	if zeroDuration(a.Retention) {
		a.Retention = durationpb.New(DefaultRetention)
	}
	if a.DeliveryDelay == nil {
		a.DeliveryDelay = durationpb.New(0)
	}
	if a.ReceiveWait == nil {
		a.ReceiveWait = durationpb.New(0)
	}
	if a.MaxMessageBytes == 0 {
		a.MaxMessageBytes = DefaultMaxMessageBytes
	}
	for f := range attrFields {
		if err := checkAttr(field, f, a); err != nil {
			return nil, err
		}
	}
	if err := redriveConsistent(field, name, a); err != nil {
		return nil, err
	}
	return a, nil
}

// redriveConsistent checks that max_receives and dead_letter_queue go together
// and that a queue is not its own dead letter queue.
func redriveConsistent(field, name string, a *queuedv1.QueueAttributes) error {
	if err := selfDeadLetter(field, name, a); err != nil {
		return err
	}
	switch {
	case a.GetMaxReceives() > 0 && a.GetDeadLetterQueue() == "":
		return invalid(field+".dead_letter_queue", "must be set when max_receives is %d", a.GetMaxReceives())
	case a.GetMaxReceives() == 0 && a.GetDeadLetterQueue() != "":
		return invalid(field+".max_receives", "must be set (1..%d) with dead_letter_queue %q", MaxReceives, a.GetDeadLetterQueue())
	}
	return nil
}

// selfDeadLetter refuses a queue that would be its own dead letter queue;
// longer loops are the state machine's to find.
func selfDeadLetter(field, name string, a *queuedv1.QueueAttributes) error {
	if a.GetDeadLetterQueue() != "" && a.GetDeadLetterQueue() == name {
		return rpcerr.WithMetadata(fmt.Errorf("%w: %s.dead_letter_queue: queue %q cannot be its own dead letter queue", ErrDeadLetterLoop, field, name),
			rpcerr.KeyField, field+".dead_letter_queue")
	}
	return nil
}

func zeroDuration(d *durationpb.Duration) bool {
	return d == nil || (d.GetSeconds() == 0 && d.GetNanos() == 0)
}

func cloneAttrs(a *queuedv1.QueueAttributes) *queuedv1.QueueAttributes {
	out := &queuedv1.QueueAttributes{
		Type: a.GetType(), MaxMessageBytes: a.GetMaxMessageBytes(), MaxReceives: a.GetMaxReceives(),
		DeadLetterQueue: a.GetDeadLetterQueue(), ContentBasedDeduplication: a.GetContentBasedDeduplication(),
	}
	cp := func(d *durationpb.Duration) *durationpb.Duration {
		if d == nil {
			return nil
		}
		return &durationpb.Duration{Seconds: d.GetSeconds(), Nanos: d.GetNanos()}
	}
	out.VisibilityTimeout = cp(a.GetVisibilityTimeout())
	out.Retention = cp(a.GetRetention())
	out.DeliveryDelay = cp(a.GetDeliveryDelay())
	out.ReceiveWait = cp(a.GetReceiveWait())
	return out
}

func validateCreateQueue(r *queuedv1.CreateQueueRequest) (*queuedv1.QueueAttributes, error) {
	if err := validName("name", r.GetName()); err != nil {
		return nil, err
	}
	return completeAttributes(r.GetName(), r.GetAttributes())
}

// validateSetAttributes checks the mask and the values it names. Whether the
// change fits the queue (content-based deduplication on a standard queue, a
// dead letter queue of another type) is the state machine's to say.
func validateSetAttributes(r *queuedv1.SetQueueAttributesRequest) error {
	if err := validName("name", r.GetName()); err != nil {
		return err
	}
	if len(r.GetMask()) == 0 {
		return invalid("mask", "must name at least one attribute")
	}
	a := r.GetAttributes()
	if a == nil {
		a = &queuedv1.QueueAttributes{}
	}
	seen := map[string]bool{}
	for i, f := range r.GetMask() {
		field := fmt.Sprintf("mask[%d]", i)
		if f == "type" {
			return rpcerr.WithMetadata(fmt.Errorf("%w: %s: a queue's type cannot change", ErrQueueMismatch, field), rpcerr.KeyField, field)
		}
		if !attrFields[f] {
			return invalid(field, "%q is not a queue attribute (%s)", f, strings.Join(attrNames(), ", "))
		}
		if seen[f] {
			return invalid(field, "%q is named twice", f)
		}
		seen[f] = true
		if f == "content_based_deduplication" {
			continue // its fit to the queue's type is the state machine's check
		}
		if err := checkAttr("attributes", f, a); err != nil {
			return err
		}
	}
	if seen["max_receives"] && seen["dead_letter_queue"] {
		return redriveConsistent("attributes", r.GetName(), a)
	}
	if seen["dead_letter_queue"] {
		return selfDeadLetter("attributes", r.GetName(), a)
	}
	return nil
}

func attrNames() []string {
	return []string{"visibility_timeout", "retention", "delivery_delay", "max_message_bytes", "max_receives",
		"dead_letter_queue", "content_based_deduplication", "receive_wait"}
}

// validatePage checks a list request and returns the page size.
func validatePage(prefix string, pageSize uint32, token string) (int, error) {
	if len(prefix) > MaxNameLen {
		return 0, invalid("prefix", "is %d characters, names have at most %d", len(prefix), MaxNameLen)
	}
	if token != "" {
		if err := validName("page_token", token); err != nil {
			return 0, err
		}
	}
	if pageSize == 0 || pageSize > MaxListPage {
		return MaxListPage, nil
	}
	return int(pageSize), nil
}

// validAttributes checks the attributes of a message.
func validAttributes(field string, attrs map[string]*queuedv1.AttributeValue) error {
	if len(attrs) > MaxAttributes {
		return invalid(field, "has %d attributes, at most %d are allowed", len(attrs), MaxAttributes)
	}
	for name, v := range attrs {
		f := field + "[" + name + "]"
		if name == "" || len(name) > MaxAttributeNameLen {
			return invalid(field, "attribute name %q must be 1..%d characters", name, MaxAttributeNameLen)
		}
		for i := 0; i < len(name); i++ {
			if !nameChar(name[i]) {
				return invalid(field, "attribute name %q has %q: names use A-Z, a-z, 0-9, '_', '.' and '-'", name, name[i])
			}
		}
		if v == nil {
			return invalid(f, "has no value")
		}
		base, _, _ := strings.Cut(v.GetDataType(), ".")
		switch base {
		case "String", "Number":
			if v.GetStringValue() == "" {
				return invalid(f+".string_value", "must be set for data type %q", v.GetDataType())
			}
			if len(v.GetBinaryValue()) > 0 {
				return invalid(f+".binary_value", "must be empty for data type %q", v.GetDataType())
			}
			if base == "Number" {
				if _, err := strconv.ParseFloat(v.GetStringValue(), 64); err != nil {
					return invalid(f+".string_value", "%q is not a number", v.GetStringValue())
				}
			}
		case "Binary":
			if len(v.GetBinaryValue()) == 0 {
				return invalid(f+".binary_value", "must be set for data type %q", v.GetDataType())
			}
			if v.GetStringValue() != "" {
				return invalid(f+".string_value", "must be empty for data type %q", v.GetDataType())
			}
		default:
			return invalid(f+".data_type", "%q must be String, Number or Binary, optionally with a .suffix", v.GetDataType())
		}
		if !utf8.ValidString(v.GetStringValue()) {
			return invalid(f+".string_value", "is not valid UTF-8")
		}
	}
	return nil
}

// validateSendEntry checks one entry of a Send without the queue: the state
// machine checks the queue's type and size limit.
func validateSendEntry(field string, e *queuedv1.SendEntry) error {
	if err := validID(field+".id", e.GetId(), MaxEntryIDLen); err != nil {
		return err
	}
	if len(e.GetBody()) == 0 {
		return invalid(field+".body", "must not be empty")
	}
	if len(e.GetBody()) > MaxMaxMessageBytes {
		return overLimit(field+".body", len(e.GetBody()), "bytes", "", MaxMaxMessageBytes)
	}
	if err := validAttributes(field+".attributes", e.GetAttributes()); err != nil {
		return err
	}
	if _, err := duration(field+".delay", e.GetDelay(), 0, MaxDeliveryDelay); err != nil {
		return err
	}
	if err := validID(field+".group_id", e.GetGroupId(), MaxGroupIDLen); err != nil {
		return err
	}
	return validID(field+".deduplication_id", e.GetDeduplicationId(), MaxGroupIDLen)
}

// validateSend checks a Send: whole-request errors fail the call; bad entries
// are reported one by one in errs and left out of the returned entries.
func (l limits) validateSend(r *queuedv1.SendRequest) (ok []*queuedv1.SendEntry, errs []*queuedv1.EntryError, err error) {
	if err := validName("queue", r.GetQueue()); err != nil {
		return nil, nil, err
	}
	n := len(r.GetEntries())
	if n == 0 {
		return nil, nil, invalid("entries", "must hold at least one entry")
	}
	if n > MaxBatchEntries {
		return nil, nil, overLimit("entries", n, "entries", "", MaxBatchEntries)
	}
	total := 0
	for _, e := range r.GetEntries() {
		total += len(e.GetBody())
	}
	if total > l.maxBatchBytes {
		return nil, nil, overLimit("entries", total, "body bytes", "max_batch_bytes", l.maxBatchBytes)
	}
	seen := map[string]bool{}
	for i, e := range r.GetEntries() {
		field := fmt.Sprintf("entries[%d]", i)
		if n > 1 && e.GetId() == "" {
			return nil, nil, invalid(field+".id", "must be set in a batch of %d", n)
		}
		if seen[e.GetId()] {
			return nil, nil, invalid(field+".id", "%q is not unique in the batch", e.GetId())
		}
		seen[e.GetId()] = true
		if verr := validateSendEntry(field, e); verr != nil {
			errs = append(errs, entryError(e.GetId(), verr, true))
			continue
		}
		ok = append(ok, e)
	}
	return ok, errs, nil
}

// entryError reports err as the failure of entry id, with the field its
// metadata names.
func entryError(id string, err error, senderFault bool) *queuedv1.EntryError {
	reason := rpcerr.ReasonOf(toStatus(err))
	return &queuedv1.EntryError{Id: id, Reason: string(reason), Message: err.Error(), SenderFault: senderFault,
		Field: rpcerr.MetadataOf(err)[rpcerr.KeyField]}
}

// receiveParams are a validated Receive.
type receiveParams struct {
	max        uint32
	wait       time.Duration
	waitSet    bool
	visibility time.Duration
}

func validateReceive(r *queuedv1.ReceiveRequest) (receiveParams, error) {
	p := receiveParams{max: r.GetMaxMessages()}
	if err := validName("queue", r.GetQueue()); err != nil {
		return p, err
	}
	if p.max == 0 {
		p.max = 1
	}
	if p.max > MaxReceiveMessages {
		return p, invalid("max_messages", "%d must be in [1, %d]", p.max, MaxReceiveMessages)
	}
	var err error
	if p.wait, err = duration("wait", r.GetWait(), 0, MaxReceiveWait); err != nil {
		return p, err
	}
	p.waitSet = r.GetWait() != nil
	if p.visibility, err = duration("visibility_timeout", r.GetVisibilityTimeout(), 0, MaxVisibilityTimeout); err != nil {
		return p, err
	}
	return p, nil
}

// validateSettle checks the entries of an Ack, Nack or ExtendVisibility and
// returns them as VisibilityEntry values with their ids filled in (the
// position when an entry has none).
func validateSettle(queue string, entries []*queuedv1.VisibilityEntry, timeoutField string) ([]*queuedv1.VisibilityEntry, error) {
	if err := validName("queue", queue); err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return nil, invalid("entries", "must hold at least one entry")
	}
	if len(entries) > MaxBatchEntries {
		return nil, overLimit("entries", len(entries), "entries", "", MaxBatchEntries)
	}
	out := make([]*queuedv1.VisibilityEntry, len(entries))
	seen := map[string]bool{}
	for i, e := range entries {
		field := fmt.Sprintf("entries[%d]", i)
		id := e.GetId()
		if id == "" {
			id = strconv.Itoa(i)
		}
		if err := validID(field+".id", e.GetId(), MaxEntryIDLen); err != nil {
			return nil, err
		}
		if seen[id] {
			return nil, invalid(field+".id", "%q is not unique in the batch", id)
		}
		seen[id] = true
		if e.GetReceiptHandle() == "" {
			return nil, invalid(field+".receipt_handle", "must not be empty")
		}
		if len(e.GetReceiptHandle()) > 1024 {
			return nil, invalid(field+".receipt_handle", "is %d bytes, receipt handles are far shorter", len(e.GetReceiptHandle()))
		}
		if timeoutField != "" {
			if _, err := duration(field+"."+timeoutField, e.GetTimeout(), 0, MaxVisibilityTimeout); err != nil {
				return nil, err
			}
		}
		out[i] = &queuedv1.VisibilityEntry{Id: id, ReceiptHandle: e.GetReceiptHandle(), Timeout: e.GetTimeout()}
	}
	return out, nil
}

func validateRedrive(r *queuedv1.RedriveRequest) error {
	if err := validName("dead_letter_queue", r.GetDeadLetterQueue()); err != nil {
		return err
	}
	if r.GetDestination() != "" {
		return validName("destination", r.GetDestination())
	}
	return nil
}

func validateSubscription(s *queuedv1.Subscription) error {
	if s == nil {
		return invalid("subscription", "must be set")
	}
	if err := validName("subscription.queue", s.GetQueue()); err != nil {
		return err
	}
	if len(s.GetFilter()) > MaxFilterKeys {
		return invalid("subscription.filter", "has %d keys, at most %d are allowed", len(s.GetFilter()), MaxFilterKeys)
	}
	for k, v := range s.GetFilter() {
		f := "subscription.filter[" + k + "]"
		if k == "" || len(k) > MaxAttributeNameLen {
			return invalid("subscription.filter", "key %q must be 1..%d characters", k, MaxAttributeNameLen)
		}
		if len(v.GetValues()) == 0 {
			return invalid(f, "must list at least one value")
		}
		if len(v.GetValues()) > MaxFilterValues {
			return invalid(f, "lists %d values, at most %d are allowed", len(v.GetValues()), MaxFilterValues)
		}
	}
	return nil
}

func validatePublish(r *queuedv1.PublishRequest) error {
	if err := validName("topic", r.GetTopic()); err != nil {
		return err
	}
	if len(r.GetBody()) == 0 {
		return invalid("body", "must not be empty")
	}
	if len(r.GetBody()) > MaxMaxMessageBytes {
		return overLimit("body", len(r.GetBody()), "bytes", "", MaxMaxMessageBytes)
	}
	if err := validAttributes("attributes", r.GetAttributes()); err != nil {
		return err
	}
	if err := validID("group_id", r.GetGroupId(), MaxGroupIDLen); err != nil {
		return err
	}
	return validID("deduplication_id", r.GetDeduplicationId(), MaxGroupIDLen)
}

func (l limits) prefetch(n uint32) (int, error) {
	if n == 0 {
		return min(DefaultPrefetch, l.maxPrefetch), nil
	}
	if int(n) > l.maxPrefetch {
		return 0, overLimit("start.prefetch", int(n), "messages", "max_prefetch", l.maxPrefetch)
	}
	return int(n), nil
}
