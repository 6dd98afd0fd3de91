package main

import (
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestPackageDoc enforces, for every package of the module, exactly one non-test
// file with a package doc comment. It walks the module from its root, skipping
// what the go command ignores (testdata, vendor, names starting with "." or "_",
// nested modules) and the generated packages under proto/, which carry no package
// doc. Files are parsed regardless of build constraints, so a doc comment in a
// platform or tag-specific file counts too.
func TestPackageDoc(t *testing.T) {
	root := moduleRoot(t)
	// docs maps "dir (package name)" to the files carrying a package doc comment.
	docs := map[string][]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == "." {
				return nil
			}
			name := d.Name()
			if rel == "proto" || name == "testdata" || name == "vendor" ||
				strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir // another module
			}
			return nil
		}
		name := d.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") ||
			strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.PackageClauseOnly|parser.ParseComments)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(filepath.Dir(rel)) + " (package " + f.Name.Name + ")"
		if _, ok := docs[key]; !ok {
			docs[key] = nil
		}
		if f.Doc != nil {
			docs[key] = append(docs[key], name)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := docs["cmd/cairn (package main)"]; !ok {
		t.Fatalf("walk from %s did not find cmd/cairn; found %d packages", root, len(docs))
	}
	for _, pkg := range slices.Sorted(maps.Keys(docs)) {
		switch files := docs[pkg]; len(files) {
		case 1:
		case 0:
			t.Errorf("%s: no file has a package doc comment; add one, usually in doc.go", pkg)
		default:
			t.Errorf("%s: %d files have a package doc comment, want one: %s", pkg, len(files), strings.Join(files, ", "))
		}
	}
}

// moduleRoot returns the nearest directory at or above the working directory
// that holds a go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod at or above the working directory")
		}
		dir = parent
	}
}
