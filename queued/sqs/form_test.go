package sqs

import (
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"testing"

	queuedv1 "cairn.dev/cairn/proto/cairn/queued/v1"
)

func TestParseForm(t *testing.T) {
	f, e := parseForm("Action=SendMessage&QueueUrl=http%3A%2F%2Fh%2F1%2Fq", "MessageBody=a+b%26c&&flag&AttributeName.2=B&AttributeName.1=A&AttributeName.10=C")
	if e != nil {
		t.Fatal(e)
	}
	want := form{"Action": "SendMessage", "QueueUrl": "http://h/1/q", "MessageBody": "a b&c", "flag": "",
		"AttributeName.1": "A", "AttributeName.2": "B", "AttributeName.10": "C"}
	if !reflect.DeepEqual(f, want) {
		t.Fatalf("got %v", f)
	}
	list, e := f.list("AttributeName")
	if e != nil || strings.Join(list, ",") != "A,B,C" {
		t.Fatalf("list %v %v", list, e)
	}
	for _, bad := range []string{"a=1&a=2", "a=%zz", "%zz=1"} {
		if _, e := parseForm("", bad); e == nil || e.Code != CodeMalformedQueryString {
			t.Errorf("%q: %v", bad, e)
		}
	}
	if _, e := parseForm("a=1", "a=1"); e == nil {
		t.Error("a parameter in the query and the body: no error")
	}
	var many strings.Builder
	for i := 0; i <= maxParams; i++ {
		fmt.Fprintf(&many, "k%d=v&", i)
	}
	if _, e := parseForm("", many.String()); e == nil || e.Code != CodeMalformedQueryString {
		t.Errorf("%d parameters: %v", maxParams+1, e)
	}
	for _, bad := range []string{"L.0=a", "L.01=a", "L.x=a", "L.1001=a", "L.-1=a"} {
		f, _ := parseForm("", bad)
		if _, e := f.list("L"); e == nil || e.Code != CodeInvalidParameterValue {
			t.Errorf("%q: %v", bad, e)
		}
	}
	f, _ = parseForm("", "L.1.Name=a")
	if _, e := f.list("L"); e == nil || e.Code != CodeMissingParameter {
		t.Errorf("list element with members only: %v", e)
	}
	f, _ = parseForm("", "Attribute.1.Name=a&Attribute.1.Value=1&Attribute.2.Name=a&Attribute.2.Value=2")
	if _, e := f.pairs("Attribute", "Name", "Value"); e == nil {
		t.Error("attribute named twice: no error")
	}
}

func TestMD5OfAttributes(t *testing.T) {
	// The vector of attrsVector, and "city" alone; both computed with
	// Python's hashlib from SQS's documented encoding.
	attrs := map[string]*queuedv1.AttributeValue{
		"city":       {DataType: "String", StringValue: "Any City"},
		"population": {DataType: "Number", StringValue: "1250800"},
		"blob":       {DataType: "Binary", BinaryValue: []byte{0x00, 0x01, 0xff}},
		"note":       {DataType: "String.custom", StringValue: "héllo"},
	}
	if got := md5OfAttributes(attrs); got != attrsVectorMD5 {
		t.Fatalf("md5 %s, want %s", got, attrsVectorMD5)
	}
	if got := md5OfAttributes(map[string]*queuedv1.AttributeValue{"city": attrs["city"]}); got != "a6ffb68ea212e1f864e24e589a1bda87" {
		t.Fatalf("md5 of city %s", got)
	}
	if md5OfAttributes(nil) != "" {
		t.Fatal("digest of no attributes")
	}
	// decodeMessageAttributes reads the same vector from the wire form.
	v := url.Values{}
	for i := 0; i+1 < len(attrsVector); i += 2 {
		v.Set(attrsVector[i], attrsVector[i+1])
	}
	f, e := parseForm("", v.Encode())
	if e != nil {
		t.Fatal(e)
	}
	got, e := decodeMessageAttributes(f, "MessageAttribute")
	if e != nil {
		t.Fatal(e)
	}
	if md5OfAttributes(got) != attrsVectorMD5 {
		t.Fatalf("decoded attributes digest to %s", md5OfAttributes(got))
	}
}

func TestSelectAttributes(t *testing.T) {
	attrs := map[string]*queuedv1.AttributeValue{"a.x": {}, "a.y": {}, "b": {}}
	for _, tt := range []struct {
		names []string
		want  int
	}{{nil, 0}, {[]string{"All"}, 3}, {[]string{".*"}, 3}, {[]string{"a.*"}, 2}, {[]string{"b", "c"}, 1}, {[]string{"a.*", "b"}, 3}} {
		if got := len(selectAttributes(attrs, tt.names)); got != tt.want {
			t.Errorf("%v: %d, want %d", tt.names, got, tt.want)
		}
	}
}
