package es

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"unicode/utf8"

	searchdv1 "cairn.dev/cairn/proto/cairn/searchd/v1"
)

// validIndexName checks a new index's name with Elasticsearch's rules.
func validIndexName(name string) *esError {
	bad := func(why string) *esError {
		return errorf(http.StatusBadRequest, "invalid_index_name_exception", "Invalid index name [%s], %s", name, why).
			with("index_uuid", "_na_").with("index", name)
	}
	switch {
	case name == "":
		return bad("must not be empty")
	case name == "." || name == "..":
		return bad("must not be '.' or '..'")
	case strings.ToLower(name) != name:
		return bad("must be lowercase")
	case strings.ContainsAny(name, `\/*?"<>| ,#:`):
		return bad(`must not contain the following characters [ , ", *, \, <, |, ,, >, /, ?, #, :]`)
	case strings.IndexAny(name[:1], "_-+") == 0:
		return bad("must not start with '_', '-', or '+'")
	case len(name) > 255:
		return bad("index name is too long, (" + itoa(int64(len(name))) + " > 255)")
	case !utf8.ValidString(name):
		return bad("must be valid UTF-8")
	}
	return nil
}

// index serves PUT, DELETE, GET and HEAD /<index>.
func (h *Handler) index(c *call) error {
	name := c.segs[0]
	switch c.r.Method {
	case http.MethodPut:
		return h.createIndex(c, name)
	case http.MethodDelete:
		return h.deleteIndex(c, name)
	case http.MethodHead:
		_, err := h.indexes.GetIndex(c.ctx, &searchdv1.GetIndexRequest{Name: name})
		switch e := fromRPC(err, opIndexAdmin, name, ""); {
		case err == nil:
			c.w.WriteHeader(http.StatusOK)
		case e.status == http.StatusNotFound:
			c.w.WriteHeader(http.StatusNotFound)
		default:
			return e
		}
		return nil
	}
	names, err := h.resolve(c, name, false)
	if err != nil {
		return err
	}
	out := obj{}
	for _, n := range names {
		resp, err := h.indexes.GetIndex(c.ctx, &searchdv1.GetIndexRequest{Name: n})
		if err != nil {
			return fromRPC(err, opIndexAdmin, n, "")
		}
		ix := resp.GetIndex()
		out = out.add(n, obj{}.
			add("aliases", obj{}).
			add("mappings", rawOr(ix.GetMappingsJson(), "{}")).
			add("settings", settingsObject(ix)))
	}
	writeJSON(c.w, c.r, http.StatusOK, out)
	return nil
}

func (h *Handler) createIndex(c *call, name string) error {
	if e := validIndexName(name); e != nil {
		return e
	}
	body, err := h.body(c)
	if err != nil {
		return err
	}
	req, err := parseCreateBody(name, body)
	if err != nil {
		return err
	}
	if _, err := h.indexes.CreateIndex(c.ctx, req); err != nil {
		return fromRPC(err, opIndexAdmin, name, "")
	}
	writeJSON(c.w, c.r, http.StatusOK, obj{}.add("acknowledged", true).add("shards_acknowledged", true).add("index", name))
	return nil
}

func (h *Handler) deleteIndex(c *call, expr string) error {
	names, err := h.resolve(c, expr, false)
	if err != nil {
		return err
	}
	for _, n := range names {
		if _, err := h.indexes.DeleteIndex(c.ctx, &searchdv1.DeleteIndexRequest{Name: n}); err != nil {
			return fromRPC(err, opIndexAdmin, n, "")
		}
	}
	writeJSON(c.w, c.r, http.StatusOK, obj{}.add("acknowledged", true))
	return nil
}

// resolve expands an index expression: comma-separated names and
// patterns with "*" ("logs-*"), "_all" or "*" for every index, and
// "-pattern" excluding what an earlier pattern matched. Concrete names are
// returned unchecked (the service answers index_not_found); patterns that
// match nothing add nothing. emptyIsAll makes "" mean every index (the
// /_search of no index).
func (h *Handler) resolve(c *call, expr string, emptyIsAll bool) ([]string, error) {
	if expr == "" && emptyIsAll {
		expr = "_all"
	}
	var all []string
	listed := false
	list := func() error {
		if listed {
			return nil
		}
		resp, err := h.indexes.ListIndexes(c.ctx, &searchdv1.ListIndexesRequest{})
		if err != nil {
			return fromRPC(err, opIndexAdmin, "", "")
		}
		for _, ix := range resp.GetIndexes() {
			all = append(all, ix.GetName())
		}
		sort.Strings(all)
		listed = true
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for _, part := range strings.Split(expr, ",") {
		part = strings.TrimSpace(part)
		switch {
		case part == "":
			continue
		case strings.HasPrefix(part, "-") && len(out) > 0:
			pat := part[1:]
			kept := out[:0]
			for _, n := range out {
				if globMatch(pat, n) {
					delete(seen, n)
					continue
				}
				kept = append(kept, n)
			}
			out = kept
		case part == "_all" || strings.Contains(part, "*"):
			if part == "_all" {
				part = "*"
			}
			if err := list(); err != nil {
				return nil, err
			}
			for _, n := range all {
				if globMatch(part, n) && !seen[n] {
					seen[n] = true
					out = append(out, n)
				}
			}
		default:
			if !seen[part] {
				seen[part] = true
				out = append(out, part)
			}
		}
	}
	return out, nil
}

// globMatch matches name against a pattern whose only wildcard is "*".
func globMatch(pattern, name string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == name
	}
	if !strings.HasPrefix(name, parts[0]) {
		return false
	}
	name = name[len(parts[0]):]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(name, p)
		if i < 0 {
			return false
		}
		name = name[i+len(p):]
	}
	return strings.HasSuffix(name, parts[len(parts)-1])
}

