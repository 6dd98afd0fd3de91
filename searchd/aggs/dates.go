package aggs

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"cairn.dev/cairn/searchd/datemath"
)

// dateFormat renders and parses epoch milliseconds with one
// Elasticsearch date format: a built-in name or a Java-style pattern of
// the letters y u M d H m s S and quoted literals. Dates are UTC.
// "a||b" formats with a and parses with either.
type dateFormat struct {
	alts []dateLayout
}

type dateLayout struct {
	epoch  int64 // 1 for epoch_millis, 1000 for epoch_second, 0 otherwise
	tokens []dateToken
	// goLayout parses strings of this layout (empty: parse ISO 8601).
	goLayout string
}

type dateToken struct {
	letter byte // 0 for a literal
	width  int
	lit    string
}

const isoMillis = "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"

var namedFormats = map[string]string{
	"strict_date_optional_time":       isoMillis,
	"date_optional_time":              isoMillis,
	"strict_date_optional_time_nanos": isoMillis,
	"strict_date_time":                isoMillis,
	"date_time":                       isoMillis,
	"strict_date_time_no_millis":      "yyyy-MM-dd'T'HH:mm:ss'Z'",
	"date_time_no_millis":             "yyyy-MM-dd'T'HH:mm:ss'Z'",
	"strict_date":                     "yyyy-MM-dd",
	"date":                            "yyyy-MM-dd",
	"basic_date":                      "yyyyMMdd",
	"strict_date_hour_minute_second":  "yyyy-MM-dd'T'HH:mm:ss",
	"date_hour_minute_second":         "yyyy-MM-dd'T'HH:mm:ss",
	"strict_date_hour_minute":         "yyyy-MM-dd'T'HH:mm",
	"date_hour_minute":                "yyyy-MM-dd'T'HH:mm",
	"strict_year_month":               "yyyy-MM",
	"year_month":                      "yyyy-MM",
	"strict_year":                     "yyyy",
	"year":                            "yyyy",
}

// parseDateFormat parses a format; empty means the date field default,
// strict_date_optional_time||epoch_millis.
func parseDateFormat(s string) (*dateFormat, error) {
	if s == "" {
		s = "strict_date_optional_time||epoch_millis"
	}
	df := &dateFormat{}
	for _, alt := range strings.Split(s, "||") {
		alt = strings.TrimSpace(alt)
		switch alt {
		case "epoch_millis":
			df.alts = append(df.alts, dateLayout{epoch: 1})
			continue
		case "epoch_second":
			df.alts = append(df.alts, dateLayout{epoch: 1000})
			continue
		}
		pattern := alt
		if named, ok := namedFormats[alt]; ok {
			pattern = named
		}
		toks, err := tokenizePattern(pattern)
		if err != nil {
			return nil, err
		}
		df.alts = append(df.alts, dateLayout{tokens: toks, goLayout: goLayoutOf(toks)})
	}
	return df, nil
}

func tokenizePattern(p string) ([]dateToken, error) {
	var toks []dateToken
	for i := 0; i < len(p); {
		c := p[i]
		switch {
		case c == '\'':
			j := strings.IndexByte(p[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unterminated quote in date pattern [%s]", p)
			}
			toks = append(toks, dateToken{lit: p[i+1 : i+1+j]})
			i += j + 2
		case (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'):
			j := i
			for j < len(p) && p[j] == c {
				j++
			}
			switch c {
			case 'y', 'u', 'M', 'd', 'H', 'm', 's', 'S':
			case 'X', 'Z':
				// Zone: always UTC.
				toks = append(toks, dateToken{lit: "Z"})
				i = j
				continue
			default:
				return nil, fmt.Errorf("unsupported letter [%c] in date pattern [%s]", c, p)
			}
			if c == 'u' {
				c = 'y'
			}
			toks = append(toks, dateToken{letter: c, width: j - i})
			i = j
		default:
			toks = append(toks, dateToken{lit: string(c)})
			i++
		}
	}
	return toks, nil
}

// goLayoutOf translates tokens to a time.Parse layout, "" when there is
// none (such strings are parsed as ISO 8601).
func goLayoutOf(toks []dateToken) string {
	var b strings.Builder
	for _, t := range toks {
		switch t.letter {
		case 0:
			if strings.ContainsAny(t.lit, "0123456789") {
				return ""
			}
			b.WriteString(t.lit)
		case 'y':
			if t.width == 2 {
				b.WriteString("06")
			} else {
				b.WriteString("2006")
			}
		case 'M':
			b.WriteString("01")
		case 'd':
			b.WriteString("02")
		case 'H':
			b.WriteString("15")
		case 'm':
			b.WriteString("04")
		case 's':
			b.WriteString("05")
		case 'S':
			b.WriteString(strings.Repeat("0", t.width))
		}
	}
	return b.String()
}

// format renders epoch milliseconds with the first alternative.
func (df *dateFormat) format(ms int64) string {
	return string(df.appendFormat(nil, ms))
}

func (df *dateFormat) appendFormat(dst []byte, ms int64) []byte {
	l := df.alts[0]
	if l.epoch != 0 {
		return strconv.AppendInt(dst, ms/l.epoch, 10)
	}
	t := time.UnixMilli(ms).UTC()
	for _, tok := range l.tokens {
		switch tok.letter {
		case 0:
			dst = append(dst, tok.lit...)
		case 'y':
			y := t.Year()
			if tok.width == 2 {
				dst = appendPadded(dst, int64(y%100), 2)
			} else {
				dst = appendPadded(dst, int64(y), max(tok.width, 4))
			}
		case 'M':
			dst = appendPadded(dst, int64(t.Month()), tok.width)
		case 'd':
			dst = appendPadded(dst, int64(t.Day()), tok.width)
		case 'H':
			dst = appendPadded(dst, int64(t.Hour()), tok.width)
		case 'm':
			dst = appendPadded(dst, int64(t.Minute()), tok.width)
		case 's':
			dst = appendPadded(dst, int64(t.Second()), tok.width)
		case 'S':
			frac := int64(t.Nanosecond() / 1e6)
			s := fmt.Sprintf("%03d", frac)
			for len(s) < tok.width {
				s += "0"
			}
			dst = append(dst, s[:tok.width]...)
		}
	}
	return dst
}

func appendPadded(dst []byte, v int64, width int) []byte {
	if v < 0 {
		dst = append(dst, '-')
		v = -v
	}
	s := strconv.FormatInt(v, 10)
	for i := len(s); i < width; i++ {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}

// parse reads a date string with any alternative, then as ISO 8601.
func (df *dateFormat) parse(s string) (int64, error) {
	for _, l := range df.alts {
		if l.epoch != 0 {
			if v, err := strconv.ParseInt(s, 10, 64); err == nil {
				return v * l.epoch, nil
			}
			continue
		}
		if l.goLayout != "" {
			if t, err := time.Parse(l.goLayout, s); err == nil {
				return t.UnixMilli(), nil
			}
		}
	}
	return parseISODate(s)
}

var isoLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02T15",
	"2006-01-02",
	"2006-01",
	"2006",
}

func parseISODate(s string) (int64, error) {
	for _, l := range isoLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UnixMilli(), nil
		}
	}
	return 0, fmt.Errorf("cannot parse date [%s]", s)
}

