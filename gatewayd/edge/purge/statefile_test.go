package purge

import (
	"os"
	"path/filepath"
	"testing"
)

func TestStateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state")
	st, ok, err := loadState(path)
	if err != nil || !ok || st != (state{}) {
		t.Fatalf("missing file: %+v %v %v, want zero state", st, ok, err)
	}
	for _, want := range []state{{Seq: 5, Log: 17}, {Seq: 6, Log: 17}} {
		if err := saveState(path, want); err != nil {
			t.Fatal(err)
		}
		got, ok, err := loadState(path)
		if err != nil || !ok || got != want {
			t.Fatalf("loadState = %+v %v %v, want %+v", got, ok, err, want)
		}
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil || len(entries) != 1 {
		t.Fatalf("directory holds %v (%v), want only the state file", entries, err)
	}
	for _, bad := range []string{"", "{", `{"seq":-1}`, "garbage"} {
		if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		if st, ok, err := loadState(path); err != nil || ok || st != (state{}) {
			t.Errorf("corrupt %q: %+v %v %v, want zero state, not ok", bad, st, ok, err)
		}
	}
	if err := saveState(filepath.Join(t.TempDir(), "no", "such", "dir"), state{Seq: 1}); err == nil {
		t.Error("saveState into a missing directory succeeded")
	}
}