// mapping serves GET, PUT and POST /<index>/_mapping.
func (h *Handler) mapping(c *call) error {
	if c.r.Method == http.MethodGet {
		return h.getMapping(c)
	}
	name := c.segs[0]
	body, err := h.body(c)
	if err != nil {
		return err
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return errorf(http.StatusBadRequest, "action_request_validation_exception", "Validation Failed: 1: mapping source is missing;")
	}
	if !json.Valid(body) || body[0] != '{' {
		return xContentError("mapping", errNotObject)
	}
	names, err := h.resolve(c, name, false)
	if err != nil {
		return err
	}
	for _, n := range names {
		if _, err := h.indexes.PutMapping(c.ctx, &searchdv1.PutMappingRequest{Index: n, MappingsJson: body}); err != nil {
			return fromRPC(err, opPutMapping, n, "")
		}
	}
	writeJSON(c.w, c.r, http.StatusOK, obj{}.add("acknowledged", true))
	return nil
}

// getMapping serves GET /_mapping and GET /<index>/_mapping.
func (h *Handler) getMapping(c *call) error {
	expr := ""
	if len(c.segs) == 2 {
		expr = c.segs[0]
	}
	names, err := h.resolve(c, expr, true)
	if err != nil {
		return err
	}
	out := obj{}
	for _, n := range names {
		resp, err := h.indexes.GetIndex(c.ctx, &searchdv1.GetIndexRequest{Name: n})
		if err != nil {
			return fromRPC(err, opIndexAdmin, n, "")
		}
		out = out.add(n, obj{}.add("mappings", rawOr(resp.GetIndex().GetMappingsJson(), "{}")))
	}
	writeJSON(c.w, c.r, http.StatusOK, out)
	return nil
}

// refresh serves /_refresh and /<index>/_refresh.
func (h *Handler) refresh(c *call) error {
	var names []string
	if len(c.segs) == 2 {
		var err error
		if names, err = h.resolve(c, c.segs[0], false); err != nil {
			return err
		}
		if len(names) == 0 {
			writeJSON(c.w, c.r, http.StatusOK, obj{}.add("_shards", shardsObject(0, 0)))
			return nil
		}
	}
	resp, err := h.indexes.Refresh(c.ctx, &searchdv1.RefreshRequest{Indexes: names})
	if err != nil {
		return fromRPC(err, opIndexAdmin, strings.Join(names, ","), "")
	}
	writeJSON(c.w, c.r, http.StatusOK, obj{}.add("_shards", shardsObject(resp.GetTotalShards(), resp.GetSuccessfulShards())))
	return nil
}

// shardsObject is a "_shards" object.
func shardsObject(total, ok int32) obj {
	return obj{}.add("total", total).add("successful", ok).add("failed", total-ok)
}

// stats serves GET /_stats and /<index>/_stats: document counts and sizes.
func (h *Handler) stats(c *call) error {
	expr := ""
	if len(c.segs) == 2 {
		expr = c.segs[0]
	}
	names, err := h.resolve(c, expr, true)
	if err != nil {
		return err
	}
	var shards int32
	var allPri, allTot statTotals
	indices := obj{}
	for _, n := range names {
		st, err := h.indexes.IndexStats(c.ctx, &searchdv1.IndexStatsRequest{Name: n})
		if err != nil {
			return fromRPC(err, opIndexAdmin, n, "")
		}
		ix := st.GetIndex()
		pri, tot := indexTotals(st)
		allPri.add(pri)
		allTot.add(tot)
		shards += ix.GetSettings().GetShards() * (1 + ix.GetSettings().GetReplicas())
		indices = indices.add(n, obj{}.
			add("uuid", ix.GetUuid()).
			add("health", ix.GetHealth()).
			add("status", "open").
			add("primaries", pri.object()).
			add("total", tot.object()))
	}
	writeJSON(c.w, c.r, http.StatusOK, obj{}.
		add("_shards", shardsObject(shards, shards)).
		add("_all", obj{}.add("primaries", allPri.object()).add("total", allTot.object())).
		add("indices", indices))
	return nil
}

// statTotals are the numbers of an _stats section.
type statTotals struct {
	docs, deleted, size, segments int64
}

func (t *statTotals) add(o statTotals) {
	t.docs += o.docs
	t.deleted += o.deleted
	t.size += o.size
	t.segments += o.segments
}

func (t statTotals) object() obj {
	return obj{}.
		add("docs", obj{}.add("count", t.docs).add("deleted", t.deleted)).
		add("store", obj{}.add("size_in_bytes", t.size)).
		add("segments", obj{}.add("count", t.segments))
}

// indexTotals splits an IndexStatsResponse into primaries and total: the
// size is over every copy, so the primaries' share is size/copies.
func indexTotals(st *searchdv1.IndexStatsResponse) (pri, tot statTotals) {
	copies := int64(1 + st.GetIndex().GetSettings().GetReplicas())
	tot = statTotals{docs: st.GetDocs() * copies, deleted: st.GetDeletedDocs() * copies, size: st.GetSizeBytes(), segments: int64(st.GetSegments())}
	pri = statTotals{docs: st.GetDocs(), deleted: st.GetDeletedDocs(), size: st.GetSizeBytes() / copies, segments: int64(st.GetSegments()) / copies}
	return pri, tot
}
