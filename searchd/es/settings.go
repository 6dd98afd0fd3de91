package es

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	searchdv1 "cairn.dev/cairn/proto/cairn/searchd/v1"
)

// createBody is the body of PUT /<index>.
type createBody struct {
	Settings map[string]any  `json:"settings"`
	Mappings json.RawMessage `json:"mappings"`
	Aliases  map[string]any  `json:"aliases"`
}

// ignoredSettings are settings Elasticsearch users send (or that GET
// /<index> prints, so that its output can be sent back) which searchd
// accepts and ignores; every other unknown setting is refused.
var ignoredSettings = []string{
	"codec", "max_ngram_diff", "max_shingle_diff", "max_result_window",
	"provided_name", "creation_date", "uuid", "version.", "mapping.",
	"routing.", "auto_expand_replicas", "number_of_routing_shards",
}

// parseCreateBody reads PUT /<index>'s body into a CreateIndexRequest.
// Settings may be nested ({"index":{"number_of_shards":3}}) or dotted
// ("index.number_of_shards": "3"), numbers or strings, as Elasticsearch
// takes them.
func parseCreateBody(name string, body []byte) (*searchdv1.CreateIndexRequest, error) {
	req := &searchdv1.CreateIndexRequest{Name: name, Settings: &searchdv1.IndexSettings{}}
	if len(bytes.TrimSpace(body)) == 0 {
		return req, nil
	}
	var cb createBody
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cb); err != nil {
		return nil, xContentError("index creation body", err)
	}
	if len(cb.Aliases) > 0 {
		return nil, badRequest("aliases are not supported by cairn searchd")
	}
	if m := bytes.TrimSpace(cb.Mappings); len(m) > 0 && !bytes.Equal(m, []byte("null")) {
		req.MappingsJson = m
	}
	if err := applySettings(req.Settings, cb.Settings); err != nil {
		return nil, err
	}
	return req, nil
}

// xContentError is Elasticsearch's answer to a body that is not the JSON
// it expects.
func xContentError(what string, err error) *esError {
	return errorf(400, "x_content_parse_exception", "failed to parse the %s: %v", what, err)
}

