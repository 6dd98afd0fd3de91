package gwconfig

import (
	"reflect"
	"strconv"

	"cairn.dev/cairn/node/yamldoc"
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
	root, problems := yamldoc.Decode(src, doc, decodeOptions())
	if len(problems) > 0 {
		es := make(Errors, len(problems))
		for i, p := range problems {
			es[i] = &Error{Path: p.Path, Message: p.Message, Line: p.Line}
		}
		return nil, sortErrors(es)
	}
	doc.fillDefaults(true)
	if root == nil {
		return doc, nil
	}
	if err := doc.Validate(); err != nil {
		es := err.(Errors)
		for _, e := range es {
			if e.Path != "" {
				e.Line = yamldoc.LineOf(root, e.Path)
			}
		}
		return nil, es
	}
	return doc, nil
}

// decodeOptions are how Parse reads YAML: the node limit, byte sizes and
// the defaults that apply only to absent fields.
func decodeOptions() yamldoc.Options {
	return yamldoc.Options{
		MaxNodes: maxNodes,
		Preset:   preset,
		Scalars: map[reflect.Type]yamldoc.Scalar{
			byteSizeType: {
				Kind:    "a byte size",
				Example: "like 1048576, 512KiB, 10MiB, 1GiB",
				Parse:   func(s string) (any, error) { return ParseByteSize(s) },
			},
		},
	}
}

// maxNodes bounds how many YAML nodes one Parse visits, aliases expanded,
// so a small document cannot expand into a huge one ("billion laughs").
const maxNodes = 1 << 20

// presetter is implemented by document types with defaults that must be in
// place before their fields are decoded: fields whose zero value is
// meaningful, so a default can only apply when the field is absent.
type presetter interface{ preset() }

// preset is Parse's yamldoc.Options.Preset.
func preset(p any) {
	if ps, ok := p.(presetter); ok {
		ps.preset()
	}
}
