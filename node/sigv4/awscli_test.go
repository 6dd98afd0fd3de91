//go:build awscli

// This file is built only with the awscli build tag, so that `go test ./...`
// never compiles it and never skips it:
//
//	go test -tags awscli -run TestAWSCLI ./node/sigv4
//
// It needs Debian's awscli (apt-get install awscli) at /usr/bin/aws and fails
// without it. bench/sqs-compat.sh runs the same awscli against a real cluster.

package sigv4

import (
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// awsCLI is the awscli binary TestAWSCLI runs (Debian's awscli package).
const awsCLI = "/usr/bin/aws"

const (
	cliKeyID  = "AKIDCAIRNCLI"
	cliSecret = "cli/secret+key=="
)

// cliSeen is what the server saw of one awscli request.
type cliSeen struct {
	p      Principal
	err    error
	action string // SQS Action
	body   string // SQS MessageBody, or the S3 body
	wire   string // method, request target and Authorization, for the log
}

// cliServer is an httptest server whose handler verifies each request with
// a Verifier of cfg, records it, and answers what awscli expects.
type cliServer struct {
	*httptest.Server
	mu   sync.Mutex // protects seen
	seen []cliSeen
}

func newCLIServer(t *testing.T, cfg Config) *cliServer {
	t.Helper()
	v, err := NewVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &cliServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := v.Verify(r)
		c := cliSeen{p: p, err: err, wire: r.Method + " " + r.RequestURI + " " + r.Header.Get("Authorization")}
		if err == nil && cfg.Service == "sqs" {
			if err := r.ParseForm(); err != nil {
				c.err = fmt.Errorf("ParseForm after Verify: %w", err)
			}
			c.action, c.body = r.PostForm.Get("Action"), r.PostForm.Get("MessageBody")
		} else if err == nil {
			b, err := io.ReadAll(r.Body)
			if err != nil {
				c.err = fmt.Errorf("reading body after Verify: %w", err)
			}
			c.body = string(b)
		}
		s.mu.Lock()
		s.seen = append(s.seen, c)
		s.mu.Unlock()
		if c.err != nil {
			w.Header().Set("Content-Type", "text/xml")
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `<ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code><Message>denied</Message></Error><RequestId>1</RequestId></ErrorResponse>`)
			return
		}
		switch {
		case c.action == "SendMessage":
			fmt.Fprintf(w, `<SendMessageResponse><SendMessageResult><MD5OfMessageBody>%x</MD5OfMessageBody><MessageId>m1</MessageId></SendMessageResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></SendMessageResponse>`, md5.Sum([]byte(c.body)))
		case c.action != "":
			io.WriteString(w, `<ListQueuesResponse><ListQueuesResult><QueueUrl>http://127.0.0.1/000000000000/q1</QueueUrl></ListQueuesResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></ListQueuesResponse>`)
		case r.Method == http.MethodPut:
			w.Header().Set("ETag", fmt.Sprintf(`"%x"`, md5.Sum([]byte(c.body))))
		case r.Method == http.MethodGet && r.URL.Query().Get("list-type") == "2":
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>b</Name><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>`)
		default:
			io.WriteString(w, "object")
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// runCLI runs awscli with args against s, signing with secret, and returns
// what the server saw. awscli's own exit status is only logged: what is
// checked is what Verify said.
func (s *cliServer) runCLI(t *testing.T, secret, configFile string, args ...string) []cliSeen {
	t.Helper()
	s.mu.Lock()
	s.seen = nil
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, awsCLI, append([]string{"--endpoint-url", s.URL, "--region", "us-east-1", "--output", "json"}, args...)...)
	cmd.Env = append(os.Environ(),
		"AWS_ACCESS_KEY_ID="+cliKeyID, "AWS_SECRET_ACCESS_KEY="+secret,
		"AWS_CONFIG_FILE="+configFile, "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_MAX_ATTEMPTS=1", "AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=")
	out, err := cmd.CombinedOutput()
	t.Logf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.seen {
		t.Logf("server saw %s: %v", c.wire, c.err)
	}
	if len(s.seen) == 0 {
		t.Fatalf("awscli sent no request")
	}
	return append([]cliSeen(nil), s.seen...)
}

// TestAWSCLI runs the real awscli against httptest servers whose handlers
// verify with Verify, and checks that awscli's SQS and S3 requests verify,
// and fail with a wrong secret. It is built only with -tags awscli (see the
// top of this file) and fails when /usr/bin/aws is not installed.
func TestAWSCLI(t *testing.T) {
	if _, err := exec.LookPath(awsCLI); err != nil {
		t.Fatalf("%s not installed (apt-get install awscli): %v", awsCLI, err)
	}
	creds := StaticCredentials{cliKeyID: {SecretAccessKey: cliSecret, Principal: "cli-user"}}
	config := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(config, []byte("[default]\ns3 =\n    addressing_style = path\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sqs := newCLIServer(t, Config{Credentials: creds, Service: "sqs", Region: "us-east-1"})
	s3 := newCLIServer(t, Config{Credentials: creds, Service: "s3", Region: "us-east-1",
		AllowUnsignedPayload: true, AllowStreamingPayload: true})
	ok := func(t *testing.T, seen []cliSeen) {
		t.Helper()
		for _, c := range seen {
			if c.err != nil {
				t.Errorf("Verify: %v", c.err)
			} else if c.p.Name != "cli-user" {
				t.Errorf("principal %+v", c.p)
			}
		}
	}

	t.Run("sqs list-queues", func(t *testing.T) {
		seen := sqs.runCLI(t, cliSecret, config, "sqs", "list-queues")
		ok(t, seen)
		if seen[0].action != "ListQueues" {
			t.Errorf("action %q", seen[0].action)
		}
	})
	t.Run("sqs send-message", func(t *testing.T) {
		const body = "hello, wörld + 100% & more=yes ~/*"
		seen := sqs.runCLI(t, cliSecret, config, "sqs", "send-message", "--queue-url", sqs.URL+"/000000000000/q1", "--message-body", body)
		ok(t, seen)
		if seen[0].action != "SendMessage" || seen[0].body != body {
			t.Errorf("action %q, body %q", seen[0].action, seen[0].body)
		}
	})
	t.Run("sqs wrong secret", func(t *testing.T) {
		for _, c := range sqs.runCLI(t, "not-the-secret", config, "sqs", "list-queues") {
			if !errors.Is(c.err, ErrSignatureMismatch) {
				t.Errorf("Verify: %v, want ErrSignatureMismatch", c.err)
			}
		}
	})
	t.Run("s3api put-object", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "obj")
		if err := os.WriteFile(file, []byte("object bytes\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		seen := s3.runCLI(t, cliSecret, config, "s3api", "put-object", "--bucket", "b", "--key", "dir/a b+c,d=ሴ~.txt", "--body", file)
		ok(t, seen)
		if seen[0].body != "object bytes\n" {
			t.Errorf("body %q", seen[0].body)
		}
	})
	t.Run("s3api list-objects-v2", func(t *testing.T) {
		ok(t, s3.runCLI(t, cliSecret, config, "s3api", "list-objects-v2", "--bucket", "b", "--prefix", "a b/ሴ+"))
	})
	t.Run("s3 presign", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, awsCLI, "--endpoint-url", s3.URL, "--region", "us-east-1",
			"s3", "presign", "s3://b/dir/a b+c.txt", "--expires-in", "600")
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+cliKeyID, "AWS_SECRET_ACCESS_KEY="+cliSecret,
			"AWS_CONFIG_FILE="+config, "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("aws s3 presign: %v", err)
		}
		u := strings.TrimSpace(string(out))
		t.Logf("presigned URL: %s", u)
		s3.mu.Lock()
		s3.seen = nil
		s3.mu.Unlock()
		resp, err := s3.Client().Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		s3.mu.Lock()
		seen := append([]cliSeen(nil), s3.seen...)
		s3.mu.Unlock()
		ok(t, seen)
		if len(seen) != 1 || !seen[0].p.Presigned {
			t.Errorf("seen %+v", seen)
		}
	})
}
