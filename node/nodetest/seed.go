package nodetest

import (
	"os"
	"strconv"
	"testing"
	"time"
)

// SeedEnv names the environment variable that replays a randomised test:
// when it is set, Seed returns its value instead of a fresh one.
const SeedEnv = "CAIRN_TEST_SEED"

// Seed returns the seed for a randomised test — CAIRN_TEST_SEED when set,
// else one from the clock — and logs it with the command that replays it, so
// that a failure seen once (in CI, say) can be run again exactly.
func Seed(t testing.TB) uint64 {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv(SeedEnv); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: %v", SeedEnv, v, err)
		}
		seed = s
	}
	t.Logf("seed %d; replay with %s=%d go test -run '^%s$'", seed, SeedEnv, seed, t.Name())
	return seed
}
