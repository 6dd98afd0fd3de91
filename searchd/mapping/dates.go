package mapping

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// DefaultDateFormat is a date field's format when it names none.
const DefaultDateFormat = "strict_date_optional_time||epoch_millis"

// dynamicDateFormats are the formats dynamic mapping detects dates with
// (Elasticsearch's dynamic_date_formats), each with the format a detected
// field gets.
var dynamicDateFormats = []struct {
	parse  func(string) (time.Time, bool)
	format string
}{
	{func(s string) (time.Time, bool) { return parseISO(s, true) }, ""},
	{mustPattern("yyyy/MM/dd HH:mm:ss").parse, "yyyy/MM/dd HH:mm:ss||yyyy/MM/dd||epoch_millis"},
	{mustPattern("yyyy/MM/dd").parse, "yyyy/MM/dd HH:mm:ss||yyyy/MM/dd||epoch_millis"},
}

// detectDate reports whether s is a date by the dynamic date formats, with
// the format for the field it makes.
func detectDate(s string) (string, bool) {
	if len(s) < 8 || s[0] < '0' || s[0] > '9' {
		return "", false
	}
	for _, d := range dynamicDateFormats {
		if _, ok := d.parse(s); ok {
			return d.format, true
		}
	}
	return "", false
}

// dateFormats is a parsed "format" ("a||b||c"): values are tried with each
// in turn.
type dateFormats struct {
	text    string
	parsers []func(string) (time.Time, bool)
	// epoch is the unit (in milliseconds) of the first epoch format listed,
	// 0 when none: JSON numbers are read in it.
	epoch int64
}

// namedFormats are Elasticsearch's built-in formats this package knows,
// as patterns ("" for the ones parsed by code).
var namedFormats = map[string]string{
	"strict_date_optional_time":       "",
	"date_optional_time":              "",
	"strict_date_optional_time_nanos": "",
	"epoch_millis":                    "",
	"epoch_second":                    "",
	"strict_date":                     "yyyy-MM-dd",
	"date":                            "yyyy-MM-dd",
	"strict_date_time":                "yyyy-MM-dd'T'HH:mm:ss.SSSZZ",
	"date_time":                       "yyyy-MM-dd'T'HH:mm:ss.SSSZZ",
	"strict_date_time_no_millis":      "yyyy-MM-dd'T'HH:mm:ssZZ",
	"date_time_no_millis":             "yyyy-MM-dd'T'HH:mm:ssZZ",
	"strict_date_hour_minute_second":  "yyyy-MM-dd'T'HH:mm:ss",
	"date_hour_minute_second":         "yyyy-MM-dd'T'HH:mm:ss",
	"strict_date_hour_minute":         "yyyy-MM-dd'T'HH:mm",
	"date_hour_minute":                "yyyy-MM-dd'T'HH:mm",
	"strict_date_hour":                "yyyy-MM-dd'T'HH",
	"date_hour":                       "yyyy-MM-dd'T'HH",
	"strict_year_month_day":           "yyyy-MM-dd",
	"year_month_day":                  "yyyy-MM-dd",
	"strict_year_month":               "yyyy-MM",
	"year_month":                      "yyyy-MM",
	"strict_year":                     "yyyy",
	"year":                            "yyyy",
	"basic_date":                      "yyyyMMdd",
	"basic_date_time":                 "yyyyMMdd'T'HHmmss.SSSZ",
	"basic_date_time_no_millis":       "yyyyMMdd'T'HHmmssZ",
	"strict_hour_minute_second":       "HH:mm:ss",
	"hour_minute_second":              "HH:mm:ss",
}

func parseDateFormats(format string) (*dateFormats, error) {
	df := &dateFormats{text: format}
	for _, name := range strings.Split(format, "||") {
		name = strings.TrimSpace(name)
		switch name {
		case "strict_date_optional_time", "date_optional_time", "strict_date_optional_time_nanos":
			df.parsers = append(df.parsers, func(s string) (time.Time, bool) { return parseISO(s, false) })
			continue
		case "epoch_millis", "epoch_second":
			unit := int64(1)
			if name == "epoch_second" {
				unit = 1000
			}
			if df.epoch == 0 {
				df.epoch = unit
			}
			df.parsers = append(df.parsers, func(s string) (time.Time, bool) { return parseEpoch(s, unit) })
			continue
		}
		pattern, named := namedFormats[name]
		if !named {
			pattern = name
		}
		p, err := compilePattern(pattern)
		if err != nil {
			return nil, fmt.Errorf("invalid date format [%s]: %v", name, err)
		}
		df.parsers = append(df.parsers, p.parse)
	}
	return df, nil
}

// parse returns value's epoch milliseconds.
func (df *dateFormats) parse(value string) (int64, error) {
	for _, p := range df.parsers {
		if t, ok := p(value); ok {
			return t.UnixMilli(), nil
		}
	}
	return 0, fmt.Errorf("failed to parse date [%s] with format [%s]", value, df.text)
}

