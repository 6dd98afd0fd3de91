package value

import (
	"strconv"
	"strings"
	"time"

	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

// pgEpochUnix is 2000-01-01 00:00:00 UTC, PostgreSQL's epoch, in Unix seconds.
const pgEpochUnix = 946684800

const secondsPerDay = 86400

// Range limits (PostgreSQL's): timestamps to 294276 AD, dates to 5874897 AD,
// both from 4713 BC.
const (
	minYear          = -4712 // 4713 BC
	maxTimestampYear = 294276
	maxDateYear      = 5874897
)

// toMicros returns t as microseconds since 2000-01-01 UTC.
func toMicros(t time.Time) int64 {
	return (t.Unix()-pgEpochUnix)*1e6 + int64(t.Nanosecond()/1000)
}

// fromMicros is the inverse of toMicros (UTC).
func fromMicros(us int64) time.Time {
	sec := us / 1e6
	rem := us % 1e6
	if rem < 0 {
		rem += 1e6
		sec--
	}
	return time.Unix(sec+pgEpochUnix, rem*1000).UTC()
}

// toDays returns the date of t (UTC) as days since 2000-01-01.
func toDays(t time.Time) int64 {
	s := t.Unix() - pgEpochUnix
	d := s / secondsPerDay
	if s%secondsPerDay < 0 {
		d--
	}
	return d
}

// fromDays is the inverse of toDays (midnight UTC).
func fromDays(d int64) time.Time {
	return time.Unix(d*secondsPerDay+pgEpochUnix, 0).UTC()
}

// wallUTC returns the wall clock of t re-labelled as UTC, rounded to the
// microsecond.
func wallUTC(t time.Time) time.Time {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	return roundMicro(time.Date(y, mo, d, h, mi, s, t.Nanosecond(), time.UTC))
}

// roundMicro rounds t to the microsecond (halves up, as PostgreSQL rounds
// fractional seconds on input).
func roundMicro(t time.Time) time.Time {
	ns := t.Nanosecond()
	r := ns % 1000
	t = t.Add(-time.Duration(r))
	if r >= 500 {
		t = t.Add(time.Microsecond)
	}
	return t
}

// midnight returns the date of t's wall clock at midnight UTC.
func midnight(t time.Time) time.Time {
	y, mo, d := t.Date()
	return time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)
}

// appendYMD appends the date part of t (UTC) in ISO style and reports
// whether the year is BC (the caller appends " BC").
func appendYMD(dst []byte, t time.Time) ([]byte, bool) {
	y, mo, d := t.Date()
	bc := false
	if y <= 0 {
		y = 1 - y
		bc = true
	}
	dst = appendPadded(dst, y, 4)
	dst = append(dst, '-')
	dst = appendPadded(dst, int(mo), 2)
	dst = append(dst, '-')
	dst = appendPadded(dst, d, 2)
	return dst, bc
}

