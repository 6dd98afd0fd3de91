package yamldoc

import "reflect"

// DefaultMaxNodes is Options.MaxNodes when it is 0.
const DefaultMaxNodes = 1 << 20

// Options tune one Decode. The zero value is ready to use.
type Options struct {
	// MaxNodes bounds how many YAML nodes the decode visits, aliases
	// expanded; 0 means DefaultMaxNodes. Over it, Decode reports "document
	// expands to more than N nodes (aliases?)" once and stops descending.
	MaxNodes int
	// MaxItems bounds the entries of any one list or mapping ("has 12
	// entries, the limit is 10"); 0 means no limit besides MaxNodes.
	MaxItems int
	// ListKnownFields makes an unknown struct field's message list every
	// known field ("unknown field (known: a, b, c)") instead of suggesting
	// the closest one within edit distance 2 ("unknown field (did you mean
	// routes?)", or plain "unknown field" when none is close).
	ListKnownFields bool
	// Preset, when set, is called with a pointer to every struct value
	// Decode creates (list elements, map values, pointer targets) before it
	// decodes into it; see the package comment.
	Preset func(ptr any)
	// Scalars are extra types read from one scalar, by exact type.
	Scalars map[reflect.Type]Scalar
}

// Scalar reads values of one Go type from a YAML scalar's text.
type Scalar struct {
	// Kind names the type in errors, with an article: "a byte size".
	Kind string
	// Example is shown after a bad value: `"x" is not a byte size (like
	// 512KiB)` for Example "like 512KiB"; may be empty.
	Example string
	// Parse converts the text; its result must be convertible to the type.
	// An error means the text is not such a value (its text is not shown).
	Parse func(s string) (any, error)
}
