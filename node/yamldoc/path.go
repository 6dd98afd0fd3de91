package yamldoc

import (
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// FieldPath appends a struct field name to a path: "a.b", or "b" when path
// is empty.
func FieldPath(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

// IndexPath appends a list index to a path: "a[3]".
func IndexPath(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// KeyPath appends a map key to a path: "a.key" when the key is a plain word
// (ASCII letters, digits, '_' and '-'), `a["key"]` (Go-quoted) otherwise.
func KeyPath(path, key string) string {
	plain := key != ""
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			plain = false
			break
		}
	}
	if plain {
		return FieldPath(path, key)
	}
	return path + "[" + strconv.Quote(key) + "]"
}

// LineOf is the line of the node at path under root (for a mapping value,
// the line of its key), or of the deepest ancestor of it that the document
// has; root's own line for an empty path, and 0 for a nil root. It lets
// errors found after Decode (by validation) carry lines too.
func LineOf(root *yaml.Node, path string) int {
	if root == nil {
		return 0
	}
	n, line := root, root.Line
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
