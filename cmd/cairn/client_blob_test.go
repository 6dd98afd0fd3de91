package main

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/blobd"
	"cairn.dev/cairn/blobd/blobdtest"
	"cairn.dev/cairn/cluster"
	"cairn.dev/cairn/node/sigv4"
	blobdv1 "cairn.dev/cairn/proto/cairn/blobd/v1"
)

func TestParseBlobPath(t *testing.T) {
	for _, tc := range []struct {
		arg         string
		needKey     bool
		bucket, key string
		bad         bool
	}{
		{arg: "photos/cats/1.jpg", needKey: true, bucket: "photos", key: "cats/1.jpg"},
		{arg: "s3://photos/cats/", bucket: "photos", key: "cats/"},
		{arg: "photos", bucket: "photos"},
		{arg: "photos", needKey: true, bad: true},
		{arg: "photos/", needKey: true, bad: true},
		{arg: "/key", bad: true},
		{arg: "", bad: true},
	} {
		p, err := parseBlobPath("object", tc.arg, tc.needKey)
		if tc.bad {
			require.Error(t, err, tc.arg)
			require.Equal(t, exitUsage, exitCode(err), tc.arg)
			continue
		}
		require.NoError(t, err, tc.arg)
		require.Equal(t, blobPath{tc.bucket, tc.key}, p, tc.arg)
	}
	for in, want := range map[string]blobdv1.Tier{"": 0, "hot": 1, "COOL": 2, "archive": 3, "glacier": 3} {
		got, err := parseTier("--tier", in)
		require.NoError(t, err)
		require.Equal(t, want, got, in)
	}
	_, err := parseTier("--tier", "warm")
	require.ErrorContains(t, err, `--tier: want hot, cool or archive, got "warm"`)
	md, err := parseMeta([]string{"Owner=ada", "x=a=b"})
	require.NoError(t, err)
	require.Equal(t, map[string]string{"owner": "ada", "x": "a=b"}, md)
	_, err = parseMeta([]string{"nope"})
	require.ErrorContains(t, err, "--meta")
}

func TestParseObjectHeaders(t *testing.T) {
	h, err := parseObjectHeaders([]string{
		"Content-Type: text/css", "cache-control:public, max-age=600", "Content-Disposition: inline",
		"CONTENT-ENCODING: gzip", "Expires: Thu, 01 Jan 2099 00:00:00 GMT", "Surrogate-Key: css home",
		"X-Amz-Meta-Owner: ada: lovelace",
	})
	require.NoError(t, err)
	require.Equal(t, "text/css", h.GetContentType())
	require.Equal(t, "public, max-age=600", h.GetCacheControl())
	require.Equal(t, "inline", h.GetContentDisposition())
	require.Equal(t, "gzip", h.GetContentEncoding())
	require.Equal(t, "Thu, 01 Jan 2099 00:00:00 GMT", h.GetExpires())
	require.Equal(t, map[string]string{"surrogate-key": "css home", "owner": "ada: lovelace"}, h.GetUserMetadata())
	h, err = parseObjectHeaders(nil)
	require.NoError(t, err)
	require.Empty(t, h.GetUserMetadata())

	for _, tc := range []struct {
		flags []string
		want  string
	}{
		{[]string{"Content-Type"}, `--header: want 'Name: value', got "Content-Type"`},
		{[]string{": x"}, "want 'Name: value'"},
		{[]string{"Content Type: x"}, "want 'Name: value'"},
		{[]string{"Set-Cookie: a=b"}, "--header Set-Cookie: not a header an object stores"},
		{[]string{"Cache-Control: a", "cache-control: b"}, "--header cache-control: given twice"},
		{[]string{"Cache-Control:"}, "--header Cache-Control: empty value"},
		{[]string{"Expires: a\x01"}, "control character"},
		{[]string{"x-amz-meta-: v"}, "give the metadata name after x-amz-meta-"},
		{[]string{"Surrogate-Key: a", "x-amz-meta-surrogate-key: b"}, `the user metadata "surrogate-key" is given twice`},
		{[]string{"x-amz-meta-surrogate-key: b", "Surrogate-Key: a"}, `the user metadata "surrogate-key" is given twice`},
	} {
		_, err := parseObjectHeaders(tc.flags)
		require.ErrorContains(t, err, tc.want, "%q", tc.flags)
		require.Equal(t, exitUsage, exitCode(err), "%q", tc.flags)
	}
}

