package gwconfig

import (
	"reflect"

	"cairn.dev/cairn/node/yamldoc"
)

func equal(a, b any) bool { return reflect.DeepEqual(a, b) }

// testFields is a struct type's YAML field names, as Parse reads them.
type testFields struct {
	index map[string]int // yaml name → field index
	names []string       // yaml names in declaration order
}

func structFields(t reflect.Type) testFields {
	fs := testFields{index: make(map[string]int)}
	for _, f := range yamldoc.Fields(t) {
		fs.index[f.Name] = f.Index
		fs.names = append(fs.names, f.Name)
	}
	return fs
}

func comparePaths(a, b string) int { return yamldoc.ComparePaths(a, b) }
