package protect

import (
	"go/parser"
	"go/token"
	"testing"
)

// TestPackageDoc checks that exactly one file carries the package comment.
func TestPackageDoc(t *testing.T) {
	pkgs, err := parser.ParseDir(token.NewFileSet(), ".", nil, parser.PackageClauseOnly|parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range pkgs {
		for _, f := range p.Files {
			if f.Doc != nil {
				n++
			}
		}
	}
	if n != 1 {
		t.Errorf("%d files have a package comment, want 1", n)
	}
}
