// Package boltfile holds the file steps of a state machine that keeps its
// state in one database file (bbolt) and replaces it with a snapshot: the
// snapshot is staged in a file beside the database, written and fsynced and
// checked, then renamed over the database and the directory fsynced, so that
// a crash at any point leaves either the old or the new database, and a stage
// left by a crash is removed when the database is opened again.
//
//	stage, err := boltfile.Stage(path, r, checkSnapshot) // nothing staged on error
//	// close the database
//	err = os.Rename(stage, path)                         // on error: reopen the old one
//	err = boltfile.SyncDir(filepath.Dir(path))
//
// raftkv/mvcc, queued/store and node/boltsm use it.
package boltfile

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// StagePath is where a snapshot is staged before it replaces the database at
// path.
func StagePath(path string) string { return path + ".restore.tmp" }

// RemoveStale removes a stage of path that an interrupted restore left; it
// is never the live database. Call it before opening the database.
func RemoveStale(path string) error {
	if err := os.Remove(StagePath(path)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("boltfile: remove stale stage: %w", err)
	}
	return nil
}

// Stage copies r to StagePath(path), fsyncs it and runs check on the staged
// file (nil check: none), returning the stage's path. On any error the stage
// is removed; check's error is returned as is.
func Stage(path string, r io.Reader, check func(stage string) error) (string, error) {
	stage := StagePath(path)
	if err := writeSynced(stage, r); err != nil {
		os.Remove(stage)
		return "", err
	}
	if check != nil {
		if err := check(stage); err != nil {
			os.Remove(stage)
			return "", err
		}
	}
	return stage, nil
}

// writeSynced copies r to a new file at path and fsyncs it.
func writeSynced(path string, r io.Reader) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("boltfile: stage: %w", err)
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return fmt.Errorf("boltfile: stage: copy snapshot: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("boltfile: stage: fsync: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("boltfile: stage: %w", err)
	}
	return nil
}

// SyncDir fsyncs directory dir, making a rename in it durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
