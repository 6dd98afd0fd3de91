package s3

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

// FuzzParseRange checks that any Range header parses without panicking
// into a range that is ignored, refused or well-formed.
func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-3", "bytes=5-", "bytes=-3", "bytes=-0", "bytes=3-1", "bytes=0-1,4-5", "items=0-1", "bytes=99999999999999999999-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		br, ok, bad := parseRange(s)
		if ok && bad {
			t.Fatalf("%q: both usable and unsatisfiable", s)
		}
		if ok && (br.suffix < 0 || br.start < 0 || (br.suffix == 0 && br.end >= 0 && br.end < br.start)) {
			t.Fatalf("%q: malformed range %+v", s, br)
		}
	})
}

// FuzzTrailerReader feeds arbitrary bodies to the aws-chunked decoder: it
// must never return more bytes than the chunks declare nor panic, and a
// well-formed body must decode to its payload.
func FuzzTrailerReader(f *testing.F) {
	f.Add([]byte("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n"), int64(5))
	f.Add([]byte("3;ext=1\r\nabc\r\n0\r\n\r\n"), int64(-1))
	f.Add([]byte("ffffffffffffffff\r\n"), int64(-1))
	f.Fuzz(func(t *testing.T, body []byte, decoded int64) {
		tr := newTrailerReader(bytes.NewReader(body), decoded)
		out, err := io.ReadAll(io.LimitReader(tr, int64(len(body))+1))
		if int64(len(out)) > int64(len(body)) {
			t.Fatalf("decoded %d bytes from a body of %d", len(out), len(body))
		}
		if err == nil && decoded >= 0 && int64(len(out)) != decoded {
			t.Fatalf("decoded %d bytes, declared %d", len(out), decoded)
		}
	})
}

// FuzzLifecycle checks that any lifecycle document is either refused with
// an S3 error or converted to rules meta accepts, and that those rules
// survive the way back to XML.
func FuzzLifecycle(f *testing.F) {
	f.Add(`<LifecycleConfiguration><Rule><ID>a</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status><Transition><Days>30</Days><StorageClass>STANDARD_IA</StorageClass></Transition><Expiration><Days>365</Days></Expiration></Rule></LifecycleConfiguration>`)
	f.Add(`<LifecycleConfiguration><Rule><Status>Disabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>7</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule></LifecycleConfiguration>`)
	f.Fuzz(func(t *testing.T, doc string) {
		var cfg lifecycleConfiguration
		if err := xml.NewDecoder(strings.NewReader(doc)).Decode(&cfg); err != nil {
			return
		}
		rules, err := rulesFromXML(cfg.Rules)
		if err != nil {
			if toError(err).Status != 400 && toError(err).Status != 501 {
				t.Fatalf("%q: %v", doc, err)
			}
			return
		}
		back, err := rulesFromXML(rulesToXML(rules))
		if err != nil || len(back) != len(rules) {
			t.Fatalf("%q: rules %v do not survive the way back: %v", doc, rules, err)
		}
	})
}
