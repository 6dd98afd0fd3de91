// Package datemath evaluates Elasticsearch date math, shared by range
// queries (searchd/query) and date range aggregations (searchd/aggs): an
// anchor — "now", or a date followed by "||" — then operations "+N<unit>",
// "-N<unit>" and "/<unit>" (round), with units y M w d h H m s. Months and
// years added to a day past the target month's end clamp to its last day
// (January 31 + 1M is February 28 or 29), as Java's time does; weeks start
// on Monday; everything is UTC.
package datemath

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Eval evaluates s against now and returns epoch milliseconds. A string
// without an anchor is an absolute date, parsed by abs (which returns epoch
// milliseconds), as is the date before "||". Rounding ("/d") rounds down,
// or, with roundUp, to the unit's last millisecond (as a range's gt and lte
// bounds do).
func Eval(s string, now time.Time, roundUp bool, abs func(string) (int64, error)) (int64, error) {
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
				var err error
				if n, err = strconv.Atoi(ops[:j]); err != nil {
					return 0, fmt.Errorf("date math [%s]: bad amount [%s]", s, ops[:j])
				}
			}
			if j >= len(ops) {
				return 0, fmt.Errorf("date math [%s]: missing unit", s)
			}
			unit := ops[j]
			ops = ops[j+1:]
			if op == '-' {
				n = -n
			}
			var err error
			if t, err = Add(t, unit, n); err != nil {
				return 0, fmt.Errorf("date math [%s]: %v", s, err)
			}
		case '/':
			if len(ops) == 0 {
				return 0, fmt.Errorf("date math [%s]: missing rounding unit", s)
			}
			unit := ops[0]
			ops = ops[1:]
			start, err := RoundDown(t, unit)
			if err != nil {
				return 0, fmt.Errorf("date math [%s]: %v", s, err)
			}
			t = start
			if roundUp {
				next, _ := Add(start, unit, 1)
				t = next.Add(-time.Millisecond)
			}
		default:
			return 0, fmt.Errorf("date math [%s]: unexpected [%c]", s, op)
		}
	}
	return t.UnixMilli(), nil
}

// Add adds n units to t.
func Add(t time.Time, unit byte, n int) (time.Time, error) {
	switch unit {
	case 'y':
		return addMonths(t, 12*n), nil
	case 'M':
		return addMonths(t, n), nil
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
	return t, fmt.Errorf("unknown unit [%c]", unit)
}

// addMonths adds n months, clamping the day to the target month's last.
func addMonths(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(n), 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return first.AddDate(0, 0, min(d, last)-1)
}

// RoundDown rounds t down to the start of its unit.
func RoundDown(t time.Time, unit byte) (time.Time, error) {
	t = t.UTC()
	y, mo, d := t.Date()
	switch unit {
	case 'y':
		return time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC), nil
	case 'M':
		return time.Date(y, mo, 1, 0, 0, 0, 0, time.UTC), nil
	case 'w':
		day := time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)
		back := (int(day.Weekday()) + 6) % 7
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
	return t, fmt.Errorf("unknown unit [%c]", unit)
}
