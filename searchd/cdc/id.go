package cdc

import (
	"fmt"
	"strings"
)

// DocID is the document id of key under prefix: the key without the prefix,
// with every byte outside [A-Za-z0-9._-] written as ~XX (hex), so that the
// id needs no escaping in a URL (/products/_doc/<id>) and KeyOf can undo it.
// ok is false when key is not under prefix or equals it.
func DocID(key, prefix string) (id string, ok bool) {
	rest, found := strings.CutPrefix(key, prefix)
	if !found || rest == "" {
		return "", false
	}
	var b strings.Builder
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "~%02X", c)
	}
	return b.String(), true
}

// KeyOf is the raftkv key of a document id made by DocID.
func KeyOf(id, prefix string) (string, error) {
	var b strings.Builder
	b.WriteString(prefix)
	for i := 0; i < len(id); i++ {
		if id[i] != '~' {
			b.WriteByte(id[i])
			continue
		}
		if i+2 >= len(id) {
			return "", fmt.Errorf("cdc: id %q: a ~ must be followed by two hex digits", id)
		}
		var c byte
		if _, err := fmt.Sscanf(id[i+1:i+3], "%02X", &c); err != nil {
			return "", fmt.Errorf("cdc: id %q: a ~ must be followed by two hex digits", id)
		}
		b.WriteByte(c)
		i += 2
	}
	return b.String(), nil
}
