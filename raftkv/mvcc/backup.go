package mvcc

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/bbolt"

	"cairn.dev/cairn/node/boltfile"
)

// RestoreBackup creates the database at path from a backup written by Snapshot, for
// seeding a new group (disaster recovery). The applied Raft index in the copy is
// reset to 0, because the new group's log starts again from index 1; revisions,
// history and leases are kept. path must not exist yet.
func RestoreBackup(backup io.Reader, path string) error {
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("mvcc: restore backup: %s already exists", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("mvcc: restore backup: %w", err)
	}
	tmp, err := boltfile.Stage(path, backup, checkSnapshotFile)
	if err != nil {
		return fmt.Errorf("mvcc: restore backup: %w", err)
	}
	db, err := bbolt.Open(tmp, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("mvcc: restore backup: %w", err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(metaApplied, u64(0))
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("mvcc: restore backup: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("mvcc: restore backup: %w", err)
	}
	return boltfile.SyncDir(filepath.Dir(path))
}
