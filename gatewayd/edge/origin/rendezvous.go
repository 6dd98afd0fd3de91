package origin

import "hash/fnv"

// Rendezvous (highest random weight) hashing: a key belongs to the node
// whose score for it is highest, the score a mix of the key's hash and the
// node's. Every node computes the same owner from the same names, and
// removing a node moves only the keys it owned (each to the node with the
// next highest score); adding one moves to it only the keys it now wins.

// hashString is the 64-bit FNV-1a hash of s, finalised by mix64 so that
// names differing in one byte get unrelated hashes.
func hashString(s string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(s))
	return mix64(h.Sum64())
}

// score is the weight of a node (by its name's hash) for a key (by its
// hash).
func score(key, node uint64) uint64 { return mix64(key ^ node) }

// mix64 is MurmurHash3's 64-bit finaliser: a bijection in which every
// input bit flips each output bit with probability about one half.
func mix64(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

// member is a shield node with its name's hash.
type member struct {
	ShieldNode
	hash uint64
}

// ownerOf returns the index in members of key's owner; -1 when there are
// none. Ties (equal scores) go to the lesser name, so every node agrees.
func ownerOf(members []member, key string) int {
	k := hashString(key)
	best, bestScore := -1, uint64(0)
	for i, m := range members {
		s := score(k, m.hash)
		if best < 0 || s > bestScore || s == bestScore && m.Name < members[best].Name {
			best, bestScore = i, s
		}
	}
	return best
}
