package schema

import "encoding/binary"

// Key prefixes (see the package comment for the layout).
const (
	rootPrefix       = "/cairn/sql/"
	catalogPrefix    = rootPrefix + "c/"
	tableDescPrefix  = catalogPrefix + "t/"
	seqDescPrefix    = catalogPrefix + "s/"
	seqCounterPrefix = rootPrefix + "s/"
	rolePrefix       = rootPrefix + "r/"
	rowPrefix        = rootPrefix + "t/"
)

var (
	keyVersion = []byte(catalogPrefix + "version")
	keyNextID  = []byte(catalogPrefix + "nextid")
)

// PrimaryIndexID is the index id of every table's primary index.
const PrimaryIndexID = 1

// firstTableID is the first id handed out; ids below it are reserved.
const firstTableID = 100

// indexPrefix returns the prefix of every key of index indexID of table tableID.
func indexPrefix(tableID, indexID uint32) []byte {
	b := make([]byte, 0, len(rowPrefix)+8+32)
	b = append(b, rowPrefix...)
	b = binary.BigEndian.AppendUint32(b, tableID)
	return binary.BigEndian.AppendUint32(b, indexID)
}

// tablePrefix returns the prefix of every row and index key of table tableID.
func tablePrefix(tableID uint32) []byte {
	b := make([]byte, 0, len(rowPrefix)+4)
	b = append(b, rowPrefix...)
	return binary.BigEndian.AppendUint32(b, tableID)
}

// prefixEnd returns the smallest key greater than every key starting with p
// (nil when p is all 0xff, meaning "no end").
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}
