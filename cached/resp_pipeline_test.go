package cached

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// pipeline sends cmds in one write and returns the rendered replies.
func (c *respClient) pipeline(cmds ...[]string) []string {
	c.t.Helper()
	for _, args := range cmds {
		c.wr.CommandString(args...)
	}
	require.NoError(c.t, c.wr.Flush())
	out := make([]string, len(cmds))
	for i := range cmds {
		rep, err := c.rd.ReadReply()
		require.NoError(c.t, err, "reply %d of %d", i, len(cmds))
		out[i] = rep.String()
	}
	return out
}

// A pipeline of mixed local and forwarded commands, with barriers (MGET, DEL
// over several owners) in the middle, answers in order like a single map.
func TestRESPPipelineModel(t *testing.T) { forEachRESPIOStaying(t, testRESPPipelineModel) }

func testRESPPipelineModel(t *testing.T, tune func(*Config)) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	c := newTestCluster(t, 3, tune)
	clients := make([]*respClient, 3)
	for i, nd := range c.nodes {
		clients[i] = dialRESP(t, nd.srv.RESPAddr())
	}
	model := map[string]string{}
	key := func() string { return fmt.Sprintf("p%d", rng.IntN(30)) }
	q := func(k string) string {
		if v, ok := model[k]; ok {
			return strconv.Quote(v)
		}
		return "(nil)"
	}
	for round := range 40 {
		var cmds [][]string
		var want []string
		for range 1 + rng.IntN(300) { // beyond pipelineMaxCmds at times
			k := key()
			switch rng.IntN(10) {
			case 0, 1, 2:
				v := strconv.Itoa(rng.IntN(1000))
				cmds, want = append(cmds, []string{"SET", k, v}), append(want, "OK")
				model[k] = v
			case 3, 4, 5:
				cmds, want = append(cmds, []string{"GET", k}), append(want, q(k))
			case 6:
				v := model[k]
				cmds, want = append(cmds, []string{"APPEND", k, "z"}), append(want, fmt.Sprintf("(integer) %d", len(v)+1))
				model[k] = v + "z"
			case 7:
				k2 := key()
				cmds, want = append(cmds, []string{"MGET", k, k2}), append(want, "["+q(k)+", "+q(k2)+"]")
			case 8:
				n := 0
				if _, ok := model[k]; ok {
					n = 1
				}
				cmds, want = append(cmds, []string{"DEL", k}), append(want, fmt.Sprintf("(integer) %d", n))
				delete(model, k)
			case 9:
				cmds, want = append(cmds, []string{"PING"}), append(want, "PONG")
			}
		}
		got := clients[rng.IntN(3)].pipeline(cmds...)
		require.Equal(t, want, got, "round %d", round)
	}
}

// Commands on one key in one pipeline apply in order on the key's owner, and
// a multi-owner MGET sees everything queued before it.
func TestRESPPipelineOrderAndBarrier(t *testing.T) {
	forEachRESPIOStaying(t, testRESPPipelineOrderAndBarrier)
}

func testRESPPipelineOrderAndBarrier(t *testing.T, tune func(*Config)) {
	c := newTestCluster(t, 3, tune)
	rc := dialRESP(t, c.nodes[0].srv.RESPAddr())
	k0, k1, k2 := c.keyOwnedBy(0, "o-"), c.keyOwnedBy(1, "o-"), c.keyOwnedBy(2, "o-")
	got := rc.pipeline(
		[]string{"SET", k1, "a"},
		[]string{"GET", k1},
		[]string{"SET", k2, "b"},
		[]string{"INCR", k0},
		[]string{"APPEND", k1, "c"},
		[]string{"MGET", k0, k1, k2},
		[]string{"SET", k2, "d"},
		[]string{"GET", k2},
		[]string{"GET", k1},
		[]string{"DEL", k0, k1},
		[]string{"GET", k1},
		[]string{"EXISTS", k0, k1, k2},
	)
	require.Equal(t, []string{
		"OK", `"a"`, "OK", "(integer) 1", "(integer) 2",
		`["1", "ac", "b"]`,
		"OK", `"d"`, `"ac"`,
		"(integer) 2", "(nil)", "(integer) 1",
	}, got)
	require.Positive(t, c.nodes[0].srv.metrics.forwarded.Load())
}

// A stopped owner fails its commands one by one (writes: an error; reads: a
// miss) without holding up the rest of the pipeline.
func TestRESPPipelineOwnerDown(t *testing.T) { forEachRESPIOStaying(t, testRESPPipelineOwnerDown) }

func testRESPPipelineOwnerDown(t *testing.T, tune func(*Config)) {
	c := newTestCluster(t, 3, tune)
	rc := dialRESP(t, c.nodes[0].srv.RESPAddr())
	k0, k1, k2 := c.keyOwnedBy(0, "d-"), c.keyOwnedBy(1, "d-"), c.keyOwnedBy(2, "d-")
	require.Equal(t, []string{"OK", "OK", "OK"}, rc.pipeline(
		[]string{"SET", k0, "x"}, []string{"SET", k1, "y"}, []string{"SET", k2, "z"}))
	c.stop(2)
	got := rc.pipeline(
		[]string{"GET", k2},
		[]string{"SET", k2, "w"},
		[]string{"GET", k1},
		[]string{"GET", k0},
		[]string{"SET", k2, "v"},
		[]string{"SET", k1, "y2"},
		[]string{"GET", k1},
	)
	require.Equal(t, "(nil)", got[0])
	require.Contains(t, got[1], "(error) ERR cached: key owner unreachable")
	require.Equal(t, []string{`"y"`, `"x"`}, got[2:4])
	require.Contains(t, got[4], "(error) ERR cached: key owner unreachable")
	require.Equal(t, []string{"OK", `"y2"`}, got[5:])
}
