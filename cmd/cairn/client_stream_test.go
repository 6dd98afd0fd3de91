package main

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/streamd/streamdtest"
)

// streamCLI runs cairn commands in-process against an in-process streamd
// cluster.
type streamCLI struct {
	t   *testing.T
	eps string
}

func (s *streamCLI) run(stdin string, args ...string) cliResult {
	var stdout, stderr syncBuffer
	root := newRootCmd()
	root.SetArgs(withEndpoints(args, s.eps))
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	root.SetIn(strings.NewReader(stdin))
	err := root.ExecuteContext(testCtx(s.t))
	return cliResult{stdout: stdout.String(), stderr: stderr.String(), err: err}
}

// ok runs a command that must succeed and returns its stdout.
func (s *streamCLI) ok(stdin string, args ...string) string {
	s.t.Helper()
	r := s.run(stdin, args...)
	require.NoError(s.t, r.err, "%v: %s", args, r.stderr)
	return r.stdout
}

// TestStreamCLI walks through topics, produce, group consume and group
// description with the cairn binary's commands.
func TestStreamCLI(t *testing.T) {
	c := streamdtest.New(t, 3, nil)
	s := &streamCLI{t: t, eps: strings.Join(c.Endpoints(), ",")}

	require.Contains(t, s.ok("", "stream", "topic", "create", "orders", "--partitions", "2", "--replication", "3", "--retention", "1h"),
		"created topic orders: 2 partitions, replication 3")
	require.Contains(t, s.ok("", "stream", "topic", "create", "orders", "--partitions", "2", "--replication", "3", "--retention", "1h"), "exists topic orders")
	r := s.run("", "stream", "topic", "create", "orders", "--partitions", "5")
	require.Error(t, r.err)
	require.NotZero(t, r.code())
	s.ok("", "stream", "topic", "create", "scratch")

	list := s.ok("", "stream", "topic", "list")
	require.Contains(t, list, "TOPIC")
	require.Regexp(t, `orders\s+2\s+3\s+1h0m0s`, list)
	require.Contains(t, list, "scratch")
	topics := jsonLines(t, s.ok("", "stream", "topic", "list", "--output", "json"))
	require.Len(t, topics, 2)

	// One value as an argument: its partition and offset.
	require.Equal(t, "partition 1 offset 0\n", s.ok("", "stream", "produce", "orders", "--partition", "1", "first"))
	// Lines of stdin, one record each, to the key's partition.
	out := jsonLines(t, s.ok("a\nb\nc\n", "stream", "produce", "orders", "--key", "user-7", "--output", "json"))
	require.Len(t, out, 3)
	part := out[0]["partition"]
	for i, o := range out {
		require.Equal(t, part, o["partition"], "a key keeps its partition")
		if part == float64(1) {
			require.EqualValues(t, i+1, o["offset"])
		} else {
			require.EqualValues(t, i, o["offset"])
		}
	}
	text := s.ok("x\ny\n", "stream", "produce", "orders", "--partition", "0", "--acks", "leader")
	require.Regexp(t, `^partition 0 offsets \d+-\d+ \(2 records\)\n$`, text)
	r = s.run("", "stream", "produce", "orders", "--acks", "most", "v")
	require.Equal(t, exitUsage, r.code())
	r = s.run("", "stream", "produce", "nope", "v")
	require.Error(t, r.err)

	d := s.ok("", "stream", "topic", "describe", "orders")
	require.Contains(t, d, "topic orders")
	require.Contains(t, d, "retention=1h0m0s")
	require.Contains(t, d, "HIGH-WATERMARK")
	desc := jsonLines(t, s.ok("", "stream", "topic", "describe", "orders", "--output", "json"))
	require.Len(t, desc, 1)
	parts := desc[0]["partitions"].([]any)
	require.Len(t, parts, 2)
	var hw int64
	for _, p := range parts {
		pm := p.(map[string]any)
		require.Len(t, pm["isr"], 3)
		hw += jsonInt(t, pm["high_watermark"])
	}
	require.EqualValues(t, 6, hw, "six records produced")

	// A group consumer reads everything once, in offset order per
	// partition, and commits it.
	recs := jsonLines(t, s.ok("", "stream", "consume", "orders", "--group", "billing", "--from-beginning", "--max", "6", "--output", "json"))
	require.Len(t, recs, 6)
	var got []string
	last := map[float64]float64{-1: 0}
	for _, rec := range recs {
		require.Equal(t, "orders", rec["topic"])
		p, off := rec["partition"].(float64), rec["offset"].(float64)
		if prev, ok := last[p]; ok {
			require.Greater(t, off, prev)
		}
		last[p] = off
		got = append(got, rec["value"].(string))
	}
	sort.Strings(got)
	require.Equal(t, []string{"a", "b", "c", "first", "x", "y"}, got)

	g := s.ok("", "stream", "groups", "describe", "billing")
	require.Contains(t, g, "group billing")
	require.Regexp(t, `orders\s+0\s+\d+\s+\d+\s+0`, g)
	require.Regexp(t, `orders\s+1\s+\d+\s+\d+\s+0`, g)
	gj := jsonLines(t, s.ok("", "stream", "groups", "describe", "billing", "--output", "json"))
	require.Len(t, gj, 1)
	for _, p := range gj[0]["partitions"].([]any) {
		pm := p.(map[string]any)
		require.Equal(t, pm["high_watermark"], pm["committed"], "everything committed: %v", pm)
	}
	require.Contains(t, s.ok("", "stream", "groups", "list"), "billing")

	// Another read by the group starts at its commits: nothing is left.
	s.ok("", "stream", "produce", "orders", "--partition", "0", "later")
	recs = jsonLines(t, s.ok("", "stream", "consume", "orders", "--group", "billing", "--max", "5", "--idle", "1s", "--output", "json"))
	require.Len(t, recs, 1)
	require.Equal(t, "later", recs[0]["value"])

	// Without a group: from the beginning of one partition.
	plain := s.ok("", "stream", "consume", "orders", "--partition", "1", "--from-beginning", "--max", "1")
	require.Equal(t, "1:0\tfirst\n", plain)

	require.Contains(t, s.ok("", "stream", "topic", "delete", "scratch"), "deleted topic scratch")
	require.NotContains(t, s.ok("", "stream", "topic", "list"), "scratch")
	r = s.run("", "stream", "topic", "describe", "scratch")
	require.Error(t, r.err)
}

// jsonInt reads an integer that protojson wrote as a number or a string.
func jsonInt(t *testing.T, v any) int64 {
	t.Helper()
	var n int64
	_, err := fmt.Sscan(fmt.Sprint(v), &n)
	require.NoError(t, err, "%v", v)
	return n
}
