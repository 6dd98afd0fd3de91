package query

import (
	"testing"
	"time"
)

func TestDateMath(t *testing.T) {
	now := time.Date(2024, 3, 15, 13, 45, 30, 0, time.UTC)
	ms := func(s string) int64 {
		d, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return d.UnixMilli()
	}
	for _, c := range []struct {
		expr    string
		roundUp bool
		want    int64
	}{
		{"now", false, now.UnixMilli()},
		{"now-1d", false, ms("2024-03-14T13:45:30Z")},
		{"now-1d/d", false, ms("2024-03-14T00:00:00Z")},
		{"now-1d/d", true, ms("2024-03-14T23:59:59.999Z")},
		{"now+2h", false, ms("2024-03-15T15:45:30Z")},
		{"now-1M/M", false, ms("2024-02-01T00:00:00Z")},
		{"now/y", false, ms("2024-01-01T00:00:00Z")},
		{"now-1w/w", false, ms("2024-03-04T00:00:00Z")},
		{"now-30m", false, ms("2024-03-15T13:15:30Z")},
		{"now-10s", false, ms("2024-03-15T13:45:20Z")},
		// A month added to January 31 clamps to the end of February, as
		// Elasticsearch (Java time) does.
		{"2024-01-31||+1M/d", false, ms("2024-02-29T00:00:00Z")},
		{"2024-01-02", false, ms("2024-01-02T00:00:00Z")},
		{"2024-01-02T03:04:05Z", false, ms("2024-01-02T03:04:05Z")},
		{"2024-01-02T03:04:05+01:00", false, ms("2024-01-02T02:04:05Z")},
		{"1700000000000", false, 1700000000000},
	} {
		got, err := parseDateMath(c.expr, now, c.roundUp)
		if err != nil || got != c.want {
			t.Errorf("%s (up %v) = %d, %v; want %d", c.expr, c.roundUp, got, err, c.want)
		}
	}
	for _, bad := range []string{"now-1x", "now-", "tomorrow", "now/"} {
		if _, err := parseDateMath(bad, now, false); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}
