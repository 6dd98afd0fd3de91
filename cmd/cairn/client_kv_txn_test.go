package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
	"cairn.dev/cairn/raftkv/client"
)

func TestParseCompare(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    client.Cmp
		wantErr string
	}{
		{in: `value(k) = "v"`, want: client.Compare(client.Value("k"), "=", "v")},
		{in: `value(k)=="v w"`, want: client.Compare(client.Value("k"), "=", "v w")},
		{in: "value(k) != `raw\\n`", want: client.Compare(client.Value("k"), "!=", `raw\n`)},
		{in: `value(k) = bare`, want: client.Compare(client.Value("k"), "=", "bare")},
		{in: `value(k) = ""`, want: client.Compare(client.Value("k"), "=", "")},
		{in: `  VALUE( k ) = "x"`, want: client.Compare(client.Value(" k "), "=", "x")},
		{in: `value("a key)") = "\x00"`, want: client.Compare(client.Value("a key)"), "=", "\x00")},
		{in: `mod(k) > 3`, want: client.Compare(client.ModRevision("k"), ">", 3)},
		{in: `version(k) < 0x10`, want: client.Compare(client.Version("k"), "<", 16)},
		{in: `create(a/b) = 0`, want: client.Compare(client.CreateRevision("a/b"), "=", 0)},
		{in: `lease(k) != -1`, want: client.Compare(client.LeaseValue("k"), "!=", -1)},
		{in: `mod(k)>3`, want: client.Compare(client.ModRevision("k"), ">", 3)},
		{in: `changed(k) < 10`, want: client.Compare(client.Changed("k"), "<", 10)},
		{in: `val(k) = "v"`, wantErr: "unknown target"},
		{in: `value k = "v"`, wantErr: "TARGET(KEY)"},
		{in: `value(k = "v"`, wantErr: "missing ')'"},
		{in: `value() = "v"`, wantErr: "empty key"},
		{in: `value(k) ~ "v"`, wantErr: "operator"},
		{in: `value(k) >= "v"`, wantErr: "unexpected"},
		{in: `value(k) =`, wantErr: "missing value"},
		{in: `value(k) = "v`, wantErr: "bad quoted value"},
		{in: `value(k) = "v" extra`, wantErr: "unexpected"},
		{in: `value(k) = two words`, wantErr: "quote"},
		{in: `mod(k) > three`, wantErr: "integer"},
		{in: `mod(k) > 99999999999999999999`, wantErr: "integer"},
		{in: `value("k) = "v"`, wantErr: "missing ')'"},
		{in: `value("k\q") = "v"`, wantErr: "quoted key"},
		{in: `mod(k) <= 3`, wantErr: "unexpected"},
		{in: ``, wantErr: "TARGET(KEY)"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseCompare(tc.in)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.True(t, proto.Equal(tc.want.Proto(), got.Proto()), "got %v want %v", got.Proto(), tc.want.Proto())
		})
	}
}

func TestParseTxnOp(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    client.Op
		wantErr string
	}{
		{in: "put k v", want: client.OpPut("k", "v")},
		{in: `put "a key" 'a "value"'`, want: client.OpPut("a key", `a "value"`)},
		{in: `put k "tab\there" --lease=0x10`, want: client.OpPut("k", "tab\there", client.WithLease(16))},
		{in: "get k", want: client.OpGet("k")},
		{in: "GET  k  --prefix", want: client.OpGet("k", client.WithPrefix())},
		{in: "get a --range-end=c", want: client.OpGet("a", client.WithRange("c"))},
		{in: "del k --from-key", want: client.OpDelete("k", client.WithFromKey())},
		{in: "delete k", want: client.OpDelete("k")},
		{in: `put k ""`, want: client.OpPut("k", "")},
		{in: "", wantErr: "empty op"},
		{in: "put k", wantErr: "KEY VALUE"},
		{in: "get", wantErr: "one KEY"},
		{in: "get a b", wantErr: "one KEY"},
		{in: "put k v --prefix", wantErr: "unknown option"},
		{in: "get k --lease=1", wantErr: "unknown option"},
		{in: "put k v --lease=zz", wantErr: "--lease"},
		{in: "watch k", wantErr: "unknown op"},
		{in: `put k "v`, wantErr: "bad quoted"},
		{in: `put k 'v`, wantErr: "unterminated"},
		{in: "put k --file=f", want: client.OpPut("k", "content of f")},
		{in: "put k --file=f --lease=7", want: client.OpPut("k", "content of f", client.WithLease(7))},
		{in: "put k v --file=f", wantErr: "KEY alone"},
		{in: "put k --file=", wantErr: "unknown option"},
		{in: "put k --file=missing", wantErr: "no such file"},
		{in: "get k --file=f", wantErr: "unknown option"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseTxnOp(tc.in, func(path string) ([]byte, error) {
				if path == "f" {
					return []byte("content of f"), nil
				}
				return nil, fmt.Errorf("open %s: no such file", path)
			})
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.True(t, proto.Equal(tc.want.Proto(), got.Proto()), "got %v want %v", got.Proto(), tc.want.Proto())
		})
	}
}

