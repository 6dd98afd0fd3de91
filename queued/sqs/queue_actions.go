package sqs

import (
	"encoding/base64"
	"net/http"
	"strings"

	"google.golang.org/protobuf/types/known/durationpb"

	"cairn.dev/cairn/node/rpcerr"
	queuedv1 "cairn.dev/cairn/proto/cairn/queued/v1"
)

// sqsQueueName checks a new queue's name against SQS's rules, stricter
// than queued's: 1 to 80 of [A-Za-z0-9_-], and a FIFO queue's ends in
// ".fifo" (which a standard queue's must not).
func sqsQueueName(name string, fifo bool) *Error {
	base := name
	if fifo {
		base = strings.TrimSuffix(name, ".fifo")
		if base == name {
			return errorf(http.StatusBadRequest, CodeInvalidParameterValue,
				"The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.")
		}
	}
	ok := base != "" && len(name) <= 80
	for i := 0; ok && i < len(base); i++ {
		c := base[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
	}
	switch {
	case !ok && fifo:
		return errorf(http.StatusBadRequest, CodeInvalidParameterValue,
			"The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.")
	case !ok:
		return errorf(http.StatusBadRequest, CodeInvalidParameterValue,
			"Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")
	}
	return nil
}

// createQueue creates a queue, or returns the URL of an existing one when
// every attribute the request gives matches it (attributes it leaves out are
// not compared), as SQS does.
func (h *Handler) createQueue(c *call) (any, error) {
	name, ok := c.f.get("QueueName")
	if !ok {
		return nil, missingParam("QueueName")
	}
	qa, e := decodeQueueAttributes(c.f, true, h.cfg.Region, h.cfg.AccountID)
	if e != nil {
		return nil, e
	}
	if e := sqsQueueName(name, qa.fifo); e != nil {
		return nil, e
	}
	if tags, e := c.f.members("Tag"); e != nil || len(tags) > 0 {
		return nil, errorf(http.StatusBadRequest, CodeUnsupportedOperation, "Queue tags are not supported by cairn.")
	}
	// queued takes a zero visibility timeout at creation for the default;
	// a queue asked to have none gets it set right after.
	zeroVisibility := false
	for _, m := range qa.mask {
		zeroVisibility = zeroVisibility || m == "visibility_timeout" && qa.attrs.GetVisibilityTimeout().AsDuration() == 0
	}
	resp, err := h.queues.CreateQueue(c.ctx, &queuedv1.CreateQueueRequest{Name: name, Attributes: qa.attrs})
	var existing *queuedv1.Queue
	switch {
	case rpcerr.ReasonOf(err) == rpcerr.QueueExists:
		got, gerr := h.queues.GetQueue(c.ctx, &queuedv1.GetQueueRequest{Name: name})
		if gerr != nil {
			return nil, gerr
		}
		existing = got.GetQueue()
	case err != nil:
		return nil, err
	case !resp.GetCreated():
		existing = resp.GetQueue()
	case zeroVisibility:
		if _, err := h.queues.SetQueueAttributes(c.ctx, &queuedv1.SetQueueAttributesRequest{
			Name: name, Attributes: &queuedv1.QueueAttributes{VisibilityTimeout: durationpb.New(0)}, Mask: []string{"visibility_timeout"},
		}); err != nil {
			return nil, err
		}
	}
	if existing != nil {
		if same, attr := sameAttrs(qa, existing.GetAttributes()); !same {
			return nil, errorf(http.StatusBadRequest, CodeQueueAlreadyExists,
				"A queue already exists with the same name and a different value for attribute "+attr)
		}
	}
	return &createQueueResult{QueueURL: h.queueURL(c, name)}, nil
}

func (h *Handler) getQueueURL(c *call) (any, error) {
	name, ok := c.f.get("QueueName")
	if !ok {
		return nil, missingParam("QueueName")
	}
	if owner, ok := c.f.get("QueueOwnerAWSAccountId"); ok && owner != h.cfg.AccountID {
		return nil, nonExistentQueue()
	}
	if !cairnName(name) {
		return nil, nonExistentQueue()
	}
	if _, err := h.queues.GetQueue(c.ctx, &queuedv1.GetQueueRequest{Name: name}); err != nil {
		return nil, err
	}
	return &getQueueURLResult{QueueURL: h.queueURL(c, name)}, nil
}

// listQueues lists queue URLs by name prefix. Without MaxResults it returns
// the first 1000 and no NextToken (as SQS); with it, pages of MaxResults
// and a NextToken (queued's page token, base64url-encoded) while more
// remain.
func (h *Handler) listQueues(c *call) (any, error) {
	prefix, _ := c.f.get("QueueNamePrefix")
	n, paged, e := c.f.intParam("MaxResults", 1, 1000)
	if e != nil {
		return nil, e
	}
	req := &queuedv1.ListQueuesRequest{Prefix: prefix, PageSize: 1000}
	if paged {
		req.PageSize = uint32(n)
	}
	if tok, ok := c.f.get("NextToken"); ok && tok != "" {
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || !cairnName(string(raw)) {
			return nil, invalidParam("NextToken", tok, "Invalid NextToken value.")
		}
		req.PageToken = string(raw)
	}
	resp, err := h.queues.ListQueues(c.ctx, req)
	if err != nil {
		return nil, err
	}
	out := &listQueuesResult{}
	for _, q := range resp.GetQueues() {
		out.QueueURLs = append(out.QueueURLs, h.queueURL(c, q.GetName()))
	}
	if paged && resp.GetNextPageToken() != "" {
		out.NextToken = base64.RawURLEncoding.EncodeToString([]byte(resp.GetNextPageToken()))
	}
	return out, nil
}

func (h *Handler) deleteQueue(c *call) (any, error) {
	name, e := h.queueName(c)
	if e != nil {
		return nil, e
	}
	if _, err := h.queues.DeleteQueue(c.ctx, &queuedv1.DeleteQueueRequest{Name: name}); err != nil {
		return nil, err
	}
	return nil, nil
}

func (h *Handler) purgeQueue(c *call) (any, error) {
	name, e := h.queueName(c)
	if e != nil {
		return nil, e
	}
	if _, err := h.queues.PurgeQueue(c.ctx, &queuedv1.PurgeQueueRequest{Name: name}); err != nil {
		return nil, err
	}
	return nil, nil
}

func (h *Handler) getQueueAttributes(c *call) (any, error) {
	name, e := h.queueName(c)
	if e != nil {
		return nil, e
	}
	names, e := c.f.list("AttributeName")
	if e != nil {
		return nil, e
	}
	want, all := map[string]bool{}, false
	for _, n := range names {
		switch {
		case n == "All":
			all = true
		case unsupportedAttrs[n]:
		case !isReadable(n):
			return nil, errorf(http.StatusBadRequest, CodeInvalidAttributeName, "Unknown Attribute "+n+".")
		}
		want[n] = true
	}
	resp, err := h.queues.GetQueue(c.ctx, &queuedv1.GetQueueRequest{Name: name})
	if err != nil {
		return nil, err
	}
	out := &getQueueAttributesResult{}
	for _, n := range readableAttrs {
		if !all && !want[n] {
			continue
		}
		if v, ok := queueAttribute(resp.GetQueue(), n, want[n], h.cfg.Region, h.cfg.AccountID); ok {
			out.Attributes = append(out.Attributes, nameValue{Name: n, Value: v})
		}
	}
	return out, nil
}

func isReadable(name string) bool {
	for _, n := range readableAttrs {
		if n == name {
			return true
		}
	}
	return false
}

func (h *Handler) setQueueAttributes(c *call) (any, error) {
	name, e := h.queueName(c)
	if e != nil {
		return nil, e
	}
	qa, e := decodeQueueAttributes(c.f, false, h.cfg.Region, h.cfg.AccountID)
	if e != nil {
		return nil, e
	}
	if len(qa.mask) == 0 {
		return nil, missingParam("Attribute.1.Name")
	}
	_, err := h.queues.SetQueueAttributes(c.ctx, &queuedv1.SetQueueAttributesRequest{Name: name, Attributes: qa.attrs, Mask: qa.mask})
	if err != nil {
		return nil, err
	}
	return nil, nil
}

// listDeadLetterSourceQueues lists the queues whose redrive policy names
// this one (all of them: MaxResults and NextToken are not implemented).
func (h *Handler) listDeadLetterSourceQueues(c *call) (any, error) {
	name, e := h.queueName(c)
	if e != nil {
		return nil, e
	}
	resp, err := h.queues.GetQueue(c.ctx, &queuedv1.GetQueueRequest{Name: name})
	if err != nil {
		return nil, err
	}
	out := &listDeadLetterSourceQueuesResult{QueueURLs: []string{}}
	for _, s := range resp.GetQueue().GetDeadLetterSources() {
		out.QueueURLs = append(out.QueueURLs, h.queueURL(c, s))
	}
	return out, nil
}
