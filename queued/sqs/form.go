package sqs

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Limits of the form parser, far above what any SQS request needs (a batch
// of 10 messages with 10 attributes of 4 parameters each is under 500).
const (
	maxParams = 4000
	maxIndex  = 1000
)

// form holds the parameters of a query-protocol request, decoded: the URL
// query and, for a POST, the form-encoded body. Structured parameters use
// SQS's flattened names: lists are Name.1, Name.2, …, maps and structures
// Name.N.Member (Attribute.1.Name, Attribute.1.Value).
type form map[string]string

// parseForm decodes the query string and the body of a request. A parameter
// given twice (in either part), a bad percent-escape or more than maxParams
// parameters are a MalformedQueryString error; empty pieces ("a=1&&b=2")
// are skipped, and a piece without '=' is a parameter with an empty value.
func parseForm(query, body string) (form, *Error) {
	f := form{}
	for _, part := range []string{query, body} {
		for part != "" {
			var piece string
			piece, part, _ = strings.Cut(part, "&")
			if piece == "" {
				continue
			}
			k, v, _ := strings.Cut(piece, "=")
			key, err := url.QueryUnescape(k)
			if err != nil {
				return nil, errorf(http.StatusBadRequest, CodeMalformedQueryString, "bad escape in parameter name: "+err.Error())
			}
			val, err := url.QueryUnescape(v)
			if err != nil {
				return nil, errorf(http.StatusBadRequest, CodeMalformedQueryString, "bad escape in the value of "+key+": "+err.Error())
			}
			if _, dup := f[key]; dup {
				return nil, errorf(http.StatusBadRequest, CodeMalformedQueryString, "parameter "+key+" is given twice")
			}
			if len(f) == maxParams {
				return nil, errorf(http.StatusBadRequest, CodeMalformedQueryString, "the request has more than "+strconv.Itoa(maxParams)+" parameters")
			}
			f[key] = val
		}
	}
	return f, nil
}

// get returns the value of name and whether it was given.
func (f form) get(name string) (string, bool) {
	v, ok := f[name]
	return v, ok
}

// member is one element of a flattened list or map: prefix.Index itself
// (value, for lists of strings) and the parameters under prefix.Index.
type member struct {
	index    int
	value    string
	hasValue bool
	sub      form
}

// members returns the elements of prefix (prefix.N and prefix.N.*) in
// increasing order of N. An index that is not a decimal number in
// [1, maxIndex] is an InvalidParameterValue naming the parameter.
func (f form) members(prefix string) ([]member, *Error) {
	byIndex := map[int]*member{}
	p := prefix + "."
	for k, v := range f {
		if !strings.HasPrefix(k, p) {
			continue
		}
		rest := k[len(p):]
		num, sub, hasSub := strings.Cut(rest, ".")
		n, err := strconv.Atoi(num)
		if err != nil || n < 1 || n > maxIndex || num != strconv.Itoa(n) {
			return nil, errorf(http.StatusBadRequest, CodeInvalidParameterValue,
				"parameter "+k+" has an invalid index: it must be a number from 1 to "+strconv.Itoa(maxIndex))
		}
		m := byIndex[n]
		if m == nil {
			m = &member{index: n, sub: form{}}
			byIndex[n] = m
		}
		if hasSub {
			m.sub[sub] = v
		} else {
			m.value, m.hasValue = v, true
		}
	}
	out := make([]member, 0, len(byIndex))
	for _, m := range byIndex {
		out = append(out, *m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].index < out[j].index })
	return out, nil
}

// list returns the values of prefix.1, prefix.2, … in index order.
func (f form) list(prefix string) ([]string, *Error) {
	ms, err := f.members(prefix)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		if !m.hasValue {
			return nil, missingParam(prefix + "." + strconv.Itoa(m.index))
		}
		out = append(out, m.value)
	}
	return out, nil
}

// pairs returns the map prefix.N.Name → prefix.N.Value (queue attributes,
// tags use Key), in index order. A name given twice is an error.
func (f form) pairs(prefix, keyName, valueName string) ([][2]string, *Error) {
	ms, err := f.members(prefix)
	if err != nil {
		return nil, err
	}
	out := make([][2]string, 0, len(ms))
	seen := map[string]bool{}
	for _, m := range ms {
		base := prefix + "." + strconv.Itoa(m.index) + "."
		k, ok := m.sub[keyName]
		if !ok {
			return nil, missingParam(base + keyName)
		}
		v, ok := m.sub[valueName]
		if !ok {
			return nil, missingParam(base + valueName)
		}
		if seen[k] {
			return nil, errorf(http.StatusBadRequest, CodeInvalidParameterValue, prefix+" "+k+" is given twice")
		}
		seen[k] = true
		out = append(out, [2]string{k, v})
	}
	return out, nil
}

// intParam parses the integer parameter name of f in [lo, hi]; ok is false
// when it was not given.
func (f form) intParam(name string, lo, hi int) (n int, ok bool, e *Error) {
	v, ok := f[name]
	if !ok {
		return 0, false, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, true, invalidParam(name, v, name+" must be an integer from "+strconv.Itoa(lo)+" to "+strconv.Itoa(hi)+".")
	}
	return n, true, nil
}
