package aggs

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDateFormats(t *testing.T) {
	ms := time.Date(2024, 3, 5, 7, 8, 9, 45e6, time.UTC).UnixMilli()
	for _, tc := range []struct{ format, want string }{
		{"", "2024-03-05T07:08:09.045Z"},
		{"epoch_millis", "1709622489045"},
		{"epoch_second||strict_date", "1709622489"},
		{"date", "2024-03-05"},
		{"yyyy/MM/dd HH:mm:ss.SSS", "2024/03/05 07:08:09.045"},
		{"yy-M-d'T'H", "24-3-5T7"},
		{"basic_date", "20240305"},
	} {
		df, err := parseDateFormat(tc.format)
		require.NoError(t, err, tc.format)
		assert.Equal(t, tc.want, df.format(ms), tc.format)
		got, err := df.parse(tc.want)
		if tc.format == "yy-M-d'T'H" {
			continue // not round-trippable with Go layouts
		}
		require.NoError(t, err, tc.format)
		assert.Equal(t, tc.want, df.format(got), tc.format)
	}
	_, err := parseDateFormat("yyyy-MM-dd EEE")
	assert.ErrorContains(t, err, "unsupported letter [E]")
	df, err := parseDateFormat("")
	require.NoError(t, err)
	assert.Equal(t, "1969-12-31T23:59:59.999Z", df.format(-1))
}

func TestDateMath(t *testing.T) {
	now := time.Date(2024, 3, 5, 7, 8, 9, 0, time.UTC)
	df, _ := parseDateFormat("")
	for _, tc := range []struct{ in, want string }{
		{"now", "2024-03-05T07:08:09Z"},
		{"now-1d/d", "2024-03-04T00:00:00Z"},
		{"now/M", "2024-03-01T00:00:00Z"},
		{"now+1h-30m", "2024-03-05T07:38:09Z"},
		{"now/w", "2024-03-04T00:00:00Z"},
		{"2024-01-31||+1M", "2024-02-29T00:00:00Z"},
		{"2024-02-10T10:00:00Z||/y", "2024-01-01T00:00:00Z"},
		{"1709622489045", "2024-03-05T07:08:09.045Z"},
	} {
		got, err := parseDateMath(tc.in, df, now)
		require.NoError(t, err, tc.in)
		want, _ := time.Parse(time.RFC3339Nano, tc.want)
		assert.Equal(t, want.UnixMilli(), got, tc.in)
	}
	for _, bad := range []string{"now-1", "now/x", "now*2", "tomorrow"} {
		_, err := parseDateMath(bad, df, now)
		assert.Error(t, err, bad)
	}
}

func TestCalendarRounding(t *testing.T) {
	at := func(s string) int64 {
		tm, err := time.Parse(time.RFC3339, s)
		require.NoError(t, err)
		return tm.UnixMilli()
	}
	for _, tc := range []struct {
		unit      calendarUnit
		in, round string
		next      string
	}{
		{calMinute, "1969-12-31T23:59:30Z", "1969-12-31T23:59:00Z", "1970-01-01T00:00:00Z"},
		{calDay, "1960-06-15T12:00:00Z", "1960-06-15T00:00:00Z", "1960-06-16T00:00:00Z"},
		{calWeek, "1970-01-01T00:00:00Z", "1969-12-29T00:00:00Z", "1970-01-05T00:00:00Z"},
		{calWeek, "2024-03-10T23:00:00Z", "2024-03-04T00:00:00Z", "2024-03-11T00:00:00Z"},
		{calMonth, "2024-01-31T10:00:00Z", "2024-01-01T00:00:00Z", "2024-02-01T00:00:00Z"},
		{calQuarter, "2024-06-30T10:00:00Z", "2024-04-01T00:00:00Z", "2024-07-01T00:00:00Z"},
		{calYear, "1969-06-30T10:00:00Z", "1969-01-01T00:00:00Z", "1970-01-01T00:00:00Z"},
	} {
		r := tc.unit.round(at(tc.in))
		assert.Equal(t, at(tc.round), r, tc.in)
		assert.Equal(t, at(tc.next), tc.unit.next(r), tc.in)
	}
	for in, want := range map[string]int64{"500ms": 500, "30m": 1800000, "1h": 3600000, "7d": 604800000, "10s": 10000} {
		got, err := parseFixedInterval(in)
		require.NoError(t, err)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "m", "0m", "1w", "1.5h"} {
		_, err := parseFixedInterval(bad)
		assert.Error(t, err, bad)
	}
}

// TestCollectAllocations: collecting a document allocates nothing once the
// collector has seen its keys.
func TestCollectAllocations(t *testing.T) {
	seg := buildSegment(append(shopDocs, shopDocs...))
	for _, body := range []string{
		`{"t":{"terms":{"field":"tag"}}}`,
		`{"t":{"terms":{"field":"tag"},"aggs":{"a":{"avg":{"field":"price"}},"s":{"terms":{"field":"stock"}}}}}`,
		`{"h":{"histogram":{"field":"price","interval":10},"aggs":{"m":{"max":{"field":"stock"}}}}}`,
		`{"d":{"range":{"field":"stock","ranges":[{"to":4},{"from":4}]}},"st":{"stats":{"field":"price"}}}`,
		`{"c":{"cardinality":{"field":"tag"}},"n":{"cardinality":{"field":"stock"}}}`,
	} {
		req, err := Parse([]byte(body), testMapping(), Limits{})
		require.NoError(t, err)
		c := NewCollector(req)
		c.SetSegment(seg)
		for d := range seg.MaxDoc() {
			c.Collect(d)
		}
		allocs := testing.AllocsPerRun(20, func() {
			for d := range seg.MaxDoc() {
				c.Collect(d)
			}
		})
		assert.Zero(t, allocs, body)
	}
}
