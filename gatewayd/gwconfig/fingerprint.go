package gwconfig

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// Fingerprint is a stable hash (32 hex digits) of everything in an upstream's
// spec, name included: equal specs have equal fingerprints across processes
// and releases of the same document types, and any change to a field changes
// it. The gateway keeps an upstream's pool across reloads while its
// fingerprint is unchanged. Parse fills defaults first, so a spec that
// spells a default out and one that leaves it out fingerprint the same once
// parsed.
func Fingerprint(u Upstream) string {
	// Struct fields in order, map keys sorted: deterministic. An Upstream
	// holds only strings, numbers, bools and pointers to structs of those,
	// so encoding cannot fail.
	b, _ := json.Marshal(u)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}