// parseNumber returns the epoch milliseconds of a JSON number: in the
// unit of the first epoch format, else as text in the formats.
func (df *dateFormats) parseNumber(lit string) (int64, error) {
	if df.epoch != 0 {
		if t, ok := parseEpoch(lit, df.epoch); ok {
			return t.UnixMilli(), nil
		}
	}
	return df.parse(lit)
}

// parseEpoch parses a decimal count of unit milliseconds since the epoch,
// possibly negative and fractional.
func parseEpoch(s string, unit int64) (time.Time, bool) {
	if s == "" || strings.ContainsAny(s, "eE+") {
		return time.Time{}, false
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n > math.MaxInt64/unit || n < math.MinInt64/unit {
			return time.Time{}, false
		}
		return time.UnixMilli(n * unit).UTC(), true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f*float64(unit)) > 9e18 {
		return time.Time{}, false
	}
	return time.UnixMilli(int64(f * float64(unit))).UTC(), true
}

// digits reads exactly n digits from s at i.
func digits(s string, i, n int) (int, bool) {
	if i+n > len(s) {
		return 0, false
	}
	v := 0
	for j := i; j < i+n; j++ {
		c := s[j]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// parseISO parses strict_date_optional_time:
// yyyy[-MM[-dd]][T HH[:mm[:ss[.fraction]]][zone]], zone being Z, ±HH,
// ±HHmm or ±HH:mm (UTC when absent). fullDate requires yyyy-MM-dd.
func parseISO(s string, fullDate bool) (time.Time, bool) {
	year, ok := digits(s, 0, 4)
	if !ok {
		return time.Time{}, false
	}
	month, day := 1, 1
	i := 4
	parts := 1
	if i < len(s) && s[i] == '-' {
		if month, ok = digits(s, i+1, 2); !ok {
			return time.Time{}, false
		}
		i += 3
		parts++
		if i < len(s) && s[i] == '-' {
			if day, ok = digits(s, i+1, 2); !ok {
				return time.Time{}, false
			}
			i += 3
			parts++
		}
	}
	if fullDate && parts < 3 {
		return time.Time{}, false
	}
	var hour, min, sec, nsec int
	loc := time.UTC
	if i < len(s) {
		if s[i] != 'T' || parts < 3 {
			return time.Time{}, false
		}
		i++
		if hour, ok = digits(s, i, 2); !ok {
			return time.Time{}, false
		}
		i += 2
		if i < len(s) && s[i] == ':' {
			if min, ok = digits(s, i+1, 2); !ok {
				return time.Time{}, false
			}
			i += 3
			if i < len(s) && s[i] == ':' {
				if sec, ok = digits(s, i+1, 2); !ok {
					return time.Time{}, false
				}
				i += 3
				if i < len(s) && (s[i] == '.' || s[i] == ',') {
					if nsec, i, ok = fraction(s, i+1); !ok {
						return time.Time{}, false
					}
				}
			}
		}
		if i < len(s) {
			var n int
			if loc, n, ok = zone(s[i:], true); !ok || i+n != len(s) {
				return time.Time{}, false
			}
		}
	}
	return makeTime(year, month, day, hour, min, sec, nsec, loc)
}

// fraction reads 1 to 9 digits of a second's fraction from s at i.
func fraction(s string, i int) (nsec, end int, ok bool) {
	j := i
	for j < len(s) && j-i < 9 && s[j] >= '0' && s[j] <= '9' {
		nsec = nsec*10 + int(s[j]-'0')
		j++
	}
	if j == i {
		return 0, 0, false
	}
	for k := j - i; k < 9; k++ {
		nsec *= 10
	}
	return nsec, j, true
}

// zone reads a zone offset at the start of s: Z, ±HH, ±HHmm or ±HH:mm
// (colon: whether the colon form is allowed). It returns the location and
// the bytes read.
func zone(s string, colon bool) (*time.Location, int, bool) {
	if s == "" {
		return nil, 0, false
	}
	if s[0] == 'Z' {
		return time.UTC, 1, true
	}
	if s[0] != '+' && s[0] != '-' {
		return nil, 0, false
	}
	h, ok := digits(s, 1, 2)
	if !ok {
		return nil, 0, false
	}
	n, m := 3, 0
	if colon && len(s) > 3 && s[3] == ':' {
		if m, ok = digits(s, 4, 2); !ok {
			return nil, 0, false
		}
		n = 6
	} else if len(s) >= 5 {
		if v, ok := digits(s, 3, 2); ok {
			m, n = v, 5
		}
	}
	if h > 18 || m > 59 {
		return nil, 0, false
	}
	off := h*3600 + m*60
	if s[0] == '-' {
		off = -off
	}
	if off == 0 {
		return time.UTC, n, true
	}
	return time.FixedZone("", off), n, true
}

// makeTime checks the fields' ranges (time.Date would normalise them).
func makeTime(year, month, day, hour, min, sec, nsec int, loc *time.Location) (time.Time, bool) {
	if month < 1 || month > 12 || day < 1 || hour > 23 || min > 59 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, min, sec, nsec, loc)
	if t.Day() != day {
		return time.Time{}, false // February 30th and friends
	}
	return t, true
}

// datePattern is a compiled Java-style date pattern ("yyyy-MM-dd HH:mm").
type datePattern struct{ elems []patElem }

type patElem struct {
	letter byte   // 0 for a literal
	count  int    // letters in the run
	lit    string // the literal
}

func mustPattern(p string) *datePattern {
	dp, err := compilePattern(p)
	if err != nil {
		panic("mapping: bad built-in date pattern " + p)
	}
	return dp
}

func compilePattern(p string) (*datePattern, error) {
	if p == "" {
		return nil, fmt.Errorf("empty format")
	}
	dp := &datePattern{}
	for i := 0; i < len(p); {
		c := p[i]
		switch {
		case c == '\'':
			end := strings.IndexByte(p[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("unterminated quote")
			}
			lit := p[i+1 : i+1+end]
			if lit == "" {
				lit = "'"
			}
			dp.elems = append(dp.elems, patElem{lit: lit})
			i += end + 2
		case (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'):
			j := i
			for j < len(p) && p[j] == c {
				j++
			}
			if !strings.ContainsRune("yuMdHhmsSZXxaE", rune(c)) {
				return nil, fmt.Errorf("unsupported pattern letter %q", c)
			}
			dp.elems = append(dp.elems, patElem{letter: c, count: j - i})
			i = j
		default:
			dp.elems = append(dp.elems, patElem{lit: string(c)})
			i++
		}
	}
	return dp, nil
}

var monthNames = []string{"january", "february", "march", "april", "may", "june", "july",
	"august", "september", "october", "november", "december"}

var dayNames = []string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}

// number reads min to max digits from s at i.
func number(s string, i, min, max int) (int, int, bool) {
	v, j := 0, i
	for j < len(s) && j-i < max && s[j] >= '0' && s[j] <= '9' {
		v = v*10 + int(s[j]-'0')
		j++
	}
	if j-i < min {
		return 0, 0, false
	}
	return v, j, true
}

// name reads one of names (full, or its first three letters when short),
// case-insensitively, returning its index.
func name(s string, i int, names []string, short bool) (int, int, bool) {
	for k, n := range names {
		if short {
			n = n[:3]
		}
		if len(s)-i >= len(n) && strings.EqualFold(s[i:i+len(n)], n) {
			return k, i + len(n), true
		}
	}
	return 0, 0, false
}

func (dp *datePattern) parse(s string) (time.Time, bool) {
	year, month, day := 1970, 1, 1
	var hour, min, sec, nsec int
	pm, ampm := false, false
	loc := time.UTC
	i := 0
	var ok bool
	for _, e := range dp.elems {
		if e.letter == 0 {
			if !strings.HasPrefix(s[i:], e.lit) {
				return time.Time{}, false
			}
			i += len(e.lit)
			continue
		}
		switch e.letter {
		case 'y', 'u':
			switch e.count {
			case 2:
				if year, i, ok = number(s, i, 2, 2); ok {
					year += 2000
				}
			case 4:
				year, i, ok = number(s, i, 4, 4)
			default:
				year, i, ok = number(s, i, 4, 9)
			}
		case 'M':
			switch {
			case e.count >= 4:
				month, i, ok = name(s, i, monthNames, false)
				month++
			case e.count == 3:
				month, i, ok = name(s, i, monthNames, true)
				month++
			default:
				month, i, ok = number(s, i, e.count, 2)
			}
		case 'd':
			day, i, ok = number(s, i, e.count, 2)
		case 'H':
			hour, i, ok = number(s, i, e.count, 2)
		case 'h':
			hour, i, ok = number(s, i, e.count, 2)
			ampm = true
		case 'm':
			min, i, ok = number(s, i, e.count, 2)
		case 's':
			sec, i, ok = number(s, i, e.count, 2)
		case 'S':
			nsec, i, ok = fraction(s, i)
		case 'a':
			switch {
			case len(s)-i >= 2 && strings.EqualFold(s[i:i+2], "am"):
				ok = true
			case len(s)-i >= 2 && strings.EqualFold(s[i:i+2], "pm"):
				ok, pm = true, true
			}
			i += 2
		case 'E':
			_, i, ok = name(s, i, dayNames, e.count <= 3)
		case 'Z', 'X', 'x':
			var n int
			loc, n, ok = zone(s[i:], true)
			i += n
		}
		if !ok || i > len(s) {
			return time.Time{}, false
		}
	}
	if i != len(s) {
		return time.Time{}, false
	}
	if ampm {
		if hour < 1 || hour > 12 {
			return time.Time{}, false
		}
		hour %= 12
		if pm {
			hour += 12
		}
	}
	return makeTime(year, month, day, hour, min, sec, nsec, loc)
}
