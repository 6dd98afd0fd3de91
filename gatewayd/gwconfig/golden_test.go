package gwconfig

import (
	"flag"
	"os"
	"testing"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the golden files in testdata")

// TestInvalidGolden parses testdata/invalid.yaml and compares every error
// Parse reports with testdata/invalid.golden.
func TestInvalidGolden(t *testing.T) {
	src, err := os.ReadFile("testdata/invalid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Parse(src)
	if err == nil {
		t.Fatal("testdata/invalid.yaml parsed without errors")
	}
	got := err.Error() + "\n"
	if *rewrite {
		if err := os.WriteFile("testdata/invalid.golden", []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("testdata/invalid.golden")
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("errors differ from testdata/invalid.golden (go test -run InvalidGolden -rewrite):\n%s", got)
	}
}
