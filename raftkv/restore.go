package raftkv

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"cairn.dev/cairn/raftkv/mvcc"
)

// DBFileName is the key-value database inside a member's data directory.
const DBFileName = "kv.db"

// RestoreBackup seeds a new member's data directory from a backup taken with
// `cairn kv snapshot save` (ClusterService.Snapshot). Every member of the new group
// is restored from the same backup and then started with the same --peers, so the
// group bootstraps with the backed-up keys, revisions and leases. dataDir must hold
// no Raft state and no database yet.
func RestoreBackup(backup io.Reader, dataDir string) error {
	if _, err := os.Stat(filepath.Join(dataDir, "raft.db")); err == nil {
		return fmt.Errorf("raftkv: restore: %s already holds Raft state; restore into an empty data directory", dataDir)
	}
	return mvcc.RestoreBackup(backup, filepath.Join(dataDir, DBFileName))
}
