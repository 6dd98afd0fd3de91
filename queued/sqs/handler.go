package sqs

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"cairn.dev/cairn/node/sigv4"
	queuedv1 "cairn.dev/cairn/proto/cairn/queued/v1"
)

// Handler serves the SQS API (query and JSON protocols) over queued's
// QueueService.
// It is an http.Handler, safe for concurrent use.
type Handler struct {
	cfg      Config
	queues   queuedv1.QueueServiceServer
	verifier *sigv4.Verifier
	logger   *slog.Logger
}

// NewHandler returns a Handler that verifies requests against cfg and
// serves them by calling queues in-process (queued.Server.QueueService).
// logger may be nil.
func NewHandler(cfg Config, queues queuedv1.QueueServiceServer, logger *slog.Logger) (*Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if queues == nil {
		return nil, fmt.Errorf("sqs: no QueueService")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	vc := sigv4.DefaultConfig("sqs")
	vc.Credentials = cfg.Credentials
	vc.Region = cfg.Region
	vc.MaxBodyBytes = cfg.maxBody()
	vc.Now = cfg.Now
	v, err := sigv4.NewVerifier(vc)
	if err != nil {
		return nil, fmt.Errorf("sqs: %w", err)
	}
	return &Handler{cfg: cfg, queues: queues, verifier: v, logger: logger}, nil
}

// call is one request being served.
type call struct {
	ctx    context.Context
	action string
	// f holds the request's parameters as the query protocol flattens them,
	// whichever protocol the request came in (see decodeJSON).
	f form
	// base is the scheme and host the request came to, for queue URLs.
	base string
	// path is the request's path: "/" or a queue URL's.
	path string
}

// actionFunc serves one action; its error becomes an SQS error through
// toError.
type actionFunc func(h *Handler, c *call) (any, error)

// actions is the table of implemented actions.
var actions = map[string]actionFunc{
	"CreateQueue":                  (*Handler).createQueue,
	"GetQueueUrl":                  (*Handler).getQueueURL,
	"ListQueues":                   (*Handler).listQueues,
	"DeleteQueue":                  (*Handler).deleteQueue,
	"GetQueueAttributes":           (*Handler).getQueueAttributes,
	"SetQueueAttributes":           (*Handler).setQueueAttributes,
	"PurgeQueue":                   (*Handler).purgeQueue,
	"ListDeadLetterSourceQueues":   (*Handler).listDeadLetterSourceQueues,
	"SendMessage":                  (*Handler).sendMessage,
	"SendMessageBatch":             (*Handler).sendMessageBatch,
	"ReceiveMessage":               (*Handler).receiveMessage,
	"DeleteMessage":                (*Handler).deleteMessage,
	"DeleteMessageBatch":           (*Handler).deleteMessageBatch,
	"ChangeMessageVisibility":      (*Handler).changeMessageVisibility,
	"ChangeMessageVisibilityBatch": (*Handler).changeMessageVisibilityBatch,
}

// ServeHTTP verifies the request's signature, decodes its parameters with
// the codec of its protocol (JSON when it has an X-Amz-Target header, else
// query), runs its action from the one table and writes the response or
// error with the same codec.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := newRequestID()
	w.Header().Set("x-amzn-RequestId", reqID)
	target := r.Header.Get("X-Amz-Target")
	isJSON := target != ""
	action := ""
	fail := func(err error) {
		e := toError(action, err)
		h.logger.Debug("sqs request failed", "action", action, "code", e.Code, "err", e.Message, "request_id", reqID)
		if isJSON {
			writeJSONError(w, e)
		} else {
			writeError(w, reqID, e)
		}
	}
	if r.Method != http.MethodPost && (isJSON || r.Method != http.MethodGet) {
		allowed := "POST or GET"
		if isJSON {
			allowed = "POST"
		}
		fail(errorf(http.StatusMethodNotAllowed, CodeInvalidAction, "Method "+r.Method+" is not allowed; use "+allowed+"."))
		return
	}
	p, err := h.verifier.Verify(r)
	if err != nil {
		fail(err)
		return
	}
	var body []byte
	if r.Method == http.MethodPost {
		body, err = io.ReadAll(io.LimitReader(r.Body, h.cfg.maxBody()+1))
		if err != nil {
			fail(fmt.Errorf("sqs: read body: %w", err))
			return
		}
		if int64(len(body)) > h.cfg.maxBody() {
			fail(sigv4.ErrBodyTooLarge)
			return
		}
	}
	var f form
	var e *Error
	if isJSON {
		if action, e = jsonAction(target); e == nil {
			f, e = decodeJSON(action, body)
		}
		action = ""
	} else {
		f, e = parseForm(r.URL.RawQuery, string(body))
	}
	if e != nil {
		fail(e)
		return
	}
	name := f["Action"]
	if name == "" {
		fail(errorf(http.StatusBadRequest, CodeMissingAction, "The request must contain the parameter Action."))
		return
	}
	run, ok := actions[name]
	if !ok {
		fail(errorf(http.StatusBadRequest, CodeInvalidAction, "The action "+name+" is not valid for this endpoint."))
		return
	}
	action = name
	c := &call{ctx: r.Context(), action: action, f: f, base: baseURL(r), path: r.URL.Path}
	res, err := run(h, c)
	if err != nil {
		fail(err)
		return
	}
	h.logger.Debug("sqs request", "action", action, "principal", p.Name, "request_id", reqID, "json", isJSON)
	if isJSON {
		writeJSONResult(w, res)
		return
	}
	writeXML(w, http.StatusOK, &response{XMLName: xmlName(action + "Response"), Xmlns: xmlns, Result: res, RequestID: reqID})
}

// writeError writes e as SQS's ErrorResponse.
func writeError(w http.ResponseWriter, reqID string, e *Error) {
	var out errorResponse
	out.Xmlns = xmlns
	out.Error.Type = "Sender"
	if !e.Sender() {
		out.Error.Type = "Receiver"
	}
	out.Error.Code, out.Error.Message = e.Code, e.Message
	out.RequestID = reqID
	writeXML(w, e.Status, &out)
}

// baseURL is the scheme and host:port the request came to.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// queueURL is the URL of queue name as seen by the request's client.
func (h *Handler) queueURL(c *call, name string) string {
	return c.base + "/" + h.cfg.AccountID + "/" + name
}

// queueName finds the queue a request names: its QueueUrl parameter, or
// else the request's path (an SDK may post to the queue URL). Only the path
// of the URL counts ("/<account>/<name>"); another account, or a name queued
// cannot have, is a queue that does not exist.
func (h *Handler) queueName(c *call) (string, *Error) {
	path := c.path
	if u, ok := c.f.get("QueueUrl"); ok {
		pu, err := url.Parse(u)
		if err != nil || u == "" {
			return "", errorf(http.StatusBadRequest, CodeInvalidAddress, "The address "+u+" is not valid for this endpoint.")
		}
		path = pu.Path
	} else if path == "" || path == "/" {
		return "", missingParam("QueueUrl")
	}
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if len(parts) != 2 || parts[0] != h.cfg.AccountID || !cairnName(parts[1]) {
		return "", nonExistentQueue()
	}
	return parts[1], nil
}

// cairnName reports whether name is a name queued accepts: 1..80 of
// [A-Za-z0-9_.-].
func cairnName(name string) bool {
	if name == "" || len(name) > 80 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// newRequestID returns a random UUID-shaped request id.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
