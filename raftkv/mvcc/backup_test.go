package mvcc

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	raftkvraftv1 "cairn.dev/cairn/proto/cairn/raftkv/raft/v1"
	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
)

func TestRestoreBackupResetsAppliedIndexAndKeepsData(t *testing.T) {
	src, err := Open(filepath.Join(t.TempDir(), "kv.db"), Options{NoSync: true})
	require.NoError(t, err)
	defer src.Close()
	for i := uint64(1); i <= 5; i++ {
		_, _, err := src.ApplyBatch([]Entry{{Index: 10 + i, Cmd: &raftkvraftv1.Command{Op: &raftkvraftv1.Command_Put{Put: &raftkvv1.PutRequest{Key: []byte("k"), Value: []byte{byte('0' + i)}}}}}})
		require.NoError(t, err)
	}
	var buf bytes.Buffer
	require.NoError(t, src.Snapshot(&buf))

	path := filepath.Join(t.TempDir(), "new", "kv.db")
	require.NoError(t, RestoreBackup(bytes.NewReader(buf.Bytes()), path))
	require.Error(t, RestoreBackup(bytes.NewReader(buf.Bytes()), path), "refuses to overwrite")

	dst, err := Open(path, Options{NoSync: true})
	require.NoError(t, err)
	defer dst.Close()
	require.Zero(t, dst.AppliedIndex())
	require.Equal(t, src.Revision(), dst.Revision())
	resp, err := dst.Range(&raftkvv1.RangeRequest{Key: []byte("k")})
	require.NoError(t, err)
	require.Equal(t, "5", string(resp.GetKvs()[0].GetValue()))
	// A new group's first entries apply on top of the restored data.
	res, _, err := dst.ApplyBatch([]Entry{{Index: 2, Cmd: &raftkvraftv1.Command{Op: &raftkvraftv1.Command_Put{Put: &raftkvv1.PutRequest{Key: []byte("k"), Value: []byte("6")}}}}})
	require.NoError(t, err)
	require.NotNil(t, res[0])
	require.Equal(t, src.Revision()+1, dst.Revision())

	require.Error(t, RestoreBackup(bytes.NewReader([]byte("not a database")), filepath.Join(t.TempDir(), "x.db")))
}
