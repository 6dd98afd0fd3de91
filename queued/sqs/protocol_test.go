package sqs

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"cairn.dev/cairn/node/sigv4"
)

// TestAuthAndProtocol checks authentication failures and malformed
// requests, and the shape of their errors.
func TestAuthAndProtocol(t *testing.T) {
	e := newEnv(t)
	post := func(body string) *http.Request {
		req, err := http.NewRequest(http.MethodPost, e.url+"/", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return req
	}
	list := "Action=ListQueues&Version=2012-11-05"

	e.send(post(list), sigv4.SignOptions{}).fails(t, 403, CodeMissingAuthToken)
	wrong := testCred
	wrong.SecretAccessKey = "not the secret"
	e.send(post(list), sigv4.SignOptions{Credential: wrong, Region: testRegion, Service: "sqs"}).fails(t, 403, CodeSignatureDoesNotMatch)
	unknown := testCred
	unknown.AccessKeyID = "AKIDUNKNOWN"
	e.send(post(list), sigv4.SignOptions{Credential: unknown, Region: testRegion, Service: "sqs"}).fails(t, 403, CodeInvalidClientTokenID)
	e.send(post(list), sigv4.SignOptions{Credential: testCred, Region: "us-east-1", Service: "sqs"}).fails(t, 403, CodeSignatureDoesNotMatch)
	e.send(post(list), sigv4.SignOptions{Credential: testCred, Region: testRegion, Service: "s3"}).fails(t, 403, CodeSignatureDoesNotMatch)
	e.send(post(list), sigv4.SignOptions{Credential: testCred, Region: testRegion, Service: "sqs", Time: time.Now().Add(-time.Hour)}).fails(t, 400, CodeRequestExpired)
	bad := post(list)
	bad.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=nonsense")
	bad.Header.Set("X-Amz-Date", time.Now().UTC().Format("20060102T150405Z"))
	e.send(bad, sigv4.SignOptions{}).fails(t, 400, CodeIncompleteSignature)
	// Tampered after signing.
	req := post(list)
	if err := sigv4.Sign(req, signOpts()); err != nil {
		t.Fatal(err)
	}
	req.Body = http.NoBody
	req.ContentLength = 0
	e.send(req, sigv4.SignOptions{}).fails(t, 403, CodeSignatureDoesNotMatch)

	// A presigned GET works like a signed one.
	get, err := http.NewRequest(http.MethodGet, e.url+"/?Action=ListQueues", nil)
	if err != nil {
		t.Fatal(err)
	}
	u, err := sigv4.Presign(get, signOpts())
	if err != nil {
		t.Fatal(err)
	}
	get.URL = u
	e.send(get, sigv4.SignOptions{}).ok(t)

	// Malformed requests, signed.
	e.send(post("Version=2012-11-05"), signOpts()).fails(t, 400, CodeMissingAction)
	e.send(post("Action=Frobnicate"), signOpts()).fails(t, 400, CodeInvalidAction)
	e.send(post("Action=TagQueue"), signOpts()).fails(t, 400, CodeInvalidAction)
	e.send(post("Action=ListQueues&Action=ListQueues"), signOpts()).fails(t, 400, CodeMalformedQueryString)
	e.send(post("Action=ListQueues&QueueNamePrefix=%zz"), signOpts()).fails(t, 400, CodeMalformedQueryString)
	put, err := http.NewRequest(http.MethodPut, e.url+"/", strings.NewReader(list))
	if err != nil {
		t.Fatal(err)
	}
	e.send(put, signOpts()).fails(t, 405, CodeInvalidAction)
	big := post("Action=SendMessage&MessageBody=" + url.QueryEscape(strings.Repeat("x", sigv4.DefaultMaxBodyBytes)))
	e.send(big, signOpts()).fails(t, 413, CodeRequestEntityTooLarge)
}
