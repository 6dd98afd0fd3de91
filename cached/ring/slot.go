package ring

import "strings"

// Slots is the number of hash slots, as in Redis Cluster.
const Slots = 16384

// slotShift places slot s at circle position s<<slotShift, s * 2^64/Slots.
const slotShift = 64 - 14

// Slot returns key's Redis Cluster hash slot: CRC16 (XMODEM) of the key, or
// of its hash tag, modulo Slots. The hash tag is the text between the first
// '{' and the first '}' after it, when that text is not empty; so
// "{user1}:a" and "{user1}:b" share a slot, while "{}x" and "a{}{b}" hash
// whole. Slot is Redis's keyHashSlot, bit for bit: it is part of the wire
// contract with Redis Cluster clients and must never change.
func Slot(key string) int {
	return int(crc16(hashTag(key)) & (Slots - 1))
}

// hashTag returns the part of key that Slot hashes.
func hashTag(key string) string {
	i := strings.IndexByte(key, '{')
	if i < 0 {
		return key
	}
	j := strings.IndexByte(key[i+1:], '}')
	if j <= 0 { // no '}' after the '{', or an empty tag "{}"
		return key
	}
	return key[i+1 : i+1+j]
}

// crc16 is CRC-16/XMODEM: polynomial 0x1021, initial value 0, no reflection.
// It takes four bytes a step ("slicing by 4"): CRC is linear, so the
// register after four bytes is the XOR of each byte's contribution, looked
// up in crc16Tables[k] (the CRC of a byte followed by k zero bytes), and the
// four loads do not wait for one another.
func crc16(s string) uint16 {
	t := &crc16Tables
	var crc uint16
	for ; len(s) >= 4; s = s[4:] {
		crc = t[3][byte(crc>>8)^s[0]] ^ t[2][byte(crc)^s[1]] ^ t[1][s[2]] ^ t[0][s[3]]
	}
	for i := 0; i < len(s); i++ {
		crc = crc<<8 ^ t[0][byte(crc>>8)^s[i]]
	}
	return crc
}

// crc16Tables[0][b] is the CRC of the byte b; crc16Tables[k][b] that of b
// followed by k zero bytes.
var crc16Tables = func() (t [4][256]uint16) {
	for i := range t[0] {
		c := uint16(i) << 8
		for range 8 {
			if c&0x8000 != 0 {
				c = c<<1 ^ 0x1021
			} else {
				c <<= 1
			}
		}
		t[0][i] = c
	}
	for k := 1; k < len(t); k++ {
		for i := range t[k] {
			p := t[k-1][i]
			t[k][i] = p<<8 ^ t[0][p>>8]
		}
	}
	return t
}()

// SlotRange is a run of consecutive slots, Start to End inclusive, with one
// owner.
type SlotRange struct {
	Start, End int
	Owner      Member
}
