package sqs

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"net/http"
	"sort"
	"strconv"
	"strings"

	queuedv1 "cairn.dev/cairn/proto/cairn/queued/v1"
)

// Transport types of the message attribute digest.
const (
	transportString = 1
	transportBinary = 2
)

// md5OfAttributes is SQS's MD5OfMessageAttributes: the hex MD5 of, for each
// attribute in increasing order of name, the name, the data type (each as a
// 4-byte big-endian length and the UTF-8 bytes), one byte of transport type
// (1 for String and Number types, 2 for Binary) and the value (4-byte length
// and bytes: the UTF-8 string, or the raw binary). It is "" for no
// attributes: SQS then sends no digest.
func md5OfAttributes(attrs map[string]*queuedv1.AttributeValue) string {
	if len(attrs) == 0 {
		return ""
	}
	names := make([]string, 0, len(attrs))
	for n := range attrs {
		names = append(names, n)
	}
	sort.Strings(names)
	h := md5.New()
	field := func(b []byte) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	for _, n := range names {
		v := attrs[n]
		field([]byte(n))
		field([]byte(v.GetDataType()))
		if isBinary(v.GetDataType()) {
			h.Write([]byte{transportBinary})
			field(v.GetBinaryValue())
		} else {
			h.Write([]byte{transportString})
			field([]byte(v.GetStringValue()))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func isBinary(dataType string) bool {
	base, _, _ := strings.Cut(dataType, ".")
	return base == "Binary"
}

// decodeMessageAttributes reads prefix.N.Name and prefix.N.Value.{DataType,
// StringValue, BinaryValue} (MessageAttribute, or an entry's). The value's
// checks beyond its shape (data type, number syntax, name characters,
// count) are queued's; list values, which SQS reserves, are refused here.
func decodeMessageAttributes(f form, prefix string) (map[string]*queuedv1.AttributeValue, *Error) {
	ms, e := f.members(prefix)
	if e != nil {
		return nil, e
	}
	if len(ms) == 0 {
		return nil, nil
	}
	out := make(map[string]*queuedv1.AttributeValue, len(ms))
	for _, m := range ms {
		base := prefix + "." + strconv.Itoa(m.index) + "."
		name, ok := m.sub["Name"]
		if !ok {
			return nil, missingParam(base + "Name")
		}
		if _, dup := out[name]; dup {
			return nil, errorf(http.StatusBadRequest, CodeInvalidParameterValue, "Message attribute name '"+name+"' is given twice.")
		}
		dt, ok := m.sub["Value.DataType"]
		if !ok || dt == "" {
			return nil, errorf(http.StatusBadRequest, CodeInvalidParameterValue, "The message attribute '"+name+"' must contain a non-empty message attribute type.")
		}
		v := &queuedv1.AttributeValue{DataType: dt}
		for k := range m.sub {
			if strings.HasPrefix(k, "Value.StringListValue") || strings.HasPrefix(k, "Value.BinaryListValue") {
				return nil, errorf(http.StatusBadRequest, CodeUnsupportedOperation, "Message attribute list values are not supported (attribute '"+name+"').")
			}
		}
		s, hasString := m.sub["Value.StringValue"]
		b64, hasBinary := m.sub["Value.BinaryValue"]
		if isBinary(dt) {
			if hasString || !hasBinary {
				return nil, errorf(http.StatusBadRequest, CodeInvalidParameterValue, "The message attribute '"+name+"' with type 'Binary' must use field 'Binary'.")
			}
			raw, err := base64.StdEncoding.DecodeString(b64)
			if err != nil {
				return nil, errorf(http.StatusBadRequest, CodeInvalidParameterValue, "The message attribute '"+name+"' has a BinaryValue that is not base64: "+err.Error())
			}
			v.BinaryValue = raw
		} else {
			if hasBinary || !hasString {
				return nil, errorf(http.StatusBadRequest, CodeInvalidParameterValue, "The message attribute '"+name+"' with type '"+dt+"' must use field 'String'.")
			}
			v.StringValue = s
		}
		out[name] = v
	}
	return out, nil
}

// selectAttributes returns the attributes of a received message that the
// request names: "All" or ".*" selects all, "prefix.*" those whose name
// starts with prefix., any other name that attribute.
func selectAttributes(attrs map[string]*queuedv1.AttributeValue, names []string) map[string]*queuedv1.AttributeValue {
	if len(attrs) == 0 || len(names) == 0 {
		return nil
	}
	out := map[string]*queuedv1.AttributeValue{}
	for _, want := range names {
		switch {
		case want == "All" || want == ".*":
			return attrs
		case strings.HasSuffix(want, ".*"):
			p := strings.TrimSuffix(want, "*")
			for n, v := range attrs {
				if strings.HasPrefix(n, p) {
					out[n] = v
				}
			}
		default:
			if v, ok := attrs[want]; ok {
				out[want] = v
			}
		}
	}
	return out
}
