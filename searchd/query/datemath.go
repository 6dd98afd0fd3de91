package query

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// dateLayouts are the forms of strict_date_optional_time a date may take
// (with or without a zone; UTC when absent).
var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05",
	"2006-01-02",
	"2006-01",
	"2006",
}

// parseDate parses an absolute date: one of dateLayouts, or epoch
// milliseconds (an integer), as Elasticsearch's default date format
// strict_date_optional_time||epoch_millis.
func parseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil && (len(s) != 4 || strings.HasPrefix(s, "-")) {
		return time.UnixMilli(ms).UTC(), nil
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("cannot parse date %q (want strict_date_optional_time or epoch_millis)", s)
}

// parseDateMath evaluates Elasticsearch date math: an anchor ("now" or a
// date followed by "||") then operations "+N<unit>", "-N<unit>" and
// "/<unit>" with units y M w d h H m s. Rounding ("/d") rounds down, or up
// to the unit's last millisecond when roundUp (as gt and lte do). It
// returns epoch milliseconds.
func parseDateMath(s string, now time.Time, roundUp bool) (int64, error) {
	return evalDateMath(s, now, roundUp, func(v string) (int64, error) {
		t, err := parseDate(v)
		return t.UnixMilli(), err
	})
}

// evalDateMath is parseDateMath with absolute dates parsed by abs (epoch
// milliseconds).
func evalDateMath(s string, now time.Time, roundUp bool, abs func(string) (int64, error)) (int64, error) {
	var t time.Time
	var ops string
	switch {
	case strings.HasPrefix(s, "now"):
		t, ops = now.UTC(), s[len("now"):]
	case strings.Contains(s, "||"):
		i := strings.Index(s, "||")
		ms, err := abs(s[:i])
		if err != nil {
			return 0, err
		}
		t, ops = time.UnixMilli(ms).UTC(), s[i+2:]
	default:
		return abs(s)
	}
	for len(ops) > 0 {
		op := ops[0]
		ops = ops[1:]
		switch op {
		case '+', '-':
			j := 0
			for j < len(ops) && ops[j] >= '0' && ops[j] <= '9' {
				j++
			}
			n := 1
			if j > 0 {
				n, _ = strconv.Atoi(ops[:j])
			}
			if j >= len(ops) {
				return 0, fmt.Errorf("date math %q: missing unit", s)
			}
			unit := ops[j]
			ops = ops[j+1:]
			if op == '-' {
				n = -n
			}
			var err error
			if t, err = addUnit(t, unit, n); err != nil {
				return 0, fmt.Errorf("date math %q: %v", s, err)
			}
		case '/':
			if len(ops) == 0 {
				return 0, fmt.Errorf("date math %q: missing rounding unit", s)
			}
			unit := ops[0]
			ops = ops[1:]
			start, err := roundDown(t, unit)
			if err != nil {
				return 0, fmt.Errorf("date math %q: %v", s, err)
			}
			t = start
			if roundUp {
				next, _ := addUnit(start, unit, 1)
				t = next.Add(-time.Millisecond)
			}
		default:
			return 0, fmt.Errorf("date math %q: unexpected %q", s, op)
		}
	}
	return t.UnixMilli(), nil
}

func addUnit(t time.Time, unit byte, n int) (time.Time, error) {
	switch unit {
	case 'y':
		return t.AddDate(n, 0, 0), nil
	case 'M':
		return t.AddDate(0, n, 0), nil
	case 'w':
		return t.AddDate(0, 0, 7*n), nil
	case 'd':
		return t.AddDate(0, 0, n), nil
	case 'h', 'H':
		return t.Add(time.Duration(n) * time.Hour), nil
	case 'm':
		return t.Add(time.Duration(n) * time.Minute), nil
	case 's':
		return t.Add(time.Duration(n) * time.Second), nil
	}
	return t, fmt.Errorf("unknown unit %q", unit)
}

func roundDown(t time.Time, unit byte) (time.Time, error) {
	y, mo, d := t.Date()
	switch unit {
	case 'y':
		return time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC), nil
	case 'M':
		return time.Date(y, mo, 1, 0, 0, 0, 0, time.UTC), nil
	case 'w':
		day := time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)
		back := (int(day.Weekday()) + 6) % 7 // weeks start on Monday
		return day.AddDate(0, 0, -back), nil
	case 'd':
		return time.Date(y, mo, d, 0, 0, 0, 0, time.UTC), nil
	case 'h', 'H':
		return t.Truncate(time.Hour), nil
	case 'm':
		return t.Truncate(time.Minute), nil
	case 's':
		return t.Truncate(time.Second), nil
	}
	return t, fmt.Errorf("unknown unit %q", unit)
}