// applySettings sets s from Elasticsearch's settings object.
func applySettings(s *searchdv1.IndexSettings, settings map[string]any) error {
	flat := map[string]any{}
	flatten("", settings, flat)
	analysis := map[string]any{}
	keys := make([]string, 0, len(flat))
	for k := range flat {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, full := range keys {
		v := flat[full]
		k := strings.TrimPrefix(full, "index.")
		switch {
		case k == "number_of_shards":
			n, err := intSetting(full, v)
			if err != nil {
				return err
			}
			s.Shards = int32(n)
		case k == "number_of_replicas":
			n, err := intSetting(full, v)
			if err != nil {
				return err
			}
			s.Replicas = int32(n)
		case k == "refresh_interval":
			d, err := parseTimeValue(fmt.Sprint(v))
			if err != nil {
				return badRequest("failed to parse setting [index.refresh_interval] with value [%v]: %v", v, err)
			}
			s.RefreshInterval = durationpb.New(d)
		case strings.HasPrefix(k, "analysis."):
			setPath(analysis, strings.Split(strings.TrimPrefix(k, "analysis."), "."), v)
		case k == "similarity.default.type":
			if t := fmt.Sprint(v); !strings.EqualFold(t, "BM25") {
				return badRequest("index.similarity.default.type [%s] is not supported: cairn searchd scores with BM25", t)
			}
		case k == "similarity.default.k1" || k == "similarity.default.b":
			f, err := floatSetting(full, v)
			if err != nil {
				return err
			}
			if strings.HasSuffix(k, "k1") {
				s.Bm25K1 = f
			} else {
				s.Bm25B = f
			}
		case ignored(k):
		default:
			return badRequest("unknown setting [index.%s] please check that any required plugins are installed, or check the breaking changes documentation for removed settings", k)
		}
	}
	if len(analysis) > 0 {
		b, err := json.Marshal(analysis)
		if err != nil {
			return badRequest("settings.analysis: %v", err)
		}
		s.AnalysisJson = b
	}
	return nil
}

func ignored(k string) bool {
	for _, p := range ignoredSettings {
		if k == p || strings.HasSuffix(p, ".") && strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

// flatten turns nested objects into dotted keys; arrays and scalars are
// leaves.
func flatten(prefix string, m map[string]any, out map[string]any) {
	for k, v := range m {
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		if sub, ok := v.(map[string]any); ok {
			flatten(key, sub, out)
			continue
		}
		out[key] = v
	}
}

// setPath sets m[path[0]][path[1]]... = v, making the objects on the way.
func setPath(m map[string]any, path []string, v any) {
	for _, p := range path[:len(path)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[path[len(path)-1]] = v
}

func intSetting(name string, v any) (int64, error) {
	switch x := v.(type) {
	case float64:
		if x == float64(int64(x)) {
			return int64(x), nil
		}
	case string:
		if n, err := strconv.ParseInt(x, 10, 32); err == nil {
			return n, nil
		}
	}
	return 0, badRequest("Failed to parse value [%v] for setting [%s]: not an integer", v, name)
}

func floatSetting(name string, v any) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case string:
		if f, err := strconv.ParseFloat(x, 64); err == nil {
			return f, nil
		}
	}
	return 0, badRequest("Failed to parse value [%v] for setting [%s]: not a number", v, name)
}

// parseTimeValue reads an Elasticsearch time value: "-1" (disabled, a
// negative duration), or a number with a unit of nanos, micros, ms, s, m,
// h or d.
func parseTimeValue(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "-1" {
		return -1, nil
	}
	units := []struct {
		suffix string
		d      time.Duration
	}{{"nanos", time.Nanosecond}, {"micros", time.Microsecond}, {"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}, {"h", time.Hour}, {"d", 24 * time.Hour}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			n, err := strconv.ParseFloat(num, 64)
			if err != nil || n < 0 {
				return 0, fmt.Errorf("want a number and a unit (1s, 500ms), got %q", s)
			}
			return time.Duration(n * float64(u.d)), nil
		}
	}
	return 0, fmt.Errorf("want a number and a unit (1s, 500ms) or -1, got %q", s)
}

// formatTimeValue prints a duration as Elasticsearch does: "-1" for
// disabled, else the largest unit that divides it.
func formatTimeValue(d time.Duration) string {
	switch {
	case d < 0:
		return "-1"
	case d == 0:
		return "0s"
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	case d%time.Second == 0:
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
}

// settingsObject is an index's settings as GET /<index> prints them:
// strings under "index".
func settingsObject(ix *searchdv1.Index) obj {
	s := ix.GetSettings()
	o := obj{}
	if t := ix.GetCreatedAt(); t != nil {
		o = o.add("creation_date", strconv.FormatInt(t.AsTime().UnixMilli(), 10))
	}
	o = o.add("number_of_shards", strconv.Itoa(int(s.GetShards()))).
		add("number_of_replicas", strconv.Itoa(int(s.GetReplicas())))
	if ri := s.GetRefreshInterval(); ri != nil {
		o = o.add("refresh_interval", formatTimeValue(ri.AsDuration()))
	}
	if a := s.GetAnalysisJson(); len(bytes.TrimSpace(a)) > 0 {
		o = o.add("analysis", json.RawMessage(a))
	}
	if s.GetBm25K1() != 0 || s.GetBm25B() != 0 {
		sim := obj{}.add("type", "BM25")
		if s.GetBm25K1() != 0 {
			sim = sim.add("k1", strconv.FormatFloat(s.GetBm25K1(), 'g', -1, 64))
		}
		if s.GetBm25B() != 0 {
			sim = sim.add("b", strconv.FormatFloat(s.GetBm25B(), 'g', -1, 64))
		}
		o = o.add("similarity", obj{}.add("default", sim))
	}
	o = o.add("provided_name", ix.GetName()).
		add("uuid", ix.GetUuid()).
		add("version", obj{}.add("created", "8110099"))
	return obj{}.add("index", o)
}
