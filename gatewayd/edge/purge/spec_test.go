package purge

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSpecValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec Spec
		want string // substring of the error; "" for valid
	}{
		{"url path", Spec{URL: "/a/b.png?v=2"}, ""},
		{"url absolute", Spec{URL: "https://cdn.example/a"}, ""},
		{"prefix", Spec{Prefix: "/img/", Soft: true}, ""},
		{"tag", Spec{Tag: "product-42"}, ""},
		{"none", Spec{}, "exactly one of spec.url, spec.prefix and spec.tag must be set, 0 are"},
		{"soft alone", Spec{Soft: true}, "0 are"},
		{"two", Spec{URL: "/a", Tag: "t"}, "2 are"},
		{"three", Spec{URL: "/a", Prefix: "/", Tag: "t"}, "3 are"},
		{"url relative", Spec{URL: "a/b"}, "spec.url \"a/b\" must be an absolute path"},
		{"url ftp", Spec{URL: "ftp://x/y"}, "spec.url"},
		{"url too long", Spec{URL: "/" + strings.Repeat("a", MaxURLBytes)}, "spec.url is 8193 bytes, the limit is 8192"},
		{"url control", Spec{URL: "/a\nb"}, "spec.url has a control character at byte 2"},
		{"prefix too long", Spec{Prefix: strings.Repeat("p", MaxURLBytes+1)}, "spec.prefix is 8193 bytes, the limit is 8192"},
		{"prefix bad utf8", Spec{Prefix: "/\xff"}, "spec.prefix is not valid UTF-8"},
		{"tag space", Spec{Tag: "a b"}, "spec.tag \"a b\" has a space at byte 1"},
		{"tag too long", Spec{Tag: strings.Repeat("t", MaxTagBytes+1)}, "spec.tag is 1025 bytes, the limit is 1024"},
		{"tag control", Spec{Tag: "a\x00"}, "spec.tag has a control character at byte 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.spec.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate(%+v) = %v, want nil", tc.spec, err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidSpec) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v, want ErrInvalidSpec containing %q", err, tc.want)
			}
		})
	}
}

func TestSpecString(t *testing.T) {
	for spec, want := range map[Spec]string{
		{URL: "/a"}:                "url=/a",
		{Prefix: "/p", Soft: true}: "prefix=/p soft",
		{Tag: "t"}:                 "tag=t",
	} {
		if got := spec.String(); got != want {
			t.Errorf("%+v.String() = %q, want %q", spec, got, want)
		}
	}
}

func TestRecordRoundTrip(t *testing.T) {
	at := time.Date(2026, 12, 7, 20, 0, 0, 5, time.UTC)
	val, err := encodeRecord(recordValue{Spec: Spec{Tag: "x", Soft: true}, At: at, By: "me", ID: "id1"})
	if err != nil {
		t.Fatal(err)
	}
	rec, id, err := decodeRecord(7, []byte(val))
	if err != nil || id != "id1" || rec.Seq != 7 || rec.Spec != (Spec{Tag: "x", Soft: true}) || !rec.At.Equal(at) || rec.By != "me" {
		t.Fatalf("decodeRecord = %+v, %q, %v", rec, id, err)
	}
	for _, bad := range []string{"", "{", `{"url":"/a","tag":"b"}`, `{"at":"x"}`, `[]`} {
		if _, _, err := decodeRecord(1, []byte(bad)); err == nil {
			t.Errorf("decodeRecord(%q) succeeded", bad)
		}
	}
}

func TestNodeAndPrefixChecks(t *testing.T) {
	for _, tc := range []struct{ node, want string }{
		{"", "Node is empty"},
		{"a/b", "has a '/'"},
		{"a b", "has a '/', space"},
		{strings.Repeat("n", MaxNodeBytes+1), "Node is 129 bytes, the limit is 128"},
	} {
		if err := checkNode("Node", tc.node); !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("checkNode(%q) = %v, want %q", tc.node, err, tc.want)
		}
	}
	if err := checkNode("Node", "edge-1.tokyo"); err != nil {
		t.Errorf("checkNode(edge-1.tokyo) = %v", err)
	}
	l, err := newLayout("")
	if err != nil || l.prefix != DefaultPrefix {
		t.Fatalf("newLayout(\"\") = %q, %v", l.prefix, err)
	}
	if l, _ := newLayout("/x"); l.prefix != "/x/" || l.record(3) != "/x/purges/log/00000000000000000003" || l.ack(3, "n") != "/x/acks/00000000000000000003/n" {
		t.Fatalf("layout of /x: %q %q %q", l.prefix, l.record(3), l.ack(3, "n"))
	}
	if _, err := newLayout(strings.Repeat("p", MaxPrefixBytes+1)); !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "prefix is 513 bytes, the limit is 512") {
		t.Fatalf("long prefix: %v", err)
	}
}

func FuzzSpecValidate(f *testing.F) {
	f.Add("/a", "", "", false)
	f.Add("", "/p", "", true)
	f.Add("", "", "a b", false)
	f.Fuzz(func(t *testing.T, url, prefix, tag string, soft bool) {
		s := Spec{URL: url, Prefix: prefix, Tag: tag, Soft: soft}
		if err := s.Validate(); err != nil {
			if !errors.Is(err, ErrInvalidSpec) {
				t.Fatalf("Validate error %v does not wrap ErrInvalidSpec", err)
			}
			return
		}
		// A valid spec survives the record encoding.
		val, err := encodeRecord(recordValue{Spec: s, ID: "x"})
		if err != nil {
			t.Fatal(err)
		}
		rec, _, err := decodeRecord(1, []byte(val))
		if err != nil || rec.Spec != s {
			t.Fatalf("round trip of %+v: %+v, %v", s, rec.Spec, err)
		}
	})
}

func FuzzDecodeRecord(f *testing.F) {
	f.Add([]byte(`{"url":"/a","at":"2026-12-07T20:00:00Z","id":"x"}`))
	f.Add([]byte(`{"tag":"a b"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		rec, _, err := decodeRecord(1, b)
		if err == nil && rec.Spec.Validate() != nil {
			t.Fatalf("decoded an invalid spec %+v", rec.Spec)
		}
	})
}
