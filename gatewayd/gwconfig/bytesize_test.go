package gwconfig

import (
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestParseByteSize(t *testing.T) {
	good := map[string]ByteSize{
		"0": 0, "1048576": MiB, "512KiB": 512 * KiB, "10MiB": 10 * MiB, "1GiB": GiB,
		"1MB": 1_000_000, "2 KB": 2000, "7B": 7, "1TiB": 1 << 40, " 3 MiB ": 3 * MiB,
	}
	for s, want := range good {
		if got, err := ParseByteSize(s); err != nil || got != want {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", "MiB", "-1", "+1", "1.5MiB", "1mib", "1 Mi", "10XB", "9999999999TiB", "0x10", "1e3"} {
		if got, err := ParseByteSize(s); err == nil {
			t.Errorf("ParseByteSize(%q) = %d, want an error", s, got)
		}
	}
}

func TestByteSizeString(t *testing.T) {
	cases := map[ByteSize]string{0: "0", 1: "1B", 1500: "1500B", 3 * KiB: "3KiB", 10 * MiB: "10MiB", GiB: "1GiB", 3 << 40: "3TiB", MiB + 1: "1048577B"}
	for b, want := range cases {
		if got := b.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int64(b), got, want)
		}
		if back, err := ParseByteSize(b.String()); err != nil || back != b {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d", b.String(), back, err, int64(b))
		}
	}
}

func FuzzByteSize(f *testing.F) {
	for _, s := range []string{"1", "10MiB", "1GB", "x", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParseByteSize(s)
		if err != nil {
			return
		}
		if b < 0 {
			t.Fatalf("ParseByteSize(%q) = %d, negative", s, int64(b))
		}
		if back, err := ParseByteSize(b.String()); err != nil || back != b {
			t.Fatalf("%q → %d → %q → %d, %v", s, int64(b), b.String(), int64(back), err)
		}
	})
}

// TestByteSizeYAML checks the yaml.Marshaler and yaml.Unmarshaler methods
// used by callers of the yaml package directly.
func TestByteSizeYAML(t *testing.T) {
	var v struct {
		A ByteSize `yaml:"a"`
		B ByteSize `yaml:"b"`
	}
	if err := yaml.Unmarshal([]byte("a: 10MiB\nb: 1024\n"), &v); err != nil || v.A != 10*MiB || v.B != KiB {
		t.Fatalf("Unmarshal = %+v, %v", v, err)
	}
	if err := yaml.Unmarshal([]byte("a: 10 parsecs\n"), &v); err == nil {
		t.Error("Unmarshal accepted a bad size")
	}
	out, err := yaml.Marshal(v)
	if err != nil || string(out) != "a: 10MiB\nb: 1KiB\n" {
		t.Errorf("Marshal = %q, %v", out, err)
	}
}
