package query

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"cairn.dev/cairn/searchd/datemath"
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

// parseDateMath evaluates Elasticsearch date math (package datemath) with
// absolute dates in the default format (parseDate). It returns epoch
// milliseconds.
func parseDateMath(s string, now time.Time, roundUp bool) (int64, error) {
	return datemath.Eval(s, now, roundUp, func(v string) (int64, error) {
		t, err := parseDate(v)
		return t.UnixMilli(), err
	})
}
