package mapping

import "errors"

// Errors. Each is returned wrapped with the field path and the problem;
// test with errors.Is.
var (
	// ErrParse: the document (or mappings) JSON is malformed; the message
	// gives the byte offset.
	ErrParse = errors.New("mapping: malformed JSON")
	// ErrStrict: a document names a field a strict mapping does not have.
	ErrStrict = errors.New("mapping: field not allowed by strict mapping")
	// ErrType: a value does not fit its field's type (1.5 for a long, an
	// object for a keyword, "abc" for a date).
	ErrType = errors.New("mapping: value does not fit the field type")
	// ErrConflict: a mapping change redefines an existing field.
	ErrConflict = errors.New("mapping: conflicting field mapping")
	// ErrLimit: a mapping or document exceeds the total fields limit
	// (index.mapping.total_fields.limit) or the depth limit
	// (index.mapping.depth.limit).
	ErrLimit = errors.New("mapping: limit exceeded")
	// ErrInvalid: a mapping definition is invalid (unknown type or
	// parameter, a parameter the type does not take, an unknown analyzer).
	ErrInvalid = errors.New("mapping: invalid mapping")
)
