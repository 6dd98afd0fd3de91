package cachestore

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzReadObjectFile: any file content is either refused or read back
// with lengths that match the file; never a panic.
func FuzzReadObjectFile(f *testing.F) {
	dir := f.TempDir()
	valid := filepath.Join(dir, "valid")
	if err := writeObjectFile(filepath.Join(dir, "v.tmp"), valid, "id", []byte("meta"), []byte("body")); err != nil {
		f.Fatal(err)
	}
	b, err := os.ReadFile(valid)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(b[:headerSize])
	f.Add([]byte(fileMagic))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "f.obj")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		id, meta, bodyLen, err := readObjectFile(path)
		if err != nil {
			return
		}
		if got := fileSize(id, meta, bodyLen); got != int64(len(data)) {
			t.Fatalf("accepted a %d-byte file whose header says %d", len(data), got)
		}
	})
}
