package rules

import (
	"errors"
	"fmt"

	"cairn.dev/cairn/node/yamldoc"
)

// decodeOptions are how Parse reads YAML: at most 1<<18 nodes, aliases
// expanded, so a small document cannot expand into a huge one; at most
// MaxItems entries in a list or map; unknown keys listed with the known ones.
var decodeOptions = yamldoc.Options{MaxNodes: 1 << 18, MaxItems: MaxItems, ListKnownFields: true}

// Parse reads a rules document strictly (unknown keys, duplicate keys, values
// of the wrong kind, merge keys and more than one document are errors) and
// validates it as Compile does. The error, when not nil, is an Errors
// listing every problem with its path ("rewrites[2].match") and line; it
// matches ErrInvalid. An empty document is an empty Config.
func Parse(doc []byte) (*Config, error) {
	if len(doc) > MaxDocumentBytes {
		return nil, Errors{{Message: fmt.Sprintf("document is %d bytes, the limit is %d", len(doc), MaxDocumentBytes)}}
	}
	cfg := &Config{}
	root, problems := yamldoc.Decode(doc, cfg, decodeOptions)
	if len(problems) > 0 {
		var l errList
		for _, p := range problems {
			l.add(p.Path, p.Line, "%s", p.Message)
		}
		return nil, l.err()
	}
	if _, err := cfg.compile(); err != nil {
		var es Errors
		if errors.As(err, &es) {
			for _, e := range es {
				if e.Line == 0 && e.Path != "" {
					e.Line = yamldoc.LineOf(root, e.Path)
				}
			}
		}
		return nil, err
	}
	return cfg, nil
}
