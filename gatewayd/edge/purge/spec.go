package purge

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits of a Spec and of names.
const (
	// MaxURLBytes bounds Spec.URL and Spec.Prefix.
	MaxURLBytes = 8 << 10
	// MaxTagBytes bounds Spec.Tag.
	MaxTagBytes = 1 << 10
	// MaxByBytes bounds the publisher's name (Record.By).
	MaxByBytes = 256
	// MaxNodeBytes bounds a node name.
	MaxNodeBytes = 128
	// MaxPrefixBytes bounds the key prefix.
	MaxPrefixBytes = 512
)

// Spec names what one purge removes: exactly one of URL, Prefix and Tag.
type Spec struct {
	// URL is one URL: an absolute path with its query ("/a/b.png?v=2"), or a
	// full http(s) URL.
	URL string `json:"url,omitempty"`
	// Prefix removes every URL whose path starts with it.
	Prefix string `json:"prefix,omitempty"`
	// Tag removes every response that carried it in Surrogate-Key.
	Tag string `json:"tag,omitempty"`
	// Soft marks the entries stale instead of removing them.
	Soft bool `json:"soft,omitempty"`
}

// Validate reports whether s names exactly one well-formed target. Its
// errors wrap ErrInvalidSpec and name the field ("spec.url", "spec.prefix",
// "spec.tag") and the limit broken.
func (s Spec) Validate() error {
	set := 0
	for _, v := range []string{s.URL, s.Prefix, s.Tag} {
		if v != "" {
			set++
		}
	}
	if set != 1 {
		return fmt.Errorf("%w: exactly one of spec.url, spec.prefix and spec.tag must be set, %d are", ErrInvalidSpec, set)
	}
	switch {
	case s.URL != "":
		if err := checkText("spec.url", s.URL, MaxURLBytes); err != nil {
			return err
		}
		if !strings.HasPrefix(s.URL, "/") && !strings.HasPrefix(s.URL, "http://") && !strings.HasPrefix(s.URL, "https://") {
			return fmt.Errorf("%w: spec.url %q must be an absolute path (\"/...\") or an http(s) URL", ErrInvalidSpec, clip(s.URL))
		}
	case s.Prefix != "":
		if err := checkText("spec.prefix", s.Prefix, MaxURLBytes); err != nil {
			return err
		}
	default:
		if err := checkText("spec.tag", s.Tag, MaxTagBytes); err != nil {
			return err
		}
		if i := strings.IndexFunc(s.Tag, unicode.IsSpace); i >= 0 {
			return fmt.Errorf("%w: spec.tag %q has a space at byte %d (Surrogate-Key tags are space-separated: purge one tag at a time)", ErrInvalidSpec, clip(s.Tag), i)
		}
	}
	return nil
}

// checkText checks a spec field's size and characters.
func checkText(field, v string, limit int) error {
	if len(v) > limit {
		return fmt.Errorf("%w: %s is %d bytes, the limit is %d", ErrInvalidSpec, field, len(v), limit)
	}
	if !utf8.ValidString(v) {
		return fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalidSpec, field)
	}
	if i := strings.IndexFunc(v, unicode.IsControl); i >= 0 {
		return fmt.Errorf("%w: %s has a control character at byte %d", ErrInvalidSpec, field, i)
	}
	return nil
}

// clip shortens v for an error message.
func clip(v string) string {
	if len(v) > 64 {
		return v[:64] + "..."
	}
	return v
}

// String describes s for logs: "url=/a soft".
func (s Spec) String() string {
	var b strings.Builder
	switch {
	case s.URL != "":
		b.WriteString("url=" + s.URL)
	case s.Prefix != "":
		b.WriteString("prefix=" + s.Prefix)
	default:
		b.WriteString("tag=" + s.Tag)
	}
	if s.Soft {
		b.WriteString(" soft")
	}
	return b.String()
}

// Record is one published purge.
type Record struct {
	// Seq is the record's position in the log: 1, 2, 3, ... in commit order
	// (see the package documentation).
	Seq int64
	// Spec is what it purges.
	Spec Spec
	// At is when it was published (the publisher's clock).
	At time.Time
	// By names the publisher (free text, for the audit trail).
	By string
}
