package meta

import (
	"encoding/binary"
	"fmt"

	"go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

// Bucket and key names: part of the on-disk format (see doc.go).
var (
	bucketMeta         = []byte("meta")
	bucketServers      = []byte("servers")
	bucketVolumes      = []byte("volumes")
	bucketNeedleBlocks = []byte("needleblocks")
	bucketBuckets      = []byte("buckets")
	bucketObjects      = []byte("objects")
	bucketUploads      = []byte("uploads")
	bucketUploadKeys   = []byte("uploadkeys")
	bucketParts        = []byte("parts")
	bucketRefs         = []byte("refs")
	bucketAccessKeys   = []byte("accesskeys")

	allBuckets = [][]byte{bucketMeta, bucketServers, bucketVolumes, bucketNeedleBlocks,
		bucketBuckets, bucketObjects, bucketUploads, bucketUploadKeys, bucketParts,
		bucketRefs, bucketAccessKeys}

	metaNextVolume = []byte("next_volume")
	metaNextNeedle = []byte("next_needle")
	metaClock      = []byte("clock")
)

// bucketPrefix is bucket ‖ 0: bucket names hold no NUL, so a bucket's
// objects (and uploads) are adjacent, in key order.
func bucketPrefix(bucket string) []byte { return append([]byte(bucket), 0) }

// objectKey is bucket ‖ 0 ‖ key.
func objectKey(bucket, key string) []byte { return append(bucketPrefix(bucket), key...) }

// uploadKeyKey is bucket ‖ 0 ‖ key ‖ 0 ‖ upload id: keys hold no NUL, so a
// bucket's uploads sort by key, then upload id (which starts with the
// creating index: initiation order).
func uploadKeyKey(bucket, key, uploadID string) []byte {
	k := append(objectKey(bucket, key), 0)
	return append(k, uploadID...)
}

// partKey is upload id ‖ part number (uploads ids have a fixed length).
func partKey(uploadID string, n int32) []byte {
	return binary.BigEndian.AppendUint32([]byte(uploadID), uint32(n))
}

func volumeKey(vid uint32) []byte { return binary.BigEndian.AppendUint32(nil, vid) }

// needleKey is vid ‖ nid: the prefix of a needle's references.
func needleKey(vid uint32, nid uint64) []byte {
	return binary.BigEndian.AppendUint64(volumeKey(vid), nid)
}

// owner is what references a needle: an object, or a part of an upload.
type owner struct {
	bucket, key string
	uploadID    string // set for a part
	part        int32
}

// refKey is vid ‖ nid ‖ owner ‖ chunk ‖ shard+1, where owner is
// 'o' ‖ bucket ‖ 0 ‖ key ‖ 0 for an object and 'p' ‖ upload id ‖ part for
// a part. One key per reference: a needle's count is the number of keys
// with its prefix.
func refKey(vid uint32, nid uint64, o owner, chunk, shard int32) []byte {
	k := needleKey(vid, nid)
	if o.uploadID == "" {
		k = append(k, 'o')
		k = append(k, o.bucket...)
		k = append(k, 0)
		k = append(k, o.key...)
		k = append(k, 0)
	} else {
		k = append(k, 'p')
		k = append(k, o.uploadID...)
		k = binary.BigEndian.AppendUint32(k, uint32(o.part))
	}
	k = binary.BigEndian.AppendUint32(k, uint32(chunk))
	return binary.BigEndian.AppendUint16(k, uint16(shard+1))
}

// successor returns the least byte string greater than every string with
// prefix p, or nil when there is none (p is all 0xff).
func successor(p []byte) []byte {
	s := append([]byte(nil), p...)
	for len(s) > 0 && s[len(s)-1] == 0xff {
		s = s[:len(s)-1]
	}
	if len(s) == 0 {
		return nil
	}
	s[len(s)-1]++
	return s
}

func getUint(b *bbolt.Bucket, key []byte) (uint64, error) {
	v := b.Get(key)
	if v == nil {
		return 0, nil
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("%w: meta %s is %d bytes", ErrCorrupt, key, len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

func putUint(b *bbolt.Bucket, key []byte, v uint64) error {
	return b.Put(key, binary.BigEndian.AppendUint64(nil, v))
}

// nextNeedle is the first needle id not yet allocated (ids start at 1).
func nextNeedle(tx *bbolt.Tx) (uint64, error) {
	n, err := getUint(tx.Bucket(bucketMeta), metaNextNeedle)
	return max(n, 1), err
}

// unmarshal decodes a stored record.
func unmarshal[M proto.Message](what string, key, v []byte, m M) (M, error) {
	if err := proto.Unmarshal(v, m); err != nil {
		return m, fmt.Errorf("%w: %s %x: %v", ErrCorrupt, what, key, err)
	}
	return m, nil
}

func put(b *bbolt.Bucket, key []byte, m proto.Message) error {
	v, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return err
	}
	return b.Put(key, v)
}

// get reads the record at key of bucket into a new M; nil when absent.
func get[M proto.Message](tx *bbolt.Tx, bucket, key []byte, newM func() M) (M, error) {
	var zero M
	v := tx.Bucket(bucket).Get(key)
	if v == nil {
		return zero, nil
	}
	return unmarshal(string(bucket), key, v, newM())
}

func getServer(tx *bbolt.Tx, id string) (*blobdraftv1.ServerRecord, error) {
	return get(tx, bucketServers, []byte(id), func() *blobdraftv1.ServerRecord { return &blobdraftv1.ServerRecord{} })
}

func getVolume(tx *bbolt.Tx, vid uint32) (*blobdraftv1.VolumeRecord, error) {
	return get(tx, bucketVolumes, volumeKey(vid), func() *blobdraftv1.VolumeRecord { return &blobdraftv1.VolumeRecord{} })
}

func getBucket(tx *bbolt.Tx, name string) (*blobdraftv1.BucketRecord, error) {
	return get(tx, bucketBuckets, []byte(name), func() *blobdraftv1.BucketRecord { return &blobdraftv1.BucketRecord{} })
}

func getObject(tx *bbolt.Tx, bucket, key string) (*blobdraftv1.ObjectRecord, error) {
	return get(tx, bucketObjects, objectKey(bucket, key), func() *blobdraftv1.ObjectRecord { return &blobdraftv1.ObjectRecord{} })
}

func getUpload(tx *bbolt.Tx, id string) (*blobdraftv1.UploadRecord, error) {
	return get(tx, bucketUploads, []byte(id), func() *blobdraftv1.UploadRecord { return &blobdraftv1.UploadRecord{} })
}

func getPart(tx *bbolt.Tx, uploadID string, n int32) (*blobdraftv1.PartRecord, error) {
	return get(tx, bucketParts, partKey(uploadID, n), func() *blobdraftv1.PartRecord { return &blobdraftv1.PartRecord{} })
}

func getAccessKey(tx *bbolt.Tx, id string) (*blobdraftv1.AccessKeyRecord, error) {
	return get(tx, bucketAccessKeys, []byte(id), func() *blobdraftv1.AccessKeyRecord { return &blobdraftv1.AccessKeyRecord{} })
}

func hasPrefix(k, prefix []byte) bool {
	return len(k) >= len(prefix) && string(k[:len(prefix)]) == string(prefix)
}

// anyWithPrefix reports whether b has a key starting with prefix.
func anyWithPrefix(b *bbolt.Bucket, prefix []byte) bool {
	k, _ := b.Cursor().Seek(prefix)
	return k != nil && hasPrefix(k, prefix)
}

// uploadParts returns an upload's parts in number order.
func uploadParts(tx *bbolt.Tx, uploadID string) ([]*blobdraftv1.PartRecord, error) {
	var out []*blobdraftv1.PartRecord
	prefix := []byte(uploadID)
	c := tx.Bucket(bucketParts).Cursor()
	for k, v := c.Seek(prefix); k != nil && hasPrefix(k, prefix); k, v = c.Next() {
		p, err := unmarshal("part", k, v, &blobdraftv1.PartRecord{})
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}
