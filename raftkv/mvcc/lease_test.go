package mvcc

import (
	"testing"

	"github.com/stretchr/testify/require"

	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
)

func TestLeaseGrant(t *testing.T) {
	ts := openTestStore(t)
	r := ts.ok(grantCmd(0, 30)).GetLeaseGrant() // index 1
	require.Equal(t, int64(1), r.Id)
	require.Equal(t, int64(30), r.Ttl)
	r = ts.ok(grantCmd(7, 5)).GetLeaseGrant()
	require.Equal(t, int64(7), r.Id)
	res := ts.one(grantCmd(7, 9))
	require.ErrorIs(t, ErrorFromCode(res.Error, res.ErrorMessage), ErrLeaseExists)
	ts.ok(putCmd("pad", "x", 0)) // index 4
	res = ts.one(grantCmd(0, 9)) // index 5
	require.Equal(t, int64(5), res.GetLeaseGrant().Id)
	// id 0 picks the entry index, which may collide with an explicit id.
	ts.ok(grantCmd(7000, 1))
	ts.idx = 6999
	res = ts.one(grantCmd(0, 1)) // index 7000
	require.ErrorIs(t, ErrorFromCode(res.Error, res.ErrorMessage), ErrLeaseExists)

	leases := ts.s.Leases()
	require.Len(t, leases, 4)
	require.Equal(t, []int64{1, 5, 7, 7000}, []int64{leases[0].Id, leases[1].Id, leases[2].Id, leases[3].Id})
	require.Equal(t, int64(2), ts.s.Revision(), "granting does not bump the revision")

	_, _, err := ts.s.Lease(99)
	require.ErrorIs(t, err, ErrLeaseNotFound)
}

func TestLeaseAttachAndRevoke(t *testing.T) {
	ts := openTestStore(t)
	ts.ok(grantCmd(1, 10))
	ts.ok(grantCmd(2, 10))

	res := ts.one(putCmd("x", "v", 3))
	require.ErrorIs(t, ErrorFromCode(res.Error, res.ErrorMessage), ErrLeaseNotFound)
	require.Equal(t, int64(1), ts.s.Revision())

	ts.ok(putCmd("a", "v", 1))  // 2
	ts.ok(putCmd("b", "v", 1))  // 3
	ts.ok(putCmd("c", "v", 2))  // 4
	ts.ok(putCmd("d", "v", 1))  // 5
	ts.ok(putCmd("d", "v2", 2)) // 6: moves d from lease 1 to 2
	ts.ok(putCmd("b", "v2", 0)) // 7: detaches b
	ts.ok(delCmd("c", ""))      // 8: deleting detaches c
	ts.ok(putCmd("e", "v", 1))  // 9
	require.Equal(t, int64(1), ts.get("a", 0).Lease)

	rec, keys, err := ts.s.Lease(1)
	require.NoError(t, err)
	require.Equal(t, int64(10), rec.Ttl)
	require.Equal(t, [][]byte{[]byte("a"), []byte("e")}, keys)
	_, keys, err = ts.s.Lease(2)
	require.NoError(t, err)
	require.Equal(t, [][]byte{[]byte("d")}, keys)

	rs, evs := ts.apply(revokeCmd(1))
	require.Empty(t, rs[0].Error)
	require.Equal(t, int64(10), rs[0].GetLeaseRevoke().Header.Revision)
	require.Len(t, evs, 2)
	for i, k := range []string{"a", "e"} {
		require.Equal(t, raftkvv1.Event_EVENT_TYPE_DELETE, evs[i].Type)
		require.Equal(t, k, string(evs[i].Kv.Key))
		require.Equal(t, int64(10), evs[i].Kv.ModRevision)
		require.Equal(t, int64(1), evs[i].PrevKv.Lease)
	}
	require.Equal(t, []string{"b", "d"}, keysOf(ts.rangeAll(0).Kvs))
	_, _, err = ts.s.Lease(1)
	require.ErrorIs(t, err, ErrLeaseNotFound)

	res = ts.one(revokeCmd(1))
	require.ErrorIs(t, ErrorFromCode(res.Error, res.ErrorMessage), ErrLeaseNotFound)

	// Revoking a lease without keys keeps the revision.
	ts.ok(grantCmd(3, 10))
	r := ts.ok(revokeCmd(3)).GetLeaseRevoke()
	require.Equal(t, int64(10), r.Header.Revision)
}

func TestLeaseExpire(t *testing.T) {
	ts := openTestStore(t)
	for id := int64(1); id <= 3; id++ {
		ts.ok(grantCmd(id, 5))
	}
	ts.ok(putCmd("a1", "v", 1)) // 2
	ts.ok(putCmd("b2", "v", 2)) // 3
	ts.ok(putCmd("a2", "v", 2)) // 4
	ts.ok(putCmd("k", "v", 0))  // 5

	res, evs := ts.apply(expireCmd(2, 9, 1, 2))
	require.Empty(t, res[0].Error)
	require.Equal(t, []int64{2, 1}, res[0].GetLeaseExpire().Revoked)
	require.Equal(t, int64(6), ts.s.Revision(), "all deletions share one revision")
	var got []string
	for _, ev := range evs {
		require.Equal(t, int64(6), ev.Kv.ModRevision)
		require.Equal(t, raftkvv1.Event_EVENT_TYPE_DELETE, ev.Type)
		got = append(got, string(ev.Kv.Key))
	}
	require.Equal(t, []string{"a2", "b2", "a1"}, got)
	require.Equal(t, []string{"k"}, keysOf(ts.rangeAll(0).Kvs))
	leases := ts.s.Leases()
	require.Len(t, leases, 1)
	require.Equal(t, int64(3), leases[0].Id)

	// Expiring only leases without keys, or unknown ones, keeps the revision.
	res, evs = ts.apply(expireCmd(3, 4))
	require.Equal(t, []int64{3}, res[0].GetLeaseExpire().Revoked)
	require.Empty(t, evs)
	require.Equal(t, int64(6), ts.s.Revision())
}
