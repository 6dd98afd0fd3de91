package value

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

const hexDigits = "0123456789abcdef"

// AppendText appends v in PostgreSQL's text output format: bool t/f,
// integers and numerics in decimal (numeric keeps its scale: 25.00), floats
// in the shortest form that reads back exactly, timestamps
// 2024-01-02 03:04:05.123456 (timestamptz with +00), dates 2024-01-02,
// bytea \x0102, jsonb as jsonb prints, char(n) blank-padded. The result is
// never nil for a non-NULL value, even an empty one. A NULL appends nothing:
// the caller sends NULL out of band.
func AppendText(dst []byte, v Value) []byte {
	if v.Null {
		return dst
	}
	if dst == nil {
		// Never nil for a non-NULL value: callers read nil as NULL.
		dst = make([]byte, 0, 16)
	}
	switch v.Type.Kind {
	case KindBool:
		if v.Bool {
			return append(dst, 't')
		}
		return append(dst, 'f')
	case KindInt:
		return strconv.AppendInt(dst, v.Int, 10)
	case KindFloat:
		return appendFloat(dst, v.Float, v.Type.Width)
	case KindNumeric:
		if v.Dec == nil {
			return append(dst, '0')
		}
		return appendNumeric(dst, v.Dec)
	case KindText:
		dst = append(dst, v.Str...)
		if v.Type.Fixed && v.Type.Length > 0 {
			for n := utf8.RuneCountInString(v.Str); n < int(v.Type.Length); n++ {
				dst = append(dst, ' ')
			}
		}
		return dst
	case KindBytes:
		dst = append(dst, '\\', 'x')
		for _, c := range v.Bytes {
			dst = append(dst, hexDigits[c>>4], hexDigits[c&15])
		}
		return dst
	case KindTimestamp:
		return appendTimestamp(dst, v.Time, false)
	case KindTimestampTZ:
		return appendTimestamp(dst, v.Time, true)
	case KindDate:
		return appendDate(dst, v.Time)
	}
	return append(dst, v.Str...)
}

// String returns v in PostgreSQL's text output format, "NULL" for NULL.
func (v Value) String() string {
	if v.Null {
		return "NULL"
	}
	return string(AppendText(nil, v))
}

// ParseText parses s in PostgreSQL's text input format for type t, as the
// type's input function does with t's modifiers applied (varchar(n) longer
// than n is 22001 unless the excess is blanks, numeric(p,s) rounds to s and
// is 22003 past p). Unknown gives an untyped literal. Errors: 22P02 for bad
// syntax (22007/22008 for dates and times), 22003 out of range, 22021 for
// text that is not UTF-8.
func ParseText(t Type, s []byte) (Value, error) {
	str := string(s)
	switch t.Kind {
	case KindUnknown:
		return NewUnknown(str), nil
	case KindBool:
		b, ok := parseBool(str)
		if !ok {
			return Value{}, errSyntax(Bool, str)
		}
		return NewBool(b), nil
	case KindInt:
		n, err := parseInt(t, str)
		if err != nil {
			return Value{}, err
		}
		return Value{Type: Type{Kind: KindInt, Width: t.Width}, Int: n}, nil
	case KindFloat:
		f, err := parseFloat(t, str)
		if err != nil {
			return Value{}, err
		}
		if t.Width == 4 {
			f = float64(float32(f))
		}
		return Value{Type: Type{Kind: KindFloat, Width: t.Width}, Float: f}, nil
	case KindNumeric:
		d, err := parseNumeric(str)
		if err != nil {
			return Value{}, err
		}
		d, err = applyNumericTypmod(d, t)
		if err != nil {
			return Value{}, err
		}
		return Value{Type: t, Dec: d}, nil
	case KindText:
		if !utf8.ValidString(str) {
			return Value{}, errUTF8(s)
		}
		return fitText(str, t, false)
	case KindBytes:
		b, err := parseBytea(str)
		if err != nil {
			return Value{}, err
		}
		return NewBytes(b), nil
	case KindTimestamp, KindTimestampTZ, KindDate:
		tm, err := parseDateTime(t, str)
		if err != nil {
			return Value{}, err
		}
		return Value{Type: t, Time: tm}, nil
	case KindJSON:
		j, err := normalizeJSON(s)
		if err != nil {
			return Value{}, err
		}
		return Value{Type: JSONB, Str: j}, nil
	}
	return Value{}, sqlerr.New(sqlerr.FeatureNotSupported, "type %s is not supported", t.String())
}

