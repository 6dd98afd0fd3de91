package gwconfig

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MaxDocumentBytes is the largest document Parse accepts.
const MaxDocumentBytes = 1 << 20

// Parse decodes a YAML document strictly, fills defaults and validates it.
// Unknown fields, duplicate keys, values of the wrong type, durations that
// are not Go durations ("30s", "1m") and bad byte sizes are errors, as is
// more than one YAML document in src or src longer than MaxDocumentBytes.
// Empty src (or only comments) is a valid empty document.
//
// On any problem Parse returns a nil Document and an Errors listing every
// problem, sorted by path, each with its line in src; the error matches
// ErrInvalid with errors.Is. Decoding problems are reported without
// validation, which would only repeat them.
func Parse(src []byte) (*Document, error) {
	if len(src) > MaxDocumentBytes {
		return nil, Errors{{Message: "document is " + strconv.Itoa(len(src)) + " bytes, the limit is " +
			strconv.Itoa(MaxDocumentBytes), kind: ErrTooLarge}}
	}
	doc := &Document{}
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var root yaml.Node
	switch err := dec.Decode(&root); {
	case errors.Is(err, io.EOF):
		doc.FillDefaults()
		return doc, nil
	case err != nil:
		return nil, syntaxError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, syntaxError(err)
		}
		return nil, Errors{{Message: "more than one YAML document (---)", Line: extra.Line}}
	}
	d := &decoder{lines: make(map[string]int)}
	n := &root
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			doc.FillDefaults()
			return doc, nil
		}
		n = n.Content[0]
	}
	d.decode(n, reflect.ValueOf(doc).Elem(), "")
	if len(d.errs) > 0 {
		return nil, sortErrors(d.errs)
	}
	doc.FillDefaults()
	if err := doc.Validate(); err != nil {
		es := err.(Errors)
		for _, e := range es {
			e.Line = d.lineOf(e.Path)
		}
		return nil, es
	}
	return doc, nil
}

// lineOf is the line of path, or of its nearest ancestor that has one.
func (d *decoder) lineOf(path string) int {
	for path != "" {
		if l, ok := d.lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// syntaxError wraps a YAML syntax error with its line.
func syntaxError(err error) error {
	msg := err.Error()
	line := 0
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	return Errors{{Message: "yaml syntax: " + msg, Line: line}}
}
