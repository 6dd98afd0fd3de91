package boltfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestStageWritesAndChecks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	var checked string
	stage, err := Stage(path, strings.NewReader("snapshot"), func(s string) error { checked = s; return nil })
	require.NoError(t, err)
	require.Equal(t, StagePath(path), stage)
	require.Equal(t, stage, checked)
	b, err := os.ReadFile(stage)
	require.NoError(t, err)
	require.Equal(t, "snapshot", string(b))
	require.NoError(t, os.Rename(stage, path))
	require.NoError(t, SyncDir(filepath.Dir(path)))
}

func TestStageRemovesARefusedStage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	bad := errors.New("not a database")
	_, err := Stage(path, strings.NewReader("junk"), func(string) error { return bad })
	require.ErrorIs(t, err, bad)
	require.NoFileExists(t, StagePath(path))
}

func TestRemoveStale(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	require.NoError(t, RemoveStale(path), "nothing to remove")
	require.NoError(t, os.WriteFile(StagePath(path), []byte("x"), 0o600))
	require.NoError(t, RemoveStale(path))
	require.NoFileExists(t, StagePath(path))
}
