package geodns

import "net/netip"

// table maps a client address to the region of the longest configured
// subnet containing it, and tells over how long a prefix of the address
// that answer holds (the ECS scope). It is a binary trie per address
// family, built once by newTable and read-only afterwards (safe for
// concurrent lookups). Its size is bounded by MaxSubnets × 128 nodes.
type table struct {
	v4, v6 []trieNode // index 0 is the root
}

// trieNode is one bit position of the trie. child[b] is the index of the
// child for bit b, 0 when absent (the root is never a child). region is
// the index of the region whose subnet ends here, or -1.
type trieNode struct {
	child  [2]int32
	region int32
}

// newTable builds the trie of regions' subnets. The subnets are valid,
// masked and unique (validateRegions checked them).
func newTable(regions []Region) *table {
	t := &table{v4: []trieNode{{region: -1}}, v6: []trieNode{{region: -1}}}
	for i, r := range regions {
		for _, p := range r.Subnets {
			nodes := &t.v6
			if p.Addr().Is4() {
				nodes = &t.v4
			}
			at, bits := int32(0), p.Addr().AsSlice()
			for depth := 0; depth < p.Bits(); depth++ {
				b := bit(bits, depth)
				next := (*nodes)[at].child[b]
				if next == 0 {
					*nodes = append(*nodes, trieNode{region: -1})
					next = int32(len(*nodes) - 1)
					(*nodes)[at].child[b] = next
				}
				at = next
			}
			(*nodes)[at].region = int32(i)
		}
	}
	return t
}

// lookup returns the region of the longest subnet containing a (-1 when
// none does) and the scope: the shortest prefix length s such that every
// address in a/s gets the same answer. s is at least the matched subnet's
// length, and s is longer than the matched length only when a more
// specific subnet of another answer lies next to a.
func (t *table) lookup(a netip.Addr) (region int, scope int) {
	a = a.Unmap()
	nodes := t.v6
	if a.Is4() {
		nodes = t.v4
	}
	region = -1
	at, depth, bits := int32(0), 0, a.AsSlice()
	for depth < a.BitLen() {
		next := nodes[at].child[bit(bits, depth)]
		if next == 0 {
			break
		}
		at, depth = next, depth+1
		if r := nodes[at].region; r >= 0 {
			region = int(r)
		}
	}
	// a/depth is the longest prefix of a that the trie knows. When it has
	// no children, no subnet lies inside it other than itself: the answer
	// holds over all of it. Otherwise a subnet lies inside a/depth on the
	// other side, and a/(depth+1) is the shortest prefix free of it.
	if nodes[at].child == [2]int32{} {
		return region, depth
	}
	return region, depth + 1
}

// bit returns bit i (0 = most significant) of the address bytes s.
func bit(s []byte, i int) int {
	return int(s[i/8]>>(7-i%8)) & 1
}
