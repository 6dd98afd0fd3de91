package meta

import (
	"cmp"
	"fmt"
	"slices"

	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

// refSet collects the needles whose references a command dropped, to report
// those left with none as freed.
type refSet map[[2]uint64]*blobdraftv1.NeedleRef

// eachNeedle calls fn for every needle of chunks with its chunk and shard
// index (-1 for a replicated chunk).
func eachNeedle(chunks []*blobdraftv1.Chunk, fn func(n *blobdraftv1.NeedleRef, chunk, shard int32) error) error {
	for i, c := range chunks {
		if r := c.GetReplicated(); r != nil {
			if err := fn(r, int32(i), -1); err != nil {
				return err
			}
		}
		for j, s := range c.GetEc().GetShards() {
			if err := fn(s, int32(i), int32(j)); err != nil {
				return err
			}
		}
	}
	return nil
}

// addRefs records o's references to the needles of chunks.
func (a *applier) addRefs(o owner, chunks []*blobdraftv1.Chunk) error {
	return eachNeedle(chunks, func(n *blobdraftv1.NeedleRef, chunk, shard int32) error {
		rec := &blobdraftv1.RefRecord{Cookie: n.GetCookie(), Bucket: o.bucket, Key: o.key,
			UploadId: o.uploadID, Part: o.part, Chunk: chunk, Shard: shard}
		return a.put(bucketRefs, refKey(n.GetVid(), n.GetNid(), o, chunk, shard), rec)
	})
}

// dropRefs removes o's references to the needles of chunks, adding the
// needles to touched. A missing reference breaks the refcount invariant:
// ErrCorrupt.
func (a *applier) dropRefs(o owner, chunks []*blobdraftv1.Chunk, touched refSet) error {
	b := a.tx.Bucket(bucketRefs)
	return eachNeedle(chunks, func(n *blobdraftv1.NeedleRef, chunk, shard int32) error {
		k := refKey(n.GetVid(), n.GetNid(), o, chunk, shard)
		if b.Get(k) == nil {
			return fmt.Errorf("%w: no reference %x to needle %d/%d", ErrCorrupt, k, n.GetVid(), n.GetNid())
		}
		touched[[2]uint64{uint64(n.GetVid()), n.GetNid()}] = n
		return a.del(bucketRefs, k)
	})
}

// freed returns the needles of touched that no reference holds any more,
// by (vid, nid). Call it after the command's last reference change.
func (a *applier) freed(touched refSet) []*blobdraftv1.NeedleRef {
	b := a.tx.Bucket(bucketRefs)
	var out []*blobdraftv1.NeedleRef
	for _, n := range touched {
		if !anyWithPrefix(b, needleKey(n.GetVid(), n.GetNid())) {
			out = append(out, &blobdraftv1.NeedleRef{Vid: n.GetVid(), Nid: n.GetNid(), Cookie: n.GetCookie()})
		}
	}
	slices.SortFunc(out, func(x, y *blobdraftv1.NeedleRef) int {
		return cmp.Or(cmp.Compare(x.GetVid(), y.GetVid()), cmp.Compare(x.GetNid(), y.GetNid()))
	})
	return out
}
