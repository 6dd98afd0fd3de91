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
		doc.fillDefaults(true)
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
	d := &decoder{}
	n := &root
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			doc.fillDefaults(true)
			return doc, nil
		}
		n = n.Content[0]
	}
	d.decode(n, reflect.ValueOf(doc).Elem(), "")
	if len(d.errs) > 0 {
		return nil, sortErrors(d.errs)
	}
	doc.fillDefaults(true)
	if err := doc.Validate(); err != nil {
		es := err.(Errors)
		for _, e := range es {
			if e.Path != "" {
				e.Line = lineOf(n, e.Path)
			}
		}
		return nil, es
	}
	return doc, nil
}

// lineOf is the line of the node at path under n (for a mapping value, the
// line of its key), or of the deepest ancestor of it that the document has.
func lineOf(n *yaml.Node, path string) int {
	line := n.Line
	for path != "" && n != nil {
		for n.Kind == yaml.AliasNode && n.Alias != nil {
			n = n.Alias
		}
		var next *yaml.Node
		switch {
		case path[0] == '.':
			path = path[1:]
			continue
		case strings.HasPrefix(path, "[\""):
			key, err := strconv.QuotedPrefix(path[1:])
			if err != nil {
				return line
			}
			path = strings.TrimPrefix(path[1+len(key):], "]")
			key, _ = strconv.Unquote(key)
			next = mappingValue(n, key, &line)
		case path[0] == '[':
			end := strings.IndexByte(path, ']')
			i, err := strconv.Atoi(path[1:max(end, 1)])
			if end < 0 || err != nil {
				return line
			}
			path = path[end+1:]
			if n.Kind == yaml.SequenceNode && i >= 0 && i < len(n.Content) {
				next = n.Content[i]
				line = next.Line
			}
		default:
			end := strings.IndexAny(path, ".[")
			if end < 0 {
				end = len(path)
			}
			next = mappingValue(n, path[:end], &line)
			path = path[end:]
		}
		n = next
	}
	return line
}

// mappingValue is the value of key in mapping n, or nil; it sets *line to
// the key's line when found.
func mappingValue(n *yaml.Node, key string, line *int) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			*line = n.Content[i].Line
			return n.Content[i+1]
		}
	}
	return nil
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
