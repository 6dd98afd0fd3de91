package client

import (
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	cachedv1 "cairn.dev/cairn/proto/cairn/cached/v1"
)

// SetOption changes one Set call.
type SetOption func(*cachedv1.SetRequest)

// WithTTL makes the key expire after ttl (rounded by the node to its clock
// resolution); ttl <= 0 means no expiry. Without it, or KeepTTL, a Set removes
// any previous TTL, like Redis SET.
func WithTTL(ttl time.Duration) SetOption {
	return func(r *cachedv1.SetRequest) {
		if ttl > 0 {
			r.Ttl = durationpb.New(ttl)
		} else {
			r.Ttl = nil
		}
	}
}

// KeepTTL keeps the key's current TTL (Redis SET KEEPTTL).
func KeepTTL() SetOption { return func(r *cachedv1.SetRequest) { r.KeepTtl = true } }

// IfAbsent writes only a missing key (Redis SET NX).
func IfAbsent() SetOption {
	return func(r *cachedv1.SetRequest) { r.Mode = cachedv1.SetMode_SET_MODE_IF_ABSENT }
}

// IfPresent writes only an existing key (Redis SET XX).
func IfPresent() SetOption {
	return func(r *cachedv1.SetRequest) { r.Mode = cachedv1.SetMode_SET_MODE_IF_PRESENT }
}

// IfVersion writes only if the key's current version is v (compare-and-set
// against the Version of a GetItem). v = 0 means any version.
func IfVersion(v uint64) SetOption { return func(r *cachedv1.SetRequest) { r.IfVersion = v } }
