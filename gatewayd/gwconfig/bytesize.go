package gwconfig

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Byte size units.
const (
	KiB ByteSize = 1 << 10
	MiB ByteSize = 1 << 20
	GiB ByteSize = 1 << 30
)

var errByteSize = errors.New("gwconfig: bad byte size")

// byteUnits are the suffixes ParseByteSize accepts, longest first so "KiB"
// is tried before "B". Decimal units (KB, MB, GB) are powers of 1000.
var byteUnits = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"B", 1},
}

// ParseByteSize reads a size: a non-negative integer number of bytes
// ("1048576"), or an integer followed by a unit, optionally separated by a
// space: B, KiB, MiB, GiB, TiB (powers of 1024) or KB, MB, GB, TB (powers of
// 1000). Units are case-sensitive; fractions and overflow are errors.
func ParseByteSize(s string) (ByteSize, error) {
	num, mult := strings.TrimSpace(s), int64(1)
	for _, u := range byteUnits {
		if strings.HasSuffix(num, u.suffix) {
			num, mult = strings.TrimSpace(strings.TrimSuffix(num, u.suffix)), u.mult
			break
		}
	}
	if num == "" || num[0] == '+' || num[0] == '-' {
		return 0, errByteSize
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n > math.MaxInt64/mult {
		return 0, errByteSize
	}
	return ByteSize(n * mult), nil
}

// String formats the size with the largest binary unit that divides it
// exactly ("10MiB", "3KiB", "1500B"); ParseByteSize reads a non-negative
// size's String back to the same value.
func (b ByteSize) String() string {
	if b == 0 {
		return "0"
	}
	for _, u := range []struct {
		suffix string
		mult   ByteSize
	}{{"TiB", 1 << 40}, {"GiB", GiB}, {"MiB", MiB}, {"KiB", KiB}} {
		if b%u.mult == 0 {
			return strconv.FormatInt(int64(b/u.mult), 10) + u.suffix
		}
	}
	return strconv.FormatInt(int64(b), 10) + "B"
}

// MarshalYAML writes the size as String does, for callers that encode
// documents with yaml.Marshal rather than Document.Marshal.
func (b ByteSize) MarshalYAML() (any, error) { return b.String(), nil }

// UnmarshalYAML reads a size as ParseByteSize does, for callers that decode
// with yaml.Unmarshal rather than Parse.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("%w: line %d: not a scalar", errByteSize, n.Line)
	}
	v, err := ParseByteSize(n.Value)
	if err != nil {
		return fmt.Errorf("%w: line %d: %q", errByteSize, n.Line, n.Value)
	}
	*b = v
	return nil
}
