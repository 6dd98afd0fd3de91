package ec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

func TestCompressRoundTrip(t *testing.T) {
	rng := newRand(t)
	text := textBytes(rng, 1<<20)
	for _, tc := range []struct {
		name string
		data []byte
		raw  bool
	}{
		{"empty", []byte{}, true},
		{"one byte", []byte{7}, true},
		{"zeros", make([]byte, 1<<20), false},
		{"text", text, false},
		{"text 8 MiB+1", append(bytes.Repeat(text, 8), '\n'), false},
		{"random", randomBytes(rng, 1<<20), true},
		{"random small", randomBytes(rng, 100), true},
		{"random 8 MiB", randomBytes(rng, 8<<20), true},
	} {
		frame, err := Compress(tc.data)
		if err != nil {
			t.Fatalf("%s: Compress: %v", tc.name, err)
		}
		raw := frame[0] == methodRaw
		if raw != tc.raw {
			t.Errorf("%s: stored raw=%v, want %v (%d → %d bytes)", tc.name, raw, tc.raw, len(tc.data), len(frame))
		}
		if raw && len(frame) != CompressHeaderSize+len(tc.data) {
			t.Errorf("%s: raw frame of %d bytes for %d", tc.name, len(frame), len(tc.data))
		}
		if !raw && len(frame) > len(tc.data)-len(tc.data)/32+CompressHeaderSize {
			t.Errorf("%s: compressed frame of %d bytes for %d", tc.name, len(frame), len(tc.data))
		}
		t.Logf("%s: %d → %d bytes (%.3f)", tc.name, len(tc.data), len(frame), float64(len(frame))/float64(max(1, len(tc.data))))
		got, err := Decompress(frame)
		if err != nil {
			t.Fatalf("%s: Decompress: %v", tc.name, err)
		}
		if !bytes.Equal(got, tc.data) || got == nil {
			t.Fatalf("%s: round trip differs", tc.name)
		}
		// An archive chunk is compressed, then erasure coded.
		shards, err := Encode(Scheme{4, 2}, frame)
		if err != nil {
			t.Fatal(err)
		}
		shards[0], shards[3] = nil, nil
		back, err := Decode(Scheme{4, 2}, shards)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := Decompress(back); err != nil || !bytes.Equal(got, tc.data) {
			t.Fatalf("%s: compress+encode round trip: %v", tc.name, err)
		}
	}
}

func TestDecompressRejects(t *testing.T) {
	rng := newRand(t)
	text, _ := Compress(textBytes(rng, 100000))
	raw, _ := Compress(randomBytes(rng, 1000))
	if text[0] != methodZstd || raw[0] != methodRaw {
		t.Fatal("fixtures did not get the expected methods")
	}
	mod := func(b []byte, fn func([]byte)) []byte {
		b = bytes.Clone(b)
		fn(b)
		return b
	}
	for _, tc := range []struct {
		name  string
		frame []byte
		want  error
	}{
		{"short", text[:CompressHeaderSize-1], ErrBadFrame},
		{"unknown method", mod(text, func(b []byte) { b[0] = 9 }), ErrBadFrame},
		{"reserved", mod(text, func(b []byte) { b[2] = 1 }), ErrBadFrame},
		{"huge length", mod(text, func(b []byte) { binary.LittleEndian.PutUint32(b[4:], MaxDataBytes+1) }), ErrBadFrame},
		{"zstd length off", mod(text, func(b []byte) { binary.LittleEndian.PutUint32(b[4:], 100001) }), ErrBadFrame},
		{"zstd truncated", text[:len(text)-10], ErrBadFrame},
		{"zstd body flipped", mod(text, func(b []byte) { b[len(b)/2] ^= 0x10 }), nil},
		{"zstd crc", mod(text, func(b []byte) { b[8] ^= 1 }), ErrCorrupt},
		{"raw truncated", raw[:len(raw)-1], ErrBadFrame},
		{"raw flipped", mod(raw, func(b []byte) { b[len(b)-1] ^= 1 }), ErrCorrupt},
		{"raw crc", mod(raw, func(b []byte) { b[11] ^= 0x80 }), ErrCorrupt},
	} {
		_, err := Decompress(tc.frame)
		switch {
		case err == nil:
			t.Errorf("%s: accepted", tc.name)
		case tc.want == nil && !errors.Is(err, ErrBadFrame) && !errors.Is(err, ErrCorrupt):
			t.Errorf("%s: %v, want ErrBadFrame or ErrCorrupt", tc.name, err)
		case tc.want != nil && !errors.Is(err, tc.want):
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := Compress(make([]byte, MaxDataBytes+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Compress over MaxDataBytes: %v", err)
	}
}
