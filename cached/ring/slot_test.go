package ring

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSlotRedis pins Slot to the answers of redis-server 7.0's CLUSTER
// KEYSLOT, hash tags included.
func TestSlotRedis(t *testing.T) {
	tests := []struct {
		key  string
		want int
	}{
		{"", 0},
		{"foo", 12182},
		{"bar", 5061},
		{"somekey", 11058},
		{"123456789", 12739}, // CRC-16/XMODEM check value 0x31c3
		{"{user1}:a", 8106},
		{"{user1}:b", 8106},
		{"user1", 8106},
		{"{}", 15257},       // empty tag: the whole key
		{"{}x", 10595},      // empty tag: the whole key
		{"a{}{b}", 15033},   // only the first '{' counts, and its tag is empty
		{"{{a}}", 10276},    // tag "{a"
		{"{a", 10276},       // no '}': the whole key
		{"{a}}", 15495},     // tag "a"
		{"x{a}y{b}", 15495}, // the first tag
		{"{{}}", 4092},      // tag "{"
		{"foo{bar", 15278},  // no '}' after the '{'
		{"foo}bar{", 11073}, // '}' before the '{' does not close it
		{"}a{b}", 3300},     // tag "b"
		{"key:00000001", 7675},
		{"é", 10180},
		{"\xff\x01", 5086},
		{"{user1000}.following", 3443},
		{"{user1000}.followers", 3443},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, Slot(tt.key), "Slot(%q)", tt.key)
	}
}

// TestSlotPlacement checks that a key's owner is its slot's, that replica
// sets start at it, and that the slots form one run per point that is
// followed by another member's (about members×vnodes runs) covering every
// slot once.
func TestSlotPlacement(t *testing.T) {
	for _, n := range []int{1, 3, 5} {
		r := New(members(n), 0)
		for _, k := range keys(2000) {
			o, ok := r.Owner(k)
			require.True(t, ok)
			so, _ := r.OwnerOfSlot(Slot(k))
			require.Equal(t, so, o)
			require.Equal(t, o, r.Owners(k, 2)[0])
			tagged, _ := r.Owner("{" + k + "}:suffix")
			require.Equal(t, o, tagged, "a hash tag places a key with the tag's owner")
		}
		ranges := r.SlotRanges()
		next := 0
		for i, sr := range ranges {
			require.Equal(t, next, sr.Start, "runs are consecutive")
			require.LessOrEqual(t, sr.Start, sr.End)
			if i > 0 {
				require.NotEqual(t, ranges[i-1].Owner.ID, sr.Owner.ID, "runs are maximal")
			}
			for s := sr.Start; s <= sr.End; s++ {
				o, _ := r.OwnerOfSlot(s)
				require.Equal(t, sr.Owner, o)
			}
			next = sr.End + 1
		}
		require.Equal(t, Slots, next, "the runs cover every slot")
		if n > 1 {
			// A run ends at each point whose successor belongs to another
			// member: about (n-1)/n of the n×vnodes points.
			want := float64(n*DefaultVNodes) * float64(n-1) / float64(n)
			require.InEpsilon(t, want, float64(len(ranges)), 0.15)
		}
		t.Logf("members=%d: %d slot ranges", n, len(ranges))
	}
	_, ok := New(members(3), 0).OwnerOfSlot(Slots)
	require.False(t, ok)
	_, ok = New(members(3), 0).OwnerOfSlot(-1)
	require.False(t, ok)
	require.Nil(t, New(nil, 0).SlotRanges())
}

// TestSlotPosition checks the slot-to-point rule against a direct search:
// slot s belongs to the first point at or after s<<50, wrapping.
func TestSlotPosition(t *testing.T) {
	r := New(members(4), 40)
	for s := range Slots {
		pos := uint64(s) << slotShift
		i, _ := slices.BinarySearch(r.points, pos)
		if i == len(r.points) {
			i = 0
		}
		o, _ := r.OwnerOfSlot(s)
		require.Equal(t, r.members[r.owners[i]], o, fmt.Sprintf("slot %d", s))
	}
}

func BenchmarkSlot(b *testing.B) {
	ks := keys(1024)
	i := 0
	for b.Loop() {
		_ = Slot(ks[i&1023])
		i++
	}
}

// TestCRC16 checks the four-byte steps against the bit-by-bit definition on
// every length up to 40.
func TestCRC16(t *testing.T) {
	bitwise := func(s string) uint16 {
		var crc uint16
		for i := 0; i < len(s); i++ {
			crc ^= uint16(s[i]) << 8
			for range 8 {
				if crc&0x8000 != 0 {
					crc = crc<<1 ^ 0x1021
				} else {
					crc <<= 1
				}
			}
		}
		return crc
	}
	require.Equal(t, uint16(0x31c3), crc16("123456789"))
	b := make([]byte, 0, 40)
	for i := range 40 {
		require.Equal(t, bitwise(string(b)), crc16(string(b)), "length %d", i)
		b = append(b, byte(i*37+11))
	}
}

// FuzzSlot checks Slot against a direct reading of Redis's rule: the bytes
// between the first '{' and the first '}' after it, if any, else the key,
// through a bit-by-bit CRC-16/XMODEM.
func FuzzSlot(f *testing.F) {
	for _, k := range []string{"", "foo", "{user1}:a", "{}", "{{a}}", "a{}{b}", "}a{b}", "{a"} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, key string) {
		tag := key
		if i := indexByte(key, '{'); i >= 0 {
			if j := indexByte(key[i+1:], '}'); j > 0 {
				tag = key[i+1 : i+1+j]
			}
		}
		var crc uint16
		for i := 0; i < len(tag); i++ {
			crc ^= uint16(tag[i]) << 8
			for range 8 {
				if crc&0x8000 != 0 {
					crc = crc<<1 ^ 0x1021
				} else {
					crc <<= 1
				}
			}
		}
		require.Equal(t, int(crc%Slots), Slot(key), "Slot(%q)", key)
	})
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}
