//go:build awscli

// This file is built only with the awscli build tag, so that `go test ./...`
// never compiles it and never skips it:
//
//	go test -tags awscli -run 'TestAWSCLI|TestS3cmd' ./blobd/s3
//
// It needs Debian's awscli (/usr/bin/aws) and s3cmd (/usr/bin/s3cmd):
// apt-get install awscli s3cmd. It runs them against the Handler over the
// in-memory backend; bench/s3-compat.sh runs them against a real cluster.

package s3

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	awsCLI = "/usr/bin/aws"
	s3cmd  = "/usr/bin/s3cmd"
)

// cli runs a command with env and returns its stdout, failing the test
// (with stderr) when it fails and ok is set, or when it succeeds and ok is
// not.
func cli(t *testing.T, env []string, ok bool, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	t.Logf("%s %s: %v", filepath.Base(name), strings.Join(args, " "), time.Since(start).Round(time.Millisecond))
	if (err == nil) != ok {
		t.Fatalf("%s %s: err %v, want ok=%v\nstdout: %s\nstderr: %s", filepath.Base(name), strings.Join(args, " "), err, ok, out.String(), errb.String())
	}
	return out.String() + errb.String()
}

func fileMD5(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

func TestAWSCLI(t *testing.T) {
	s := newTestServer(t, nil)
	dir := t.TempDir()
	env := []string{"HOME=" + dir, "PATH=/usr/bin:/bin", "AWS_ACCESS_KEY_ID=" + testKeyID, "AWS_SECRET_ACCESS_KEY=" + testSecret,
		"AWS_DEFAULT_REGION=" + testRegion, "AWS_CONFIG_FILE=" + filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "creds"),
		"AWS_PAGER=", "AWS_EC2_METADATA_DISABLED=true"}
	aws := func(ok bool, args ...string) string {
		t.Helper()
		return cli(t, env, ok, awsCLI, append([]string{"--endpoint-url", s.URL, "--output", "json"}, args...)...)
	}
	aws(true, "s3", "mb", "s3://cli-bucket")
	if out := aws(false, "s3", "mb", "s3://cli-bucket"); !strings.Contains(out, CodeBucketAlreadyOwnedByYou) {
		t.Fatalf("mb twice: %s", out)
	}
	big := filepath.Join(dir, "big.bin")
	if err := os.WriteFile(big, randData(7, 20<<20+5), 0o600); err != nil {
		t.Fatal(err)
	}
	small := filepath.Join(dir, "small.txt")
	os.WriteFile(small, []byte("hello from awscli\n"), 0o600)
	aws(true, "s3", "cp", big, "s3://cli-bucket/videos/big.bin")
	aws(true, "s3", "cp", small, "s3://cli-bucket/docs/small.txt", "--content-type", "text/plain", "--metadata", "who=cli", "--storage-class", "STANDARD_IA")
	aws(true, "s3", "cp", "s3://cli-bucket/videos/big.bin", filepath.Join(dir, "back.bin"))
	if fileMD5(t, big) != fileMD5(t, filepath.Join(dir, "back.bin")) {
		t.Fatal("the 20 MB object came back different")
	}
	out := aws(true, "s3", "ls", "s3://cli-bucket", "--recursive")
	if !strings.Contains(out, "20971525 videos/big.bin") || !strings.Contains(out, "docs/small.txt") {
		t.Fatalf("ls --recursive: %s", out)
	}
	out = aws(true, "s3", "ls", "s3://cli-bucket/")
	if !strings.Contains(out, "PRE docs/") || !strings.Contains(out, "PRE videos/") {
		t.Fatalf("ls: %s", out)
	}
	var head struct {
		ContentType  string
		Metadata     map[string]string
		StorageClass string
		ETag         string
	}
	if err := json.Unmarshal([]byte(aws(true, "s3api", "head-object", "--bucket", "cli-bucket", "--key", "docs/small.txt")), &head); err != nil {
		t.Fatal(err)
	}
	if head.ContentType != "text/plain" || head.Metadata["who"] != "cli" || head.StorageClass != "STANDARD_IA" {
		t.Fatalf("head-object: %+v", head)
	}
	var mpHead struct{ ETag string }
	json.Unmarshal([]byte(aws(true, "s3api", "head-object", "--bucket", "cli-bucket", "--key", "videos/big.bin")), &mpHead)
	if !strings.HasSuffix(mpHead.ETag, `-3"`) {
		t.Fatalf("20 MB upload was not multipart in 8 MB parts: etag %s", mpHead.ETag)
	}
	url := strings.TrimSpace(aws(true, "s3", "presign", "s3://cli-bucket/docs/small.txt", "--expires-in", "300"))
	resp, body := send(t, mustReq(t, "GET", url, nil))
	if resp.StatusCode != 200 || body != "hello from awscli\n" {
		t.Fatalf("presigned GET: %d %q", resp.StatusCode, body)
	}
	aws(true, "s3api", "get-object", "--bucket", "cli-bucket", "--key", "videos/big.bin", "--range", "bytes=0-99", filepath.Join(dir, "part.bin"))
	if b, _ := os.ReadFile(filepath.Join(dir, "part.bin")); len(b) != 100 {
		t.Fatalf("ranged get-object: %d bytes", len(b))
	}
	if out := aws(false, "s3api", "get-object", "--bucket", "cli-bucket", "--key", "nope", filepath.Join(dir, "x")); !strings.Contains(out, "NoSuchKey") {
		t.Fatalf("get-object of a missing key: %s", out)
	}
	aws(true, "s3api", "copy-object", "--bucket", "cli-bucket", "--key", "docs/copy.txt", "--copy-source", "cli-bucket/docs/small.txt")
	var lst struct {
		Contents []struct{ Key string }
	}
	json.Unmarshal([]byte(aws(true, "s3api", "list-objects-v2", "--bucket", "cli-bucket", "--prefix", "docs/")), &lst)
	if len(lst.Contents) != 2 {
		t.Fatalf("list-objects-v2: %+v", lst)
	}

	src := filepath.Join(dir, "site")
	os.MkdirAll(filepath.Join(src, "css"), 0o700)
	os.WriteFile(filepath.Join(src, "index.html"), []byte("<html>"), 0o600)
	os.WriteFile(filepath.Join(src, "css", "a b.css"), []byte("body{}"), 0o600)
	aws(true, "s3", "sync", src, "s3://cli-bucket/site/")
	out = aws(true, "s3", "sync", src, "s3://cli-bucket/site/")
	if strings.Contains(out, "upload:") {
		t.Fatalf("second sync uploaded again: %s", out)
	}
	dst := filepath.Join(dir, "site-back")
	aws(true, "s3", "sync", "s3://cli-bucket/site/", dst)
	if b, _ := os.ReadFile(filepath.Join(dst, "css", "a b.css")); string(b) != "body{}" {
		t.Fatalf("sync down: %q", b)
	}
	aws(true, "s3api", "put-bucket-lifecycle-configuration", "--bucket", "cli-bucket", "--lifecycle-configuration",
		`{"Rules":[{"ID":"r","Status":"Enabled","Filter":{"Prefix":"logs/"},"Transitions":[{"Days":30,"StorageClass":"GLACIER"}],"Expiration":{"Days":365}}]}`)
	if out := aws(true, "s3api", "get-bucket-lifecycle-configuration", "--bucket", "cli-bucket"); !strings.Contains(out, `"GLACIER"`) {
		t.Fatalf("get-bucket-lifecycle-configuration: %s", out)
	}
	aws(true, "s3", "rm", "s3://cli-bucket/docs/copy.txt")
	aws(true, "s3", "rm", "s3://cli-bucket", "--recursive")
	aws(true, "s3", "rb", "s3://cli-bucket")
	if out := aws(false, "s3", "ls", "s3://cli-bucket"); !strings.Contains(out, "NoSuchBucket") {
		t.Fatalf("ls of a removed bucket: %s", out)
	}
	bad := append([]string{}, env...)
	bad[4] = "AWS_SECRET_ACCESS_KEY=wrong-secret"
	if out := cli(t, bad, false, awsCLI, "--endpoint-url", s.URL, "s3", "ls"); !strings.Contains(out, CodeSignatureDoesNotMatch) {
		t.Fatalf("wrong secret: %s", out)
	}
}

