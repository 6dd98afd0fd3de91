package raftkv

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/node/nodetest"
)

// scrape fetches the member's /metrics and returns the value of every sample
// named name (without labels) or name{labels}, keyed by the text before the
// value.
func scrape(t *testing.T, m *testMember) map[string]float64 {
	t.Helper()
	resp, err := http.Get("http://" + m.Server.AdminAddr() + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	out := map[string]float64{}
	for _, line := range regexp.MustCompile(`(?m)^(cairn_raft_[^ ]+) ([^ \n]+)$`).FindAllStringSubmatch(string(body), -1) {
		v, err := strconv.ParseFloat(line[2], 64)
		require.NoError(t, err, line[0])
		out[line[1]] = v
	}
	return out
}

func TestRaftMetricsOnTheAdminEndpoint(t *testing.T) {
	c := newTestCluster(t, 3, func(cfg *Config) { cfg.Server.AdminAddr = "127.0.0.1:0" })
	leader := c.Member(c.WaitLeader())
	for i := 0; i < 5; i++ {
		put(t, leader, "k"+strconv.Itoa(i), "v")
	}
	st := leader.Server.Node().Status()

	got := scrape(t, leader)
	require.Equal(t, float64(st.Term), got["cairn_raft_term"])
	require.Equal(t, 1.0, got["cairn_raft_is_leader"])
	require.Equal(t, 1.0, got["cairn_raft_has_leader"])
	require.Equal(t, 1.0, got[`cairn_raft_state{state="leader"}`])
	require.Equal(t, 0.0, got[`cairn_raft_state{state="follower"}`])
	require.Equal(t, 3.0, got["cairn_raft_voters"])
	require.GreaterOrEqual(t, got["cairn_raft_leader_changes_seen_total"], 1.0)
	require.GreaterOrEqual(t, got["cairn_raft_commit_index"], float64(st.AppliedIndex))
	require.GreaterOrEqual(t, got["cairn_raft_applied_index"], float64(st.AppliedIndex))
	require.GreaterOrEqual(t, got["cairn_raft_last_log_index"], got["cairn_raft_commit_index"])
	require.Greater(t, got["cairn_raft_log_bytes"], 0.0)
	require.GreaterOrEqual(t, got["cairn_raft_propose_duration_seconds_count"], 5.0)
	require.Greater(t, got["cairn_raft_log_append_duration_seconds_count"], 0.0)
	require.Greater(t, got["cairn_raft_apply_duration_seconds_count"], 0.0)

	// A follower reports itself as one, knows the leader, and applies too.
	for _, m := range c.Live() {
		if m == leader {
			continue
		}
		nodetest.WaitFor(t, 10*time.Second, m.ID+" to apply the puts", func() bool {
			return m.Server.Node().AppliedIndex() >= st.AppliedIndex
		})
		f := scrape(t, m)
		require.Equal(t, 0.0, f["cairn_raft_is_leader"], m.ID)
		require.Equal(t, 1.0, f[`cairn_raft_state{state="follower"}`], m.ID)
		require.Equal(t, 1.0, f["cairn_raft_has_leader"], m.ID)
		require.Greater(t, f["cairn_raft_apply_duration_seconds_count"], 0.0, m.ID)
	}

	// A snapshot shows up in the snapshot gauges.
	require.NoError(t, leader.Server.Node().Snapshot())
	got = scrape(t, leader)
	require.GreaterOrEqual(t, got["cairn_raft_last_snapshot_index"], float64(st.AppliedIndex))
	require.Greater(t, got["cairn_raft_snapshot_bytes"], 0.0)
}
