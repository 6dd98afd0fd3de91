package edgebench

import (
	"fmt"
	"strconv"
	"strings"

	"cairn.dev/cairn/bench/blobbench"
)

// SizeClass is one entry of a size mix: objects of Bytes bytes, with
// Weight the share of the key space they take relative to the other
// classes.
type SizeClass struct {
	Bytes  int64
	Weight int
}

// maxWeight bounds one class's weight, so the sum cannot overflow.
const maxWeight = 1_000_000

// maxClasses bounds the number of classes in a mix.
const maxClasses = 64

// ParseSizes reads a size mix: comma-separated sizes (see
// blobbench.ParseSize: "1KiB", "100KiB", "10MiB"), each with an optional
// ":weight" (a positive integer, default 1), e.g. "1KiB:90,100KiB:9,10MiB:1".
func ParseSizes(s string) ([]SizeClass, error) {
	var out []SizeClass
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		size, weight, hasWeight := strings.Cut(part, ":")
		n, err := blobbench.ParseSize(size)
		if err != nil {
			return nil, fmt.Errorf("edgebench: sizes: %w", err)
		}
		w := 1
		if hasWeight {
			w, err = strconv.Atoi(strings.TrimSpace(weight))
			if err != nil || w < 1 || w > maxWeight {
				return nil, fmt.Errorf("edgebench: sizes: weight %q of %s: want an integer in [1, %d]", weight, size, maxWeight)
			}
		}
		out = append(out, SizeClass{Bytes: n, Weight: w})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("edgebench: sizes %q: want at least one size", s)
	}
	if len(out) > maxClasses {
		return nil, fmt.Errorf("edgebench: sizes: %d classes, the limit is %d", len(out), maxClasses)
	}
	return out, nil
}

// FormatSizes writes a mix the way ParseSizes reads it.
func FormatSizes(mix []SizeClass) string {
	parts := make([]string, len(mix))
	for i, c := range mix {
		parts[i] = fmt.Sprintf("%s:%d", blobbench.FormatSize(c.Bytes), c.Weight)
	}
	return strings.Join(parts, ",")
}

// sizeOf is the size of object id under mix: a fixed function of the id
// (a hash of it against the cumulative weights), so every worker and every
// run agree, and each class's share of any large set of ids follows its
// weight.
func sizeOf(mix []SizeClass, id int) int64 {
	if len(mix) == 1 {
		return mix[0].Bytes
	}
	total := 0
	for _, c := range mix {
		total += c.Weight
	}
	r := int(splitmix64(uint64(id)) % uint64(total))
	for _, c := range mix {
		if r < c.Weight {
			return c.Bytes
		}
		r -= c.Weight
	}
	return mix[len(mix)-1].Bytes
}

// splitmix64 is a fixed 64-bit mixing function (SplitMix64's finalizer).
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
