package lockd

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPackageDoc enforces exactly one package doc comment per package under lockd/.
func TestPackageDoc(t *testing.T) {
	for _, dir := range []string{".", "client", "lockdtest"} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var withDoc []string
		for _, e := range entries {
			name := e.Name()
			if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(dir, name), nil, parser.PackageClauseOnly|parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			if f.Doc != nil {
				withDoc = append(withDoc, name)
			}
		}
		if len(withDoc) != 1 {
			t.Errorf("package in %s: want exactly one file with a package doc comment, got %v", dir, withDoc)
		}
	}
}