// TestPresign: a URL signed by `blob presign` verifies as S3 would verify
// it, with the cluster access key of the state file, for the S3 address of
// a blobd node (https on a TLS cluster).
func TestPresign(t *testing.T) {
	dir := t.TempDir()
	creds := filepath.Join(dir, cluster.AccessKeyFileName)
	require.NoError(t, os.WriteFile(creds, []byte("AKCATESTTESTTESTTEST c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0 cluster\n"), 0o600))
	st := &cluster.State{Dir: dir,
		Nodes: []cluster.NodeState{{Name: "blobd-1", Service: "blobd", GRPCAddr: "127.0.0.1:7500", Ports: map[string]string{"s3": "127.0.0.1:7520"}}},
		TLS:   &cluster.TLSState{CAFile: "/c/ca.pem"}, AccessKey: &cluster.AccessKeyState{CredentialsFile: creds, Region: "us-east-1"}}
	require.NoError(t, st.Save())

	var out, errOut bytes.Buffer
	code := run(testCtx(t), []string{"blob", "presign", "--put", "my-app-files/images/logo 1.png", "--expires", "5m", "--cluster-dir", dir}, nil, &out, &errOut)
	require.Equal(t, 0, code, errOut.String())
	raw := strings.TrimSpace(out.String())
	require.True(t, strings.HasPrefix(raw, "https://127.0.0.1:7520/my-app-files/images/logo%201.png?"), raw)
	require.Contains(t, raw, "X-Amz-Expires=300")

	v, err := sigv4.NewVerifier(sigv4.Config{
		Credentials: sigv4.StaticCredentials{"AKCATESTTESTTESTTEST": {SecretAccessKey: "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}},
		Service:     "s3", Region: "us-east-1", AllowUnsignedPayload: true,
	})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPut, raw, strings.NewReader("logo"))
	require.NoError(t, err)
	_, err = v.Verify(req)
	require.NoError(t, err, "the presigned PUT verifies")
	req, err = http.NewRequest(http.MethodGet, raw, nil)
	require.NoError(t, err)
	_, err = v.Verify(req)
	require.Error(t, err, "a PUT URL is no GET URL")

	for _, args := range [][]string{
		{"blob", "presign", "my-app-files/k"},
		{"blob", "presign", "--put", "--get", "my-app-files/k"},
		{"blob", "presign", "--get", "my-app-files/k", "--expires", "8d"},
		{"blob", "presign", "--get", "my-app-files"},
	} {
		errOut.Reset()
		require.Equal(t, exitUsage, run(testCtx(t), append(args, "--cluster-dir", dir), nil, &out, &errOut), "%v: %s", args, errOut.String())
	}
	out.Reset()
	require.Equal(t, 0, run(testCtx(t), []string{"blob", "presign", "--get", "b/k", "--endpoint", "http://h:1", "--access-key-id", "AK", "--secret-access-key", "sk", "--output", "json", "--cluster-dir", t.TempDir()}, nil, &out, &errOut))
	require.Contains(t, out.String(), `"url":"http://h:1/b/k?`)
	require.Contains(t, out.String(), `"method":"GET"`)
}

// blobCLI runs cairn commands in-process against an in-process blobd
// cluster.
type blobCLI struct {
	t   *testing.T
	eps string
}

func (b *blobCLI) run(stdin string, args ...string) cliResult {
	var stdout, stderr syncBuffer
	root := newRootCmd()
	root.SetArgs(withEndpoints(args, b.eps))
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	root.SetIn(strings.NewReader(stdin))
	err := root.ExecuteContext(testCtx(b.t))
	return cliResult{stdout: stdout.String(), stderr: stderr.String(), err: err}
}

func (b *blobCLI) ok(stdin string, args ...string) string {
	b.t.Helper()
	r := b.run(stdin, args...)
	require.NoError(b.t, r.err, "%v: %s", args, r.stderr)
	return r.stdout
}

// TestBlobCLI walks through buckets, uploads (single and multipart),
// listings, downloads, copies, tiers, deletes, keys and repair status with
// the cairn binary's commands.
func TestBlobCLI(t *testing.T) {
	// Needles younger than a minute are left to their upload: a multipart
	// part of several chunks under the race detector can take longer than
	// blobdtest's 2s garbage-collection grace to commit.
	c := blobdtest.New(t, 3, func(cfg *blobd.Config) { cfg.GCGrace = time.Minute })
	b := &blobCLI{t: t, eps: strings.Join(c.Endpoints(), ",")}
	dir := t.TempDir()

	require.Contains(t, b.ok("", "blob", "mb", "my-app-files"), "made bucket my-app-files")
	r := b.run("", "blob", "mb", "my-app-files")
	require.Equal(t, exitConflict, r.code(), r.stderr)
	r = b.run("", "blob", "mb", "Bad_Bucket")
	require.Equal(t, exitUsage, r.code(), r.stderr)
	require.Contains(t, b.ok("", "blob", "ls"), "my-app-files")

	small := filepath.Join(dir, "logo.png")
	require.NoError(t, os.WriteFile(small, []byte("not really a png"), 0o644))
	big := filepath.Join(dir, "big.bin")
	data := bytes.Repeat([]byte("0123456789abcdef"), 5<<20/16+3)
	require.NoError(t, os.WriteFile(big, data, 0o644))

	require.Contains(t, b.ok("", "blob", "put", small, "my-app-files/images/"), "put my-app-files/images/logo.png: 16 bytes")
	out := b.ok("", "blob", "put", big, "my-app-files/videos/demo.bin", "--multipart-threshold", "5242880", "--part-size", "5242880", "--output", "json")
	require.Contains(t, out, `"etag":`)
	require.Contains(t, out, `-2"`, "two parts")
	b.ok("hello from stdin", "blob", "put", "-", "my-app-files/notes/stdin.txt", "--meta", "from=stdin")
	b.ok("body{}", "blob", "put", "-", "my-app-files/site/a.css", "--meta", "from=cli",
		"--header", "Content-Type: text/css", "--header", "Cache-Control: max-age=600",
		"--header", "Surrogate-Key: css home", "--header", "x-amz-meta-Owner: ada")
	st := jsonLines(t, b.ok("", "blob", "stat", "my-app-files/site/a.css", "--output", "json"))
	require.Len(t, st, 1)
	hdrs := st[0]["headers"].(map[string]any)
	require.Equal(t, "text/css", hdrs["content_type"])
	require.Equal(t, "max-age=600", hdrs["cache_control"])
	require.Equal(t, map[string]any{"from": "cli", "surrogate-key": "css home", "owner": "ada"}, hdrs["user_metadata"])
	for _, bad := range [][]string{
		{"--header", "Set-Cookie: a=b"},
		{"--header", "Content-Type: text/css", "--content-type", "text/plain"},
		{"--header", "x-amz-meta-from: a", "--meta", "from=b"},
	} {
		r = b.run("x", append([]string{"blob", "put", "-", "my-app-files/site/bad.css"}, bad...)...)
		require.Equal(t, exitUsage, r.code(), "%v: %s", bad, r.stderr)
	}
	b.ok("", "blob", "rm", "my-app-files/site/a.css")

	objs := jsonLines(t, b.ok("", "blob", "ls", "my-app-files", "--recursive", "--output", "json"))
	require.Len(t, objs, 3)
	require.Equal(t, "images/logo.png", objs[0]["key"])
	require.Equal(t, "image/png", objs[0]["headers"].(map[string]any)["content_type"])
	require.Equal(t, "hot", objs[1]["tier"])
	level := b.ok("", "blob", "ls", "my-app-files")
	require.Contains(t, level, "PRE")
	require.Contains(t, level, "videos/")
	require.NotContains(t, level, "demo.bin")
	require.Contains(t, b.ok("", "blob", "ls", "my-app-files/videos/"), "videos/demo.bin")

	back := filepath.Join(dir, "back.bin")
	require.Contains(t, b.ok("", "blob", "get", "my-app-files/videos/demo.bin", back), "got my-app-files/videos/demo.bin")
	got, err := os.ReadFile(back)
	require.NoError(t, err)
	require.Equal(t, data, got)
	require.Equal(t, "hello from stdin", b.ok("", "blob", "get", "my-app-files/notes/stdin.txt", "-"))
	require.Equal(t, "from", b.ok("", "blob", "get", "my-app-files/notes/stdin.txt", "-", "--offset", "6", "--length", "4"))
	r = b.run("", "blob", "get", "my-app-files/nope", filepath.Join(dir, "nope"))
	require.Equal(t, exitNotFound, r.code(), r.stderr)
	_, err = os.Stat(filepath.Join(dir, "nope"))
	require.ErrorIs(t, err, os.ErrNotExist, "a failed get leaves no file")

	stat := b.ok("", "blob", "stat", "my-app-files/notes/stdin.txt")
	require.Contains(t, stat, "meta from")
	require.Contains(t, stat, "size")
	require.Contains(t, b.ok("", "blob", "cp", "my-app-files/images/logo.png", "my-app-files/backup/"), "copied my-app-files/images/logo.png to my-app-files/backup/logo.png")
	require.Contains(t, b.ok("", "blob", "tier", "my-app-files/backup/logo.png", "cool"), "is now cool")
	r = b.run("", "blob", "restore", "my-app-files/backup/logo.png")
	require.Equal(t, exitConflict, r.code(), "a cool object needs no restore: %s", r.stderr)

	require.Contains(t, b.ok("", "blob", "rm", "my-app-files/backup/logo.png"), "deleted my-app-files/backup/logo.png")
	require.Contains(t, b.ok("", "blob", "rm", "my-app-files/backup/logo.png"), "no object at")
	r = b.run("", "blob", "rb", "my-app-files")
	require.Equal(t, exitConflict, r.code(), r.stderr)
	b.ok("", "blob", "rb", "my-app-files", "--force")
	require.NotContains(t, b.ok("", "blob", "ls"), "my-app-files")

	key := jsonLines(t, b.ok("", "blob", "keys", "create", "--principal", "app", "--output", "json"))
	require.Len(t, key, 1)
	id := key[0]["id"].(string)
	list := b.ok("", "blob", "keys", "ls")
	require.Contains(t, list, id)
	require.NotContains(t, list, key[0]["secret"].(string), "secrets only with --show-secrets")
	b.ok("", "blob", "keys", "rm", id)
	r = b.run("", "blob", "keys", "rm", id)
	require.Equal(t, exitNotFound, r.code(), r.stderr)

	status := b.ok("", "blob", "repair", "status", "--wait", "--timeout", "20s")
	require.Contains(t, status, "healthy")
	require.Contains(t, status, "blobd-1")
}
