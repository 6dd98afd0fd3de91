// Package yamldoc decodes a YAML configuration document into tagged Go
// structs strictly, reporting every problem with the path and line of the
// field it is about. gatewayd's gwconfig and edge/rules read their
// documents with it.
//
// # Use
//
//	var cfg Config
//	root, problems := yamldoc.Decode(src, &cfg, yamldoc.Options{MaxItems: 10000})
//	// problems: every decoding error; root: the parsed tree (nil for an
//	// empty document), for yamldoc.LineOf when later validation finds more.
//
// # Accepted YAML
//
// src holds at most one YAML document; an empty one (nothing, only
// comments, "---", or null) decodes to nothing and leaves v as it was.
// Anchors and aliases are allowed, but the whole decode visits at most
// Options.MaxNodes nodes with aliases expanded, so a small document cannot
// expand into a huge one. Merge keys (<<), non-string mapping keys,
// duplicate keys, unknown struct fields and values of the wrong kind are
// errors. A null value is the same as an absent one.
//
// # Go types
//
// Struct fields are named by the first part of their `yaml:"name"` tag;
// untagged, unexported and `yaml:"-"` fields are never decoded. Supported
// field types: structs (from mappings), pointers (allocated when the key is
// present), slices (from lists), maps with string keys (from mappings),
// string, bool (true/false only), int and int64 (from YAML integers, range
// checked), float64 (integers or finite floats), time.Duration (a Go
// duration such as "30s", never a bare number), any (the value as
// go.yaml.in/yaml/v3 decodes it), and types named in Options.Scalars (read
// from a scalar by a parse function, such as a byte size). An empty list or
// mapping leaves a nil slice or map.
//
// # Defaults
//
// Fields keep the values v had before Decode unless the document sets them.
// For structs that are created during decoding (list elements, map values
// and pointer targets) Options.Preset is called with a pointer to the new
// zero value before its fields are decoded, so a default whose zero value is
// meaningful can be set there and still be overridden by an explicit zero.
//
// # Errors
//
// Each Problem has a Path built by FieldPath, IndexPath and KeyPath
// ("routes[2].match", `headers["a b"]`; empty for the document as a whole),
// a Message ("must be a list, not a mapping", `"1x" is not a duration (like
// 500ms, 30s, 5m)`, "unknown field (did you mean routes?)", "duplicate
// key") and the 1-based Line of the node, or of the key for unknown and
// duplicate keys. Problem.String formats one as "path: message (line N)".
// Decode returns the problems sorted by ComparePaths, which orders list
// indices as numbers.
package yamldoc
