//go:build anchors

package anchors

import (
	"context"
	"testing"

	"cairn.dev/cairn/bench/searchbench"
)

// TestXapian needs Xapian's Python bindings, which bench/search-compare.sh
// installs (make test installs nothing), so it builds only with -tags
// anchors: go test -tags anchors ./bench/searchbench/anchors/
func TestXapian(t *testing.T) {
	x, err := NewXapian(XapianConfig{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	res, err := searchbench.Run(context.Background(), smallRun(t), corpus(), x)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, res, 4)
}
