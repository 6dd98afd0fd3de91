package parser

import "strings"

// Split cuts a script into statement texts at the semicolons that are not
// inside a string ('…', E'…'), quoted identifier, dollar-quoted string or
// comment, as psql does. Each text is trimmed of surrounding white space and
// has no terminating ';'; statements holding nothing but white space and
// comments are dropped. Split never fails: an unterminated quote or comment
// extends to the end of the script, where Parse will report it.
func Split(sql string) []string {
	var out []string
	start := 0
	hasToken := false
	flush := func(end int) {
		if hasToken {
			out = append(out, strings.TrimSpace(sql[start:end]))
		}
		start, hasToken = end+1, false
	}
	i := 0
	for i < len(sql) {
		c := sql[i]
		switch {
		case c == ';':
			flush(i)
			i++
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			for i < len(sql) && sql[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			depth := 0
			for i < len(sql) {
				if i+1 < len(sql) && sql[i] == '/' && sql[i+1] == '*' {
					depth++
					i += 2
				} else if i+1 < len(sql) && sql[i] == '*' && sql[i+1] == '/' {
					depth--
					i += 2
					if depth == 0 {
						break
					}
				} else {
					i++
				}
			}
		case c == '\'' || c == '"':
			hasToken = true
			escapes := c == '\'' && i > 0 && (sql[i-1] == 'e' || sql[i-1] == 'E') && (i < 2 || !isIdentCont(sql[i-2]))
			i++
			for i < len(sql) {
				if escapes && sql[i] == '\\' {
					i += 2
					continue
				}
				if sql[i] == c {
					if i+1 < len(sql) && sql[i+1] == c {
						i += 2
						continue
					}
					break
				}
				i++
			}
			i++
		case c == '$':
			hasToken = true
			j := i + 1
			if j < len(sql) && isDigit(sql[j]) {
				i = j
				continue
			}
			for j < len(sql) && isIdentCont(sql[j]) && sql[j] != '$' {
				j++
			}
			if j < len(sql) && sql[j] == '$' && (i == 0 || !isIdentCont(sql[i-1])) {
				delim := sql[i : j+1]
				end := strings.Index(sql[j+1:], delim)
				if end < 0 {
					i = len(sql)
				} else {
					i = j + 1 + end + len(delim)
				}
				continue
			}
			i = j
		case isIdentStart(c):
			hasToken = true
			for i < len(sql) && isIdentCont(sql[i]) {
				i++
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		default:
			hasToken = true
			i++
		}
	}
	if start < len(sql) {
		flush(len(sql))
	}
	return out
}
