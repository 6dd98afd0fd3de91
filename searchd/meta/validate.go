package meta

import (
	"strings"
)

// MaxIndexNameBytes is the longest index name (Elasticsearch's limit).
const MaxIndexNameBytes = 255

// MaxShards is the most shards an index may have.
const MaxShards = 64

// ValidateIndexName checks an index name by Elasticsearch's rules:
// lowercase, not empty, at most 255 bytes, none of \ / * ? " < > | space ,
// # :, not starting with - _ +, not "." or "..". The error names field.
func ValidateIndexName(field, name string) error {
	switch {
	case name == "":
		return fail(ErrInvalidArgument, field, "index name must not be empty")
	case len(name) > MaxIndexNameBytes:
		return fail(ErrInvalidArgument, field, "index name is %d bytes, the limit is %d", len(name), MaxIndexNameBytes)
	case name == "." || name == "..":
		return fail(ErrInvalidArgument, field, "index name must not be %q", name)
	case strings.ContainsAny(name[:1], "-_+"):
		return fail(ErrInvalidArgument, field, "index name %q must not start with '-', '_' or '+'", name)
	case strings.ToLower(name) != name:
		return fail(ErrInvalidArgument, field, "index name %q must be lowercase", name)
	}
	if i := strings.IndexAny(name, "\\/*?\"<>| ,#:"); i >= 0 {
		return fail(ErrInvalidArgument, field, "index name %q must not contain %q", name, name[i:i+1])
	}
	return nil
}

// validateIndex checks a new index record.
func validateIndex(ix *Index) error {
	if err := ValidateIndexName("name", ix.Name); err != nil {
		return err
	}
	switch {
	case ix.UUID == "":
		return fail(ErrInvalidArgument, "uuid", "empty uuid")
	case ix.Topic == "":
		return fail(ErrInvalidArgument, "topic", "empty topic")
	case ix.Shards < 1 || ix.Shards > MaxShards:
		return fail(ErrInvalidArgument, "settings.shards", "%d shards, must be in [1, %d]", ix.Shards, MaxShards)
	case ix.Replicas < 0:
		return fail(ErrInvalidArgument, "settings.replicas", "%d replicas, must be >= 0", ix.Replicas)
	case len(ix.Copies) != ix.Shards:
		return fail(ErrInvalidArgument, "copies", "placement of %d shards for %d", len(ix.Copies), ix.Shards)
	}
	for s, cs := range ix.Copies {
		seen := map[string]bool{}
		for _, c := range cs {
			if c.Node == "" || seen[c.Node] {
				return fail(ErrInvalidArgument, "copies", "shard %d: empty or repeated node %q", s, c.Node)
			}
			seen[c.Node] = true
		}
	}
	return nil
}