// parseDateMath reads a date bound: epoch milliseconds, a date in df, or
// date math ("now-1d/d", "2024-01-01||+1M", package datemath) evaluated
// against now.
func parseDateMath(s string, df *dateFormat, now time.Time) (int64, error) {
	return datemath.Eval(s, now, false, df.parse)
}

// calendarUnit is a date_histogram calendar_interval.
type calendarUnit uint8

const (
	calMinute calendarUnit = iota + 1
	calHour
	calDay
	calWeek
	calMonth
	calQuarter
	calYear
)

func calendarUnitOf(s string) (calendarUnit, bool) {
	switch s {
	case "minute", "1m", "m":
		return calMinute, true
	case "hour", "1h", "h", "H":
		return calHour, true
	case "day", "1d", "d":
		return calDay, true
	case "week", "1w", "w":
		return calWeek, true
	case "month", "1M", "M":
		return calMonth, true
	case "quarter", "1q", "q":
		return calQuarter, true
	case "year", "1y", "y":
		return calYear, true
	}
	return 0, false
}

// round returns the start (UTC) of the unit holding ms. Weeks start on
// Monday, as ISO 8601 and Elasticsearch.
func (u calendarUnit) round(ms int64) int64 {
	t := time.UnixMilli(ms).UTC()
	y, mo, _ := t.Date()
	var r time.Time
	switch u {
	case calMinute:
		return floorDiv(ms, 60000) * 60000
	case calHour:
		return floorDiv(ms, 3600000) * 3600000
	case calDay:
		return floorDiv(ms, 86400000) * 86400000
	case calWeek:
		day := floorDiv(ms, 86400000)
		// 1970-01-01 was a Thursday: Monday-based weekday = (day+3) mod 7.
		return (day - floorMod(day+3, 7)) * 86400000
	case calMonth:
		r = time.Date(y, mo, 1, 0, 0, 0, 0, time.UTC)
	case calQuarter:
		r = time.Date(y, mo-(mo-1)%3, 1, 0, 0, 0, 0, time.UTC)
	case calYear:
		r = time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return r.UnixMilli()
}

// next returns the start of the unit after the one starting at ms.
func (u calendarUnit) next(ms int64) int64 {
	t := time.UnixMilli(ms).UTC()
	switch u {
	case calMinute:
		return ms + 60000
	case calHour:
		return ms + 3600000
	case calDay:
		return ms + 86400000
	case calWeek:
		return ms + 7*86400000
	case calMonth:
		return t.AddDate(0, 1, 0).UnixMilli()
	case calQuarter:
		return t.AddDate(0, 3, 0).UnixMilli()
	}
	return t.AddDate(1, 0, 0).UnixMilli()
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }

// parseFixedInterval reads "30m", "1h", "7d", "500ms", "10s" as
// milliseconds.
func parseFixedInterval(s string) (int64, error) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 || i == len(s) {
		return 0, fmt.Errorf("cannot parse fixed_interval [%s]: expected a number and a unit (ms, s, m, h, d)", s)
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("cannot parse fixed_interval [%s]: the number must be positive", s)
	}
	var unit int64
	switch s[i:] {
	case "ms":
		unit = 1
	case "s":
		unit = 1000
	case "m":
		unit = 60000
	case "h":
		unit = 3600000
	case "d":
		unit = 86400000
	default:
		return 0, fmt.Errorf("cannot parse fixed_interval [%s]: unknown unit [%s] (ms, s, m, h, d; months and years are calendar_interval)", s, s[i:])
	}
	return n * unit, nil
}
