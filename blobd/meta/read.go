package meta

import (
	"encoding/binary"
	"fmt"
	"iter"
	"time"

	"go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

// Reads see the state as of the last applied batch, each in one bbolt read
// transaction (iterators: one per page, so no transaction stays open while
// the caller runs). They read the local state: a caller that needs a
// linearizable read does the Raft read barrier first. Returned records are
// the caller's.

// pageSize is how many records an iterator reads per transaction.
const pageSize = 256

// all returns every record of a bucket, in key order.
func all[M proto.Message](s *Store, bucket []byte, newM func() M) (out []M, err error) {
	err = s.view(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucket).ForEach(func(k, v []byte) error {
			m, err := unmarshal(string(bucket), k, v, newM())
			out = append(out, m)
			return err
		})
	})
	return out, err
}

// one reads a record with getter, or returns notFound wrapped with what.
func one[M proto.Message](s *Store, getter func(tx *bbolt.Tx) (M, error), notFound error, what string) (m M, err error) {
	err = s.view(func(tx *bbolt.Tx) error {
		m, err = getter(tx)
		if err == nil && !m.ProtoReflect().IsValid() {
			err = fmt.Errorf("%w: %s", notFound, what)
		}
		return err
	})
	return m, err
}

// Server returns a registered volume server, or ErrServerNotFound.
func (s *Store) Server(id string) (*blobdraftv1.ServerRecord, error) {
	return one(s, func(tx *bbolt.Tx) (*blobdraftv1.ServerRecord, error) { return getServer(tx, id) }, ErrServerNotFound, fmt.Sprintf("%q", id))
}

// Servers returns every registered volume server, by id.
func (s *Store) Servers() ([]*blobdraftv1.ServerRecord, error) {
	return all(s, bucketServers, func() *blobdraftv1.ServerRecord { return &blobdraftv1.ServerRecord{} })
}

// Volume returns a volume, or ErrVolumeNotFound.
func (s *Store) Volume(vid uint32) (*blobdraftv1.VolumeRecord, error) {
	return one(s, func(tx *bbolt.Tx) (*blobdraftv1.VolumeRecord, error) { return getVolume(tx, vid) }, ErrVolumeNotFound, fmt.Sprint(vid))
}

// Volumes returns every volume, by id.
func (s *Store) Volumes() ([]*blobdraftv1.VolumeRecord, error) {
	return all(s, bucketVolumes, func() *blobdraftv1.VolumeRecord { return &blobdraftv1.VolumeRecord{} })
}

// VolumesOn returns the volumes with a copy on server, by id.
func (s *Store) VolumesOn(server string) ([]*blobdraftv1.VolumeRecord, error) {
	vs, err := s.Volumes()
	out := vs[:0]
	for _, v := range vs {
		for _, id := range v.Servers {
			if id == server {
				out = append(out, v)
				break
			}
		}
	}
	return out, err
}

// Bucket returns a bucket, or ErrBucketNotFound.
func (s *Store) Bucket(name string) (*blobdraftv1.BucketRecord, error) {
	return one(s, func(tx *bbolt.Tx) (*blobdraftv1.BucketRecord, error) { return getBucket(tx, name) }, ErrBucketNotFound, fmt.Sprintf("%q", name))
}

// Buckets returns every bucket, by name.
func (s *Store) Buckets() ([]*blobdraftv1.BucketRecord, error) {
	return all(s, bucketBuckets, func() *blobdraftv1.BucketRecord { return &blobdraftv1.BucketRecord{} })
}

// Object returns the object at bucket/key with its manifest, or
// ErrBucketNotFound or ErrObjectNotFound.
func (s *Store) Object(bucket, key string) (o *blobdraftv1.ObjectRecord, err error) {
	err = s.view(func(tx *bbolt.Tx) error {
		if b, err := getBucket(tx, bucket); err != nil || b == nil {
			return cmpErr(err, fmt.Errorf("%w: %q", ErrBucketNotFound, bucket))
		}
		if o, err = getObject(tx, bucket, key); err == nil && o == nil {
			err = fmt.Errorf("%w: %q in bucket %q", ErrObjectNotFound, key, bucket)
		}
		return err
	})
	return o, err
}

// cmpErr returns err, or else alt.
func cmpErr(err, alt error) error {
	if err != nil {
		return err
	}
	return alt
}

// Upload returns upload id of bucket/key, or ErrBucketNotFound or
// ErrUploadNotFound (also for an upload of another bucket or key).
func (s *Store) Upload(bucket, key, id string) (u *blobdraftv1.UploadRecord, err error) {
	err = s.view(func(tx *bbolt.Tx) error {
		if b, err := getBucket(tx, bucket); err != nil || b == nil {
			return cmpErr(err, fmt.Errorf("%w: %q", ErrBucketNotFound, bucket))
		}
		u, err = getUpload(tx, id)
		if err == nil && (u == nil || u.Bucket != bucket || u.Key != key) {
			u, err = nil, fmt.Errorf("%w: %q of %q in bucket %q", ErrUploadNotFound, id, key, bucket)
		}
		return err
	})
	return u, err
}

// AccessKey returns an access key (secret included), or
// ErrAccessKeyNotFound.
func (s *Store) AccessKey(id string) (*blobdraftv1.AccessKeyRecord, error) {
	return one(s, func(tx *bbolt.Tx) (*blobdraftv1.AccessKeyRecord, error) { return getAccessKey(tx, id) }, ErrAccessKeyNotFound, fmt.Sprintf("%q", id))
}

