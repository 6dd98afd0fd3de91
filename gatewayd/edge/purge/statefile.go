package purge

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// state is a subscriber's progress: the last Seq it applied and the log it
// belongs to (the create revision of purges/head; 0 before any record).
type state struct {
	Seq int64 `json:"seq"`
	Log int64 `json:"log"`
}

// loadState reads the state file at path. A missing file is the zero state;
// a file that does not parse is reported as corrupt (ok false) so that the
// caller starts from zero, which applies everything retained again or
// drops the whole cache: never less than needed.
func loadState(path string) (st state, ok bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return state{}, true, nil
	}
	if err != nil {
		return state{}, false, fmt.Errorf("purge: read state file: %w", err)
	}
	if err := json.Unmarshal(b, &st); err != nil || st.Seq < 0 || st.Log < 0 {
		return state{}, false, nil
	}
	return st, true, nil
}

// saveState replaces the state file at path with st, durably: it writes a
// temporary file beside it, fsyncs it, renames it over path and fsyncs the
// directory, so a crash leaves the old state or the new one.
func saveState(path string, st state) error {
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("purge: encode state: %w", err)
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("purge: write state file: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("purge: write state file: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		err = d.Sync()
		_ = d.Close()
		if err != nil {
			return fmt.Errorf("purge: sync state directory: %w", err)
		}
	}
	return nil
}
