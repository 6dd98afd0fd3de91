// Package jsonscan walks JSON text that is already known to be valid
// (json.Valid), without decoding it: the gateway's JWT claims reader and its
// JSON body editor split objects into raw members with it, so untouched
// values keep their exact bytes and no reflection runs on the hot path.
//
// Every function takes the text b and an index i and returns the index just
// after what it skipped. On invalid JSON they never read past len(b) and
// return at most len(b), but their answers mean nothing.
package jsonscan

// Space returns the index of the first byte at or after i that is not JSON
// white space.
func Space(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// String returns the index after the string that starts at b[i] == '"'.
func String(b []byte, i int) int {
	for i++; i < len(b); {
		switch b[i] {
		case '\\':
			i += 2
		case '"':
			return i + 1
		default:
			i++
		}
	}
	return len(b)
}

// Value returns the index after the value (string, object, array, number,
// true, false or null) that starts at b[i].
func Value(b []byte, i int) int {
	if i >= len(b) {
		return len(b)
	}
	switch b[i] {
	case '"':
		return String(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = String(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return len(b)
	}
	for i < len(b) {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}