func TestS3cmd(t *testing.T) {
	s := newTestServer(t, nil)
	dir := t.TempDir()
	host := strings.TrimPrefix(s.URL, "http://")
	cfg := filepath.Join(dir, "s3cfg")
	os.WriteFile(cfg, []byte("[default]\naccess_key = "+testKeyID+"\nsecret_key = "+testSecret+"\nhost_base = "+host+"\nhost_bucket = "+host+
		"\nuse_https = False\nsignature_v2 = False\nbucket_location = us-east-1\n"), 0o600)
	env := []string{"HOME=" + dir, "PATH=/usr/bin:/bin"}
	run := func(ok bool, args ...string) string {
		t.Helper()
		return cli(t, env, ok, s3cmd, append([]string{"-c", cfg}, args...)...)
	}
	run(true, "mb", "s3://s3cmd-bucket")
	f := filepath.Join(dir, "f.bin")
	os.WriteFile(f, randData(8, 17<<20), 0o600)
	run(true, "put", f, "s3://s3cmd-bucket/dir/f.bin")
	run(true, "put", "--multipart-chunk-size-mb=5", f, "s3://s3cmd-bucket/dir/parts.bin")
	run(true, "get", "s3://s3cmd-bucket/dir/parts.bin", filepath.Join(dir, "back.bin"))
	if fileMD5(t, f) != fileMD5(t, filepath.Join(dir, "back.bin")) {
		t.Fatal("s3cmd get returned other bytes")
	}
	if out := run(true, "ls", "--recursive", "s3://s3cmd-bucket"); !strings.Contains(out, "s3://s3cmd-bucket/dir/f.bin") || !strings.Contains(out, "dir/parts.bin") {
		t.Fatalf("ls: %s", out)
	}
	if out := run(true, "ls"); !strings.Contains(out, "s3://s3cmd-bucket") {
		t.Fatalf("ls of buckets: %s", out)
	}
	if out := run(true, "info", "s3://s3cmd-bucket/dir/f.bin"); !strings.Contains(out, fileMD5(t, f)) {
		t.Fatalf("info: %s", out)
	}
	run(true, "cp", "s3://s3cmd-bucket/dir/f.bin", "s3://s3cmd-bucket/dir/copy.bin")
	run(true, "del", "s3://s3cmd-bucket/dir/f.bin")
	run(true, "del", "--recursive", "--force", "s3://s3cmd-bucket")
	run(true, "rb", "s3://s3cmd-bucket")
}
