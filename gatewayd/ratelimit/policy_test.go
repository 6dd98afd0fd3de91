package ratelimit

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/gatewayd/gwconfig"
)

func TestPolicyFor(t *testing.T) {
	for _, tc := range []struct {
		rl   gwconfig.RateLimit
		want Policy
	}{
		{gwconfig.RateLimit{By: "consumer", Limit: 10, Per: time.Minute, Scope: "global"},
			Policy{ID: "kv#2", Limit: 10, Per: time.Minute, Global: true}},
		{gwconfig.RateLimit{By: "ip", Limit: 5, Per: time.Second, Burst: 20, Scope: "local"},
			Policy{ID: "kv#2", Limit: 5, Per: time.Second, Burst: 20}},
		{gwconfig.RateLimit{By: "route", Limit: 1, Per: time.Hour},
			Policy{ID: "kv#2", Limit: 1, Per: time.Hour, Global: true}},
	} {
		require.Equal(t, tc.want, PolicyFor("kv", 2, tc.rl))
	}
}