func appendPadded(dst []byte, n, width int) []byte {
	s := strconv.Itoa(n)
	for i := len(s); i < width; i++ {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}

// appendDate appends t as PostgreSQL prints a date (ISO DateStyle).
func appendDate(dst []byte, t time.Time) []byte {
	dst, bc := appendYMD(dst, t)
	if bc {
		dst = append(dst, " BC"...)
	}
	return dst
}

// appendTimestamp appends t as PostgreSQL prints a timestamp (tz: with the
// session zone's offset, always +00 here): 2024-01-02 03:04:05.123456 with
// the fraction's trailing zeros trimmed.
func appendTimestamp(dst []byte, t time.Time, tz bool) []byte {
	dst, bc := appendYMD(dst, t)
	h, mi, s := t.Clock()
	dst = append(dst, ' ')
	dst = appendPadded(dst, h, 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, mi, 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, s, 2)
	if us := t.Nanosecond() / 1000; us != 0 {
		frac := []byte(strconv.Itoa(us + 1000000))[1:]
		for len(frac) > 0 && frac[len(frac)-1] == '0' {
			frac = frac[:len(frac)-1]
		}
		dst = append(dst, '.')
		dst = append(dst, frac...)
	}
	if tz {
		dst = append(dst, "+00"...)
	}
	if bc {
		dst = append(dst, " BC"...)
	}
	return dst
}

// dtParts is a parsed date/time literal.
type dtParts struct {
	year, month, day   int
	hour, min, sec, us int
	hasTime            bool
	hasZone            bool
	zoneSec            int  // seconds east of UTC
	zoneRange          bool // the offset is past ±15 hours
	yearZero           bool // year 0 written (out of range, not bad syntax)
}

// parseDateTime parses the ISO forms PostgreSQL accepts for t (a date,
// timestamp or timestamptz): 2024-01-02, 2024-01-02 03:04:05[.ffffff],
// a 'T' separator, zones Z, UTC, +02, +02:00, +0200, a trailing BC/AD, and
// M/D/Y dates. The zone is applied for timestamptz and ignored otherwise
// (PostgreSQL's rule for timestamp without time zone). Errors: 22007 for
// bad syntax, 22008 for fields out of range.
func parseDateTime(t Type, s string) (time.Time, error) {
	p, err := scanDateTime(s)
	if err != nil {
		return time.Time{}, sqlerr.New(sqlerr.InvalidDatetimeFormat, "invalid input syntax for type %s: %s", dtName(t), quoteInput(s))
	}
	rangeErr := func() error {
		return sqlerr.New(sqlerr.DatetimeFieldOverflow, "date/time field value out of range: %s", quoteInput(s))
	}
	if p.zoneRange {
		return time.Time{}, sqlerr.New(codeTZDisplacement, "time zone displacement out of range: %s", quoteInput(s))
	}
	if p.yearZero {
		return time.Time{}, rangeErr()
	}
	if p.month < 1 || p.month > 12 || p.day < 1 || p.day > daysIn(p.year, p.month) {
		return time.Time{}, rangeErr()
	}
	if p.min > 59 || p.sec > 60 || p.hour > 24 || (p.hour == 24 && (p.min > 0 || p.sec > 0 || p.us > 0)) {
		return time.Time{}, rangeErr()
	}
	if p.year < minYear {
		return time.Time{}, sqlerr.New(sqlerr.DatetimeFieldOverflow, "%s out of range: %s", dtRangeName(t), quoteInput(s))
	}
	if t.Kind == KindDate {
		if p.year > maxDateYear {
			return time.Time{}, sqlerr.New(sqlerr.DatetimeFieldOverflow, "date out of range: %s", quoteInput(s))
		}
		return time.Date(p.year, time.Month(p.month), p.day, 0, 0, 0, 0, time.UTC), nil
	}
	tm := time.Date(p.year, time.Month(p.month), p.day, p.hour, p.min, p.sec, p.us*1000, time.UTC)
	if t.Kind == KindTimestampTZ && p.hasZone {
		tm = tm.Add(-time.Duration(p.zoneSec) * time.Second)
	}
	if y := tm.Year(); y > maxTimestampYear || y < minYear {
		return time.Time{}, sqlerr.New(sqlerr.DatetimeFieldOverflow, "timestamp out of range: %s", quoteInput(s))
	}
	return tm, nil
}

func dtName(t Type) string {
	switch t.Kind {
	case KindDate:
		return "date"
	case KindTimestampTZ:
		return "timestamp with time zone"
	}
	return "timestamp"
}

func dtRangeName(t Type) string {
	if t.Kind == KindDate {
		return "date"
	}
	return "timestamp"
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// dtScanner walks a date/time literal.
type dtScanner struct {
	s string
	i int
}

func (sc *dtScanner) skipSpaces() {
	for sc.i < len(sc.s) && sc.s[sc.i] == ' ' {
		sc.i++
	}
}

// digits reads 1..max decimal digits (max 0: any number).
func (sc *dtScanner) digits(maxLen int) (int, int, bool) {
	start := sc.i
	for sc.i < len(sc.s) && sc.s[sc.i] >= '0' && sc.s[sc.i] <= '9' && (maxLen == 0 || sc.i-start < maxLen) {
		sc.i++
	}
	if sc.i == start || sc.i-start > 9 {
		return 0, 0, false
	}
	n, err := strconv.Atoi(sc.s[start:sc.i])
	return n, sc.i - start, err == nil
}

func (sc *dtScanner) eat(c byte) bool {
	if sc.i < len(sc.s) && sc.s[sc.i] == c {
		sc.i++
		return true
	}
	return false
}

func (sc *dtScanner) done() bool { return sc.i >= len(sc.s) }

var errDTSyntax = sqlerr.New(sqlerr.InvalidDatetimeFormat, "invalid date/time syntax")

func scanDateTime(s string) (dtParts, error) {
	var p dtParts
	sc := &dtScanner{s: strings.ToLower(strings.TrimSpace(s))}
	if sc.s == "epoch" {
		return dtParts{year: 1970, month: 1, day: 1}, nil
	}
	a, na, ok := sc.digits(0)
	if !ok {
		return p, errDTSyntax
	}
	switch {
	case na == 8 && (sc.done() || sc.s[sc.i] == ' ' || sc.s[sc.i] == 't'):
		// ISO 8601 basic format: YYYYMMDD.
		p.year, p.month, p.day = a/10000, a/100%100, a%100
	case sc.eat('-'):
		b, _, ok1 := sc.digits(2)
		ok2 := sc.eat('-')
		c, _, ok3 := sc.digits(2)
		if !ok1 || !ok2 || !ok3 {
			return p, errDTSyntax
		}
		p.year, p.month, p.day = a, b, c
	case sc.eat('/'):
		b, _, ok1 := sc.digits(2)
		ok2 := sc.eat('/')
		c, _, ok3 := sc.digits(0)
		if !ok1 || !ok2 || !ok3 {
			return p, errDTSyntax
		}
		if na > 2 {
			p.year, p.month, p.day = a, b, c // Y/M/D
		} else {
			p.year, p.month, p.day = c, a, b // M/D/Y (DateStyle MDY)
		}
	default:
		return p, errDTSyntax
	}
	// Time part.
	save := sc.i
	if sc.eat('t') || sc.eat(' ') {
		sc.skipSpaces()
		if h, _, ok := sc.digits(2); ok && sc.eat(':') {
			mi, _, ok := sc.digits(2)
			if !ok {
				return p, errDTSyntax
			}
			p.hasTime, p.hour, p.min = true, h, mi
			if sc.eat(':') {
				sec, _, ok := sc.digits(2)
				if !ok {
					return p, errDTSyntax
				}
				p.sec = sec
				if sc.eat('.') {
					start := sc.i
					for sc.i < len(sc.s) && sc.s[sc.i] >= '0' && sc.s[sc.i] <= '9' {
						sc.i++
					}
					p.us = fracMicros(sc.s[start:sc.i])
				}
			}
		} else {
			sc.i = save
		}
	}
	if p.sec == 60 {
		// A leap second reads as the next minute, as in PostgreSQL.
		p.sec = 59
		p.us += 1000000
	}
	if p.us >= 1000000 {
		// Rounding carried into the seconds; time.Date normalises.
		p.sec += p.us / 1000000
		p.us %= 1000000
	}
	sc.skipSpaces()
	// Zone.
	switch {
	case sc.eat('z'):
		p.hasZone = true
	case strings.HasPrefix(sc.s[sc.i:], "utc"), strings.HasPrefix(sc.s[sc.i:], "gmt"):
		sc.i += 3
		p.hasZone = true
	case sc.i < len(sc.s) && (sc.s[sc.i] == '+' || sc.s[sc.i] == '-'):
		sign := 1
		if sc.s[sc.i] == '-' {
			sign = -1
		}
		sc.i++
		h, n, ok := sc.digits(4)
		if !ok {
			return p, errDTSyntax
		}
		m, sec := 0, 0
		if n > 2 {
			if n != 4 {
				return p, errDTSyntax
			}
			h, m = h/100, h%100
		} else if sc.eat(':') {
			if m, _, ok = sc.digits(2); !ok {
				return p, errDTSyntax
			}
			if sc.eat(':') {
				if sec, _, ok = sc.digits(2); !ok {
					return p, errDTSyntax
				}
			}
		}
		if m > 59 || sec > 59 {
			return p, errDTSyntax
		}
		if h > 15 {
			p.zoneRange = true
		}
		p.hasZone = true
		p.zoneSec = sign * (h*3600 + m*60 + sec)
	}
	sc.skipSpaces()
	bc := false
	switch {
	case strings.HasPrefix(sc.s[sc.i:], "bc"):
		sc.i += 2
		if p.year == 0 {
			p.yearZero = true
		}
		p.year = 1 - p.year
		bc = true
	case strings.HasPrefix(sc.s[sc.i:], "ad"):
		sc.i += 2
	}
	sc.skipSpaces()
	if !sc.done() {
		return p, errDTSyntax
	}
	if p.year == 0 && !bc {
		p.yearZero = true
	}
	return p, nil
}

// fracMicros converts the digits after a seconds point to microseconds,
// rounding half up at the seventh digit.
func fracMicros(frac string) int {
	padded := frac
	for len(padded) < 7 {
		padded += "0"
	}
	us, _ := strconv.Atoi(padded[:6])
	if padded[6] >= '5' {
		us++
	}
	return us
}

// daysInRange reports whether d days since 2000-01-01 is a date PostgreSQL
// can hold (4713 BC to 5874897 AD).
func daysInRange(d int64) bool {
	if d < -3e9 || d > 3e9 {
		return false
	}
	y := fromDays(d).Year()
	return y >= minYear && y <= maxDateYear
}

// microsInRange reports whether us microseconds since 2000-01-01 is a
// timestamp PostgreSQL can hold (4713 BC to 294276 AD).
func microsInRange(us int64) bool {
	y := fromMicros(us).Year()
	return y >= minYear && y <= maxTimestampYear
}
