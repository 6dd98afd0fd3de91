package jwt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"cairn.dev/cairn/gatewayd/internal/jsonscan"
)

// This file reads the header and the claims without reflection: json.Valid
// proves the bytes are well-formed JSON, then a small scanner walks the
// members of the top-level object, handing each name and raw value to the
// caller, and refuses duplicate names (RFC 8725 section 3.9 leaves their
// meaning to the parser; refusing them removes the ambiguity).

// dupMapAt is the member count above which duplicates are found with a map
// rather than a linear search (tokens have few members; hostile ones many).
const dupMapAt = 16

// eachMember calls fn for each member of the JSON object b, in order, with
// the member's decoded name (aliasing b when it has no escapes: fn must not
// keep it) and raw value. It fails with ErrMalformed when b is not a valid
// JSON object or repeats a member name.
func eachMember(b []byte, fn func(name, val []byte) error) error {
	if !json.Valid(b) {
		return fmt.Errorf("%w: invalid JSON", ErrMalformed)
	}
	i := jsonscan.Space(b, 0)
	if i >= len(b) || b[i] != '{' {
		return fmt.Errorf("%w: not a JSON object", ErrMalformed)
	}
	i++
	var small [dupMapAt][]byte
	names := small[:0]
	var seen map[string]struct{}
	for {
		i = jsonscan.Space(b, i)
		if b[i] == '}' {
			return nil
		}
		if b[i] == ',' {
			i = jsonscan.Space(b, i+1)
		}
		end := jsonscan.String(b, i)
		name, ok := jsonStringBytes(b[i:end])
		if !ok {
			return fmt.Errorf("%w: invalid member name", ErrMalformed)
		}
		switch {
		case seen != nil:
			if _, dup := seen[string(name)]; dup {
				return fmt.Errorf("%w: duplicate member %q", ErrMalformed, name)
			}
			seen[string(name)] = struct{}{}
		default:
			for _, n := range names {
				if bytes.Equal(n, name) {
					return fmt.Errorf("%w: duplicate member %q", ErrMalformed, name)
				}
			}
			if len(names) < dupMapAt {
				names = append(names, name)
			} else {
				seen = make(map[string]struct{}, 4*dupMapAt)
				for _, n := range names {
					seen[string(n)] = struct{}{}
				}
				seen[string(name)] = struct{}{}
			}
		}
		i = jsonscan.Space(b, end)
		i = jsonscan.Space(b, i+1) // ':'
		vend := jsonscan.Value(b, i)
		if err := fn(name, b[i:vend]); err != nil {
			return err
		}
		i = vend
	}
}

// jsonString decodes the JSON string v (with its quotes). Strings without
// escapes, the common case, cost one allocation.
func jsonString(v []byte) (string, bool) {
	b, ok := jsonStringBytes(v)
	return string(b), ok
}

// jsonStringBytes is jsonString returning bytes that alias v when the
// string has no escapes.
func jsonStringBytes(v []byte) ([]byte, bool) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return nil, false
	}
	inner := v[1 : len(v)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return inner, true
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return nil, false
	}
	return []byte(s), true
}

// jsonStrings decodes a string or an array of strings (aud, scp, roles,
// groups accept both).
func jsonStrings(v []byte) ([]string, bool) {
	if len(v) > 0 && v[0] == '"' {
		s, ok := jsonString(v)
		return []string{s}, ok
	}
	if len(v) < 2 || v[0] != '[' {
		return nil, false
	}
	var out []string
	i := jsonscan.Space(v, 1)
	for v[i] != ']' {
		if v[i] == ',' {
			i = jsonscan.Space(v, i+1)
		}
		end := jsonscan.Value(v, i)
		s, ok := jsonString(v[i:end])
		if !ok {
			return nil, false
		}
		out = append(out, s)
		i = jsonscan.Space(v, end)
	}
	return out, true
}

// maxNumericDate bounds NumericDate values (about year 33658) so that the
// conversion to time.Time cannot overflow.
const maxNumericDate = 1e12

// jsonTime decodes a NumericDate: seconds since the epoch, possibly
// fractional.
func jsonTime(v []byte) (time.Time, bool) {
	if len(v) == 0 || (v[0] != '-' && (v[0] < '0' || v[0] > '9')) {
		return time.Time{}, false
	}
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil || math.Abs(f) > maxNumericDate {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true
}