// AccessKeys returns every access key, by id.
func (s *Store) AccessKeys() ([]*blobdraftv1.AccessKeyRecord, error) {
	return all(s, bucketAccessKeys, func() *blobdraftv1.AccessKeyRecord { return &blobdraftv1.AccessKeyRecord{} })
}

// NextNeedle returns the first needle id not yet allocated: every id below
// it was handed out by AllocateNeedles.
func (s *Store) NextNeedle() (n uint64, err error) {
	err = s.view(func(tx *bbolt.Tx) error {
		n, err = nextNeedle(tx)
		return err
	})
	return n, err
}

// NeedleAllocatedAt returns when needle id nid was allocated (the time of
// its AllocateNeedles command); ok is false for an id never allocated.
func (s *Store) NeedleAllocatedAt(nid uint64) (at time.Time, ok bool, err error) {
	err = s.view(func(tx *bbolt.Tx) error {
		ns, found, err := needleAllocatedAt(tx, nid)
		if found {
			at, ok = time.Unix(0, ns).UTC(), true
		}
		return err
	})
	return at, ok, err
}

// needleAllocatedAt returns the unix nanos of nid's AllocateNeedles
// command; ok is false for an id never allocated.
func needleAllocatedAt(tx *bbolt.Tx, nid uint64) (ns int64, ok bool, err error) {
	c := tx.Bucket(bucketNeedleBlocks).Cursor()
	k, v := c.Seek(needleBlockKey(nid))
	if k == nil || binary.BigEndian.Uint64(k) != nid {
		k, v = c.Prev()
	}
	if k == nil {
		return 0, false, nil
	}
	blk, err := unmarshal("needle block", k, v, &blobdraftv1.NeedleBlockRecord{})
	if err != nil {
		return 0, false, err
	}
	if nid >= blk.First && nid-blk.First < blk.Count {
		return blk.UnixNanos, true, nil
	}
	return 0, false, nil
}

// Clock returns the state machine's clock: the largest unix_nanos of the
// commands applied (zero before any). Garbage collection judges needle
// ages by it, as the state machine does (Command.needle_max_age_nanos).
func (s *Store) Clock() (time.Time, error) {
	var ns uint64
	err := s.view(func(tx *bbolt.Tx) error {
		var err error
		ns, err = getUint(tx.Bucket(bucketMeta), metaClock)
		return err
	})
	if err != nil || ns == 0 {
		return time.Time{}, err
	}
	return time.Unix(0, int64(ns)).UTC(), nil
}

// NeedleRef is one reference to needle (Vid, Nid): Owner says which chunk
// (and shard) of which object or part holds it.
type NeedleRef struct {
	Vid   uint32
	Nid   uint64
	Owner *blobdraftv1.RefRecord
}

// NeedleRefs iterates over the references to the needles of volume vid, by
// needle id (a needle with several references comes once per reference).
// A needle of the volume that is not listed is referenced by nothing: it
// is garbage once its allocation is older than a grace period. An error
// ends the iteration.
func (s *Store) NeedleRefs(vid uint32) iter.Seq2[NeedleRef, error] {
	return func(yield func(NeedleRef, error) bool) {
		prefix := volumeKey(vid)
		from := prefix
		for {
			var page []NeedleRef
			var next []byte
			err := s.view(func(tx *bbolt.Tx) error {
				c := tx.Bucket(bucketRefs).Cursor()
				for k, v := c.Seek(from); k != nil && hasPrefix(k, prefix); k, v = c.Next() {
					if len(page) == pageSize {
						next = append([]byte(nil), k...)
						return nil
					}
					r, err := unmarshal("ref", k, v, &blobdraftv1.RefRecord{})
					if err != nil {
						return err
					}
					page = append(page, NeedleRef{Vid: vid, Nid: binary.BigEndian.Uint64(k[4:12]), Owner: r})
				}
				return nil
			})
			if err != nil {
				yield(NeedleRef{}, err)
				return
			}
			for _, r := range page {
				if !yield(r, nil) {
					return
				}
			}
			if next == nil {
				return
			}
			from = next
		}
	}
}

// ListParts returns up to max parts (≤ 0 or over MaxListKeys: MaxListKeys)
// of upload id of bucket/key with numbers above marker, in order, and
// whether more follow.
func (s *Store) ListParts(bucket, key, id string, marker int32, limit int) (parts []*blobdraftv1.PartRecord, truncated bool, err error) {
	if limit <= 0 || limit > MaxListKeys {
		limit = MaxListKeys
	}
	if _, err := s.Upload(bucket, key, id); err != nil {
		return nil, false, err
	}
	if marker >= MaxParts {
		return nil, false, nil
	}
	marker = max(marker, 0)
	err = s.view(func(tx *bbolt.Tx) error {
		prefix := []byte(id)
		c := tx.Bucket(bucketParts).Cursor()
		for k, v := c.Seek(partKey(id, marker+1)); k != nil && hasPrefix(k, prefix); k, v = c.Next() {
			if len(parts) == limit {
				truncated = true
				return nil
			}
			p, err := unmarshal("part", k, v, &blobdraftv1.PartRecord{})
			if err != nil {
				return err
			}
			parts = append(parts, p)
		}
		return nil
	})
	return parts, truncated, err
}
