package sqs

import (
	"bytes"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"cairn.dev/cairn/node/nodetest"
	"cairn.dev/cairn/node/sigv4"
	"cairn.dev/cairn/queued/queuedtest"
)

const (
	testAccount = "123456789012"
	testRegion  = "eu-west-3"
	testKey     = "AKIDSQSTEST"
	testSecret  = "sqs/test+secret=="
)

var testCred = sigv4.Credential{AccessKeyID: testKey, SecretAccessKey: testSecret}

// env is an SQS handler on a follower of an in-process 3-member queued
// cluster (so that writes are forwarded), behind a real HTTP server.
type env struct {
	t   *testing.T
	c   *queuedtest.Cluster
	url string // http://127.0.0.1:port
	// client sends the requests; nil means http.DefaultClient.
	client *http.Client
}

func newEnv(t *testing.T) *env {
	t.Helper()
	c := queuedtest.New(t, 3, nil)
	m := c.Follower()
	cfg := Config{Region: testRegion, AccountID: testAccount,
		Credentials: sigv4.StaticCredentials{testKey: {SecretAccessKey: testSecret, Principal: "tester"}}}
	h, err := NewHandler(cfg, m.Server.QueueService(), nodetest.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close) // before the cluster stops: cleanups run last first
	return &env{t: t, c: c, url: ts.URL}
}

// reply is a response: its status and XML document.
type reply struct {
	status int
	doc    *xnode
	raw    string
}

// call signs and posts Action with params (name, value, name, value, …)
// to path ("/" unless a queue URL's).
func (e *env) call(action string, params ...string) reply {
	e.t.Helper()
	return e.callPath("/", action, params...)
}

func (e *env) callPath(path, action string, params ...string) reply {
	e.t.Helper()
	v := url.Values{"Action": {action}, "Version": {"2012-11-05"}}
	for i := 0; i+1 < len(params); i += 2 {
		v.Set(params[i], params[i+1])
	}
	req, err := http.NewRequest(http.MethodPost, e.url+path, strings.NewReader(v.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	return e.send(req, sigv4.SignOptions{Credential: testCred, Region: testRegion, Service: "sqs"})
}

// send signs req with o (unless o has no access key) and sends it.
func (e *env) send(req *http.Request, o sigv4.SignOptions) reply {
	e.t.Helper()
	if o.Credential.AccessKeyID != "" {
		if err := sigv4.Sign(req, o); err != nil {
			e.t.Fatal(err)
		}
	}
	client := e.client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/xml" {
		e.t.Fatalf("Content-Type %q, body %s", ct, b)
	}
	if resp.Header.Get("x-amzn-RequestId") == "" {
		e.t.Fatalf("no x-amzn-RequestId header")
	}
	doc, err := parseXML(b)
	if err != nil {
		e.t.Fatalf("response is not XML: %v\n%s", err, b)
	}
	return reply{status: resp.StatusCode, doc: doc, raw: string(b)}
}

// ok fails unless r succeeded; it returns the document for chaining.
func (r reply) ok(t *testing.T) *xnode {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.raw)
	}
	if r.doc.text("ResponseMetadata/RequestId") == "" {
		t.Fatalf("no RequestId: %s", r.raw)
	}
	return r.doc
}

// fails checks that r is an SQS error with status and code.
func (r reply) fails(t *testing.T, status int, code string) string {
	t.Helper()
	if r.status != status || r.doc.name != "ErrorResponse" || r.doc.text("Error/Code") != code {
		t.Fatalf("want %d %s, got %d: %s", status, code, r.status, r.raw)
	}
	wantType := "Sender"
	if status >= 500 {
		wantType = "Receiver"
	}
	if r.doc.text("Error/Type") != wantType || r.doc.text("Error/Message") == "" || r.doc.text("RequestId") == "" {
		t.Fatalf("error shape: %s", r.raw)
	}
	if r.doc.attr("xmlns") != xmlnsWant {
		t.Fatalf("xmlns %q", r.doc.attr("xmlns"))
	}
	return r.doc.text("Error/Message")
}

const xmlnsWant = "http://queue.amazonaws.com/doc/2012-11-05/"

// xnode is a parsed XML element, for reading responses independently of the
// types that wrote them.
type xnode struct {
	name     string
	attrs    map[string]string
	text_    string
	children []*xnode
}

func parseXML(b []byte) (*xnode, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	var stack []*xnode
	var root *xnode
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return root, nil
		}
		if err != nil {
			return nil, err
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			n := &xnode{name: tk.Name.Local, attrs: map[string]string{}}
			for _, a := range tk.Attr {
				n.attrs[a.Name.Local] = a.Value
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text_ += string(tk)
			}
		}
	}
}

// all returns the elements at path below n ("A/B": every B of every A).
func (n *xnode) all(path string) []*xnode {
	if n == nil {
		return nil
	}
	cur := []*xnode{n}
	for _, part := range strings.Split(path, "/") {
		var next []*xnode
		for _, c := range cur {
			for _, ch := range c.children {
				if ch.name == part {
					next = append(next, ch)
				}
			}
		}
		cur = next
	}
	return cur
}

func (n *xnode) get(path string) *xnode {
	if all := n.all(path); len(all) > 0 {
		return all[0]
	}
	return nil
}

func (n *xnode) text(path string) string {
	if g := n.get(path); g != nil {
		return g.text_
	}
	return ""
}

func (n *xnode) attr(name string) string { return n.attrs[name] }

// pairs reads a flattened map (path elements with Name and Value).
func (n *xnode) pairs(path string) map[string]string {
	out := map[string]string{}
	for _, p := range n.all(path) {
		out[p.text("Name")] = p.text("Value")
	}
	return out
}

// waitFor polls cond until it holds or 10 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func signOpts() sigv4.SignOptions {
	return sigv4.SignOptions{Credential: testCred, Region: testRegion, Service: "sqs"}
}
