package partlog

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"cairn.dev/cairn/node/boltfile"
)

// File names in a replica directory.
const (
	logSuffix        = ".log"
	indexSuffix      = ".index"
	timeIndexSuffix  = ".timeindex"
	snapshotSuffix   = ".snapshot"
	tmpSuffix        = ".tmp"
	cleanedSuffix    = ".cleaned"
	epochFile        = "leader-epoch-checkpoint"
	recoveryFile     = "recovery-point"
	logStartFile     = "log-start-offset"
	offsetNameDigits = 20
)

func offsetName(dir string, off int64, suffix string) string {
	return filepath.Join(dir, fmt.Sprintf("%020d%s", off, suffix))
}

// parseOffsetName returns the offset of a file named <offset %020d><suffix>.
func parseOffsetName(name, suffix string) (int64, bool) {
	s, ok := strings.CutSuffix(name, suffix)
	if !ok || len(s) != offsetNameDigits {
		return 0, false
	}
	v, err := strconv.ParseInt(s, 10, 64)
	return v, err == nil && v >= 0
}

// writeFileAtomic replaces path with data durably: a temporary file written
// and fsynced, renamed over path, the directory fsynced.
func writeFileAtomic(path string, data []byte) error {
	tmp := path + tmpSuffix
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return boltfile.SyncDir(filepath.Dir(path))
}

// writeOffsetFile durably stores one offset as decimal text.
func writeOffsetFile(path string, v int64) error {
	return writeFileAtomic(path, []byte(strconv.FormatInt(v, 10)+"\n"))
}

// readOffsetFile reads what writeOffsetFile stored; ok is false when the
// file is missing or unreadable (the caller falls back to a safe default).
func readOffsetFile(path string) (int64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return v, err == nil
}