// errUTF8 is PostgreSQL's error for bytes that are not valid UTF-8.
func errUTF8(b []byte) *sqlerr.Error {
	i := 0
	for i < len(b) {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			break
		}
		i += n
	}
	var hex []string
	for j := i; j < len(b) && j < i+2; j++ {
		hex = append(hex, "0x"+string([]byte{hexDigits[b[j]>>4], hexDigits[b[j]&15]}))
	}
	return sqlerr.New(codeCharNotInRepert, "invalid byte sequence for encoding \"UTF8\": %s", strings.Join(hex, " "))
}

// parseBool is PostgreSQL's parse_bool: blanks trimmed, case-insensitive,
// any unique prefix of true/false/yes/no, on/off (two letters at least),
// 1/0.
func parseBool(s string) (bool, bool) {
	x := strings.ToLower(strings.TrimSpace(s))
	if x == "" {
		return false, false
	}
	switch x {
	case "1":
		return true, true
	case "0":
		return false, true
	case "on":
		return true, true
	case "of", "off":
		return false, true
	}
	switch {
	case strings.HasPrefix("true", x):
		return true, true
	case strings.HasPrefix("false", x):
		return false, true
	case strings.HasPrefix("yes", x):
		return true, true
	case strings.HasPrefix("no", x):
		return false, true
	}
	return false, false
}

// parseBytea reads bytea input: hex format (\x then hex digit pairs,
// blanks allowed between pairs) or escape format (\\ for a backslash,
// \ooo octal, other bytes as themselves).
func parseBytea(s string) ([]byte, error) {
	if strings.HasPrefix(s, `\x`) || strings.HasPrefix(s, `\X`) {
		out := make([]byte, 0, (len(s)-2)/2)
		for i := 2; i < len(s); {
			c := s[i]
			if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
				i++
				continue
			}
			hi, ok := unhex(c)
			if !ok {
				return nil, sqlerr.New(sqlerr.InvalidParameterValue, "invalid hexadecimal digit: %q", string(c))
			}
			if i+1 >= len(s) {
				return nil, sqlerr.New(sqlerr.InvalidParameterValue, "invalid hexadecimal data: odd number of digits")
			}
			lo, ok := unhex(s[i+1])
			if !ok {
				return nil, sqlerr.New(sqlerr.InvalidParameterValue, "invalid hexadecimal digit: %q", string(s[i+1]))
			}
			out = append(out, hi<<4|lo)
			i += 2
		}
		return out, nil
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		if i+1 < len(s) && s[i+1] == '\\' {
			out = append(out, '\\')
			i += 2
			continue
		}
		if i+3 < len(s) && isOct(s[i+1], '3') && isOct(s[i+2], '7') && isOct(s[i+3], '7') {
			out = append(out, (s[i+1]-'0')<<6|(s[i+2]-'0')<<3|(s[i+3]-'0'))
			i += 4
			continue
		}
		return nil, sqlerr.New(sqlerr.InvalidTextRepresentation, "invalid input syntax for type bytea")
	}
	return out, nil
}

func isOct(c, maxDigit byte) bool { return c >= '0' && c <= maxDigit }

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// fitText applies a text type's length modifier to s. varchar(n): longer
// strings are cut to n characters when explicit (a cast), otherwise an
// error 22001 unless the excess is all blanks. char(n): likewise, then
// blank-padded to n. The result has type t.
func fitText(s string, t Type, explicit bool) (Value, error) {
	if t.Length > 0 {
		n := utf8.RuneCountInString(s)
		if n > int(t.Length) {
			cut := cutRunes(s, int(t.Length))
			if !explicit && strings.TrimRight(s[len(cut):], " ") != "" {
				name := "character varying"
				if t.Fixed {
					name = "character"
				}
				return Value{}, sqlerr.New(sqlerr.StringDataRightTruncation, "value too long for type %s(%d)", name, t.Length)
			}
			s = cut
			n = int(t.Length)
		}
		if t.Fixed && n < int(t.Length) {
			s += strings.Repeat(" ", int(t.Length)-n)
		}
	}
	return Value{Type: t, Str: s}, nil
}

// cutRunes returns the first n characters of s.
func cutRunes(s string, n int) string {
	i := 0
	for k := 0; k < n && i < len(s); k++ {
		_, w := utf8.DecodeRuneInString(s[i:])
		i += w
	}
	return s[:i]
}
