package store

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// Receipt is what a receipt handle names: one delivery of one message.
type Receipt struct {
	// QueueID is the id of the queue's buckets when the message was delivered.
	QueueID uint64
	// Sequence is the message's sequence in that queue.
	Sequence uint64
	// Nonce is the Raft index of the entry that delivered the message.
	Nonce uint64
}

// receiptVersion is the first byte of every receipt handle.
const receiptVersion = 1

// receiptLen is the length of a decoded receipt handle: version, queue id,
// sequence, nonce, check byte.
const receiptLen = 1 + 8 + 8 + 8 + 1

// String encodes r as an opaque receipt handle: base64url (no padding) of a
// version byte, the three numbers big-endian and a check byte.
func (r Receipt) String() string {
	var b [receiptLen]byte
	b[0] = receiptVersion
	binary.BigEndian.PutUint64(b[1:], r.QueueID)
	binary.BigEndian.PutUint64(b[9:], r.Sequence)
	binary.BigEndian.PutUint64(b[17:], r.Nonce)
	b[25] = checkByte(b[:25])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ParseReceipt decodes a receipt handle made by Receipt.String. A handle that
// is not one fails with ErrReceiptInvalid.
func ParseReceipt(handle string) (Receipt, error) {
	if base64.RawURLEncoding.DecodedLen(len(handle)) != receiptLen {
		return Receipt{}, fmt.Errorf("%w: %d characters", ErrReceiptInvalid, len(handle))
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(handle)
	if err != nil || len(b) != receiptLen {
		return Receipt{}, fmt.Errorf("%w: not base64url", ErrReceiptInvalid)
	}
	if b[0] != receiptVersion {
		return Receipt{}, fmt.Errorf("%w: version %d", ErrReceiptInvalid, b[0])
	}
	if b[25] != checkByte(b[:25]) {
		return Receipt{}, fmt.Errorf("%w: check byte", ErrReceiptInvalid)
	}
	r := Receipt{
		QueueID:  binary.BigEndian.Uint64(b[1:]),
		Sequence: binary.BigEndian.Uint64(b[9:]),
		Nonce:    binary.BigEndian.Uint64(b[17:]),
	}
	if r.QueueID == 0 || r.Sequence == 0 || r.Nonce == 0 {
		return Receipt{}, fmt.Errorf("%w: zero field", ErrReceiptInvalid)
	}
	return r, nil
}

// checkByte folds the CRC-32 of b into one byte.
func checkByte(b []byte) byte {
	c := crc32.ChecksumIEEE(b)
	return byte(c) ^ byte(c>>8) ^ byte(c>>16) ^ byte(c>>24)
}