func TestParseLeaseID(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"123", 123, true},
		{"0x7b", 123, true},
		{"0X7B", 123, true},
		{"0x694d7a4f2a1b", 0x694d7a4f2a1b, true},
		{" 42 ", 42, true},
		{"7b", 0, false},  // hex needs 0x
		{"abc", 0, false}, // not read as hex
		{"694d7a4f2a1b", 0, false},
		{"", 0, false},
		{"0x", 0, false},
		{"xyz", 0, false},
		{"-", 0, false},
	} {
		got, err := parseLeaseID(tc.in)
		if !tc.ok {
			require.Error(t, err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
	}
}

func TestKVGlobalFlagValidation(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"kv", "get", "k", "--output", "yaml", "--endpoints", "127.0.0.1:1"}, "--output"},
		{[]string{"kv", "get", "k", "--consistency", "strong", "--endpoints", "127.0.0.1:1"}, "--consistency"},
		{[]string{"kv", "get", "k", "--timeout", "0s", "--endpoints", "127.0.0.1:1"}, "--timeout"},
		{[]string{"kv", "get", "k", "--rev", "-1", "--endpoints", "127.0.0.1:1"}, "--rev"},
		{[]string{"kv", "get", "k", "--prefix", "--from-key", "--endpoints", "127.0.0.1:1"}, "prefix"},
		{[]string{"kv", "put", "k", "v", "--lease", "nope", "--endpoints", "127.0.0.1:1"}, "--lease"},
		{[]string{"kv", "txn", "--if", "bad", "--endpoints", "127.0.0.1:1"}, "--if"},
		{[]string{"kv", "compact", "x", "--endpoints", "127.0.0.1:1"}, "<revision>"},
		{[]string{"kv", "lease", "grant", "0", "--endpoints", "127.0.0.1:1"}, "<ttl>"},
		{[]string{"kv", "lease", "grant", "1500ms", "--endpoints", "127.0.0.1:1"}, "whole seconds"},
		{[]string{"kv", "put", "k", "--endpoints", "127.0.0.1:1"}, "want 2 argument(s)"},
		{[]string{"kv", "get", "k", "--endpoints", "nohostport"}, "host:port"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			root := newRootCmd()
			root.SetArgs(tc.args)
			err := root.Execute()
			require.ErrorContains(t, err, tc.wantErr)
			require.Equal(t, exitUsage, exitCode(err), "%v", err)
		})
	}
}

// FuzzParseCompare checks that parseCompare never panics and that whatever it
// accepts prints back (formatCompare) to an expression that parses to the same
// compare.
func FuzzParseCompare(f *testing.F) {
	for _, s := range []string{
		`value(k) = "v"`, `mod(k) > 3`, `version(k) < 0x10`, `create(k) != 0`, `lease(k) = -1`, `changed(k) < 7`,
		`value("a)") == "\xff"`, "value(k) = `raw`", `value(k) = bare`, `value(`, `mod() >`, `)(`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := parseCompare(s)
		if err != nil {
			return
		}
		pb := c.Proto()
		if pb == nil {
			t.Fatalf("parseCompare(%q) returned no compare and no error", s)
		}
		if pb.GetTarget() == raftkvv1.Compare_COMPARE_TARGET_UNSPECIFIED || pb.GetResult() == raftkvv1.Compare_COMPARE_RESULT_UNSPECIFIED || len(pb.GetKey()) == 0 {
			t.Fatalf("parseCompare(%q) = %v: incomplete compare", s, pb)
		}
		again, err := parseCompare(formatCompare(pb))
		if err != nil {
			t.Fatalf("parseCompare(formatCompare(%v)) = %q: %v", pb, formatCompare(pb), err)
		}
		if !proto.Equal(pb, again.Proto()) {
			t.Fatalf("round trip of %q: %v != %v", s, pb, again.Proto())
		}
	})
}
