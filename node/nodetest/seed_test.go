package nodetest

import "testing"

func TestSeedFromEnvironment(t *testing.T) {
	t.Setenv(SeedEnv, "12345")
	if got := Seed(t); got != 12345 {
		t.Fatalf("Seed = %d, want 12345 from %s", got, SeedEnv)
	}
}

func TestSeedFromClockDiffers(t *testing.T) {
	t.Setenv(SeedEnv, "")
	if a, b := Seed(t), Seed(t); a == b {
		t.Fatalf("two clock seeds are equal: %d", a)
	}
}
