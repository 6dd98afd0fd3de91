package searchchaos

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/cluster/chaos"
)

func put(id string, out chaos.Outcome) chaos.Op {
	return chaos.Op{Kind: KindPut, Key: id, Value: "h-" + id, Outcome: out}
}

func del(id string, out chaos.Outcome) chaos.Op {
	return chaos.Op{Kind: KindDelete, Key: id, Outcome: out}
}

func TestExpectations(t *testing.T) {
	got := expectations([]chaos.Op{
		put("a", chaos.OK),
		put("b", chaos.Fail),
		put("c", chaos.Unknown),
		put("d", chaos.OK), del("d", chaos.OK),
		put("e", chaos.OK), del("e", chaos.Fail),
		put("f", chaos.OK), del("f", chaos.Unknown),
	})
	want := map[string]expect{"a": present, "b": absent, "c": either, "d": absent, "e": present, "f": either}
	for id, w := range want {
		require.Equal(t, w, got[id].want, "document %s", id)
		require.Equal(t, "h-"+id, got[id].hash)
	}
}

func TestJudge(t *testing.T) {
	want := expectations([]chaos.Op{
		put("a", chaos.OK), put("b", chaos.Fail), put("c", chaos.Unknown),
		put("d", chaos.OK), del("d", chaos.OK), put("e", chaos.OK),
	})
	t.Run("consistent", func(t *testing.T) {
		var v chaos.Verdict
		judge(&v, "n1", want, map[string]string{"a": "h-a", "c": "h-c", "e": "h-e"})
		require.True(t, v.Pass(), "%v", v.Violations)
	})
	t.Run("lost, resurrected, corrupt, phantom", func(t *testing.T) {
		var v chaos.Verdict
		judge(&v, "n1", want, map[string]string{"b": "h-b", "d": "h-d", "e": "other", "z": "h-z"})
		require.Equal(t, 5, v.Count, "%v", v.Violations)
		all := strings.Join(v.Violations, "\n")
		for _, s := range []string{"document a not found", "document b found", "document d found",
			"document e has source hash other", "document z found but never written"} {
			require.Contains(t, all, s)
		}
	})
}
