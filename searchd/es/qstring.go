package es

import (
	"strings"
)

// parseQueryString turns the ?q= parameter of _search and _count into a
// query DSL object. It takes the common subset of Lucene's query string
// syntax that curl examples use:
//
//	wireless                  a word in df, or in every field (multi_match)
//	title:wireless            match on a field
//	title:"noise cancelling"  match_phrase
//	title:wire*               prefix
//	price:[10 TO 100]         range, inclusive ([ ]) or exclusive ({ })
//	price:>=10  price:<100    open ranges
//	_exists_:brand            exists
//	+must -must_not NOT x     required and excluded clauses
//	a AND b, a OR b           AND anywhere makes every plain clause required
//	*  *:*                    match_all
//
// Plain clauses are optional (should) unless default_operator is AND.
func parseQueryString(q, df, defaultOperator string) (map[string]any, error) {
	tokens, err := tokenizeQueryString(q)
	if err != nil {
		return nil, err
	}
	and := strings.EqualFold(defaultOperator, "and")
	for _, t := range tokens {
		and = and || t == "AND"
	}
	var must, should, mustNot []any
	negate := false
	for _, t := range tokens {
		switch t {
		case "AND", "OR", "&&", "||":
			continue
		case "NOT", "!":
			negate = true
			continue
		}
		kind := ""
		if negate {
			kind, negate = "-", false
		}
		if t[0] == '+' || t[0] == '-' {
			kind, t = t[:1], t[1:]
		}
		if t == "" {
			continue
		}
		clause, err := queryClause(t, df)
		if err != nil {
			return nil, err
		}
		switch {
		case kind == "+" || kind == "" && and:
			must = append(must, clause)
		case kind == "-":
			mustNot = append(mustNot, clause)
		default:
			should = append(should, clause)
		}
	}
	switch {
	case len(must)+len(should)+len(mustNot) == 0:
		return map[string]any{"match_all": map[string]any{}}, nil
	case len(must) == 1 && len(should)+len(mustNot) == 0:
		return must[0].(map[string]any), nil
	case len(should) == 1 && len(must)+len(mustNot) == 0:
		return should[0].(map[string]any), nil
	}
	b := map[string]any{}
	if len(must) > 0 {
		b["must"] = must
	}
	if len(should) > 0 {
		b["should"] = should
		if len(must) == 0 {
			b["minimum_should_match"] = 1
		}
	}
	if len(mustNot) > 0 {
		b["must_not"] = mustNot
		if len(must)+len(should) == 0 {
			b["must"] = []any{map[string]any{"match_all": map[string]any{}}}
		}
	}
	return map[string]any{"bool": b}, nil
}

// tokenizeQueryString splits at spaces outside quotes and brackets.
func tokenizeQueryString(q string) ([]string, error) {
	var out []string
	var cur strings.Builder
	inQuote, depth := false, 0
	for _, r := range q {
		switch {
		case r == '"':
			inQuote = !inQuote
		case inQuote:
		case r == '[' || r == '{':
			depth++
		case r == ']' || r == '}':
			depth--
		case (r == ' ' || r == '\t' || r == '\n') && depth == 0:
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
			continue
		}
		cur.WriteRune(r)
	}
	if inQuote {
		return nil, qsError(q, "an unclosed quote")
	}
	if depth != 0 {
		return nil, qsError(q, "an unbalanced range bracket")
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out, nil
}

func qsError(q, what string) *esError {
	return errorf(400, "query_shard_exception", "Failed to parse query [%s]: %s", q, what)
}

// queryClause is the query of one term of a query string.
func queryClause(t, df string) (any, error) {
	if t == "*" || t == "*:*" {
		return map[string]any{"match_all": map[string]any{}}, nil
	}
	field, value, hasField := strings.Cut(t, ":")
	if !hasField || field == "" || strings.HasPrefix(field, `"`) {
		field, value = df, t
	}
	if field == "_exists_" {
		return map[string]any{"exists": map[string]any{"field": value}}, nil
	}
	if value == "" {
		return nil, qsError(t, "a field without a value")
	}
	if value[0] == '[' || value[0] == '{' {
		return rangeClause(t, field, value)
	}
	for _, op := range []struct{ p, k string }{{">=", "gte"}, {"<=", "lte"}, {">", "gt"}, {"<", "lt"}} {
		if v, ok := strings.CutPrefix(value, op.p); ok && field != "" {
			return map[string]any{"range": map[string]any{field: map[string]any{op.k: v}}}, nil
		}
	}
	if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
		phrase := value[1 : len(value)-1]
		if field == "" {
			return map[string]any{"multi_match": map[string]any{"query": phrase, "type": "phrase"}}, nil
		}
		return map[string]any{"match_phrase": map[string]any{field: phrase}}, nil
	}
	if p, ok := strings.CutSuffix(value, "*"); ok && p != "" && !strings.ContainsAny(p, "*?") && field != "" {
		return map[string]any{"prefix": map[string]any{field: p}}, nil
	}
	if field == "" {
		return map[string]any{"multi_match": map[string]any{"query": value}}, nil
	}
	return map[string]any{"match": map[string]any{field: value}}, nil
}

// rangeClause reads [a TO b] (inclusive) and {a TO b} (exclusive); * is
// an open end.
func rangeClause(t, field, v string) (any, error) {
	if field == "" {
		return nil, qsError(t, "a range needs a field")
	}
	lo, hi := v[0], v[len(v)-1]
	if hi != ']' && hi != '}' {
		return nil, qsError(t, "a range must end with ] or }")
	}
	a, b, ok := strings.Cut(v[1:len(v)-1], " TO ")
	if !ok {
		return nil, qsError(t, "a range is [from TO to]")
	}
	r := map[string]any{}
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	if a != "*" {
		r[map[bool]string{true: "gte", false: "gt"}[lo == '[']] = a
	}
	if b != "*" {
		r[map[bool]string{true: "lte", false: "lt"}[hi == ']']] = b
	}
	return map[string]any{"range": map[string]any{field: r}}, nil
}

// splitComma splits a comma-separated parameter, dropping empty parts.
func splitComma(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// cutLast cuts s around the last sep.
func cutLast(s string, sep byte) (before, after string, ok bool) {
	i := strings.LastIndexByte(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+1:], true
}
