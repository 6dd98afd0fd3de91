package es

import (
	"net/http"
	"time"

	searchdv1 "cairn.dev/cairn/proto/cairn/searchd/v1"
)

// healthRank orders the health colours: red < yellow < green.
var healthRank = map[string]int{"red": 0, "yellow": 1, "green": 2}

// clusterHealth is the state _cluster/health reports.
type clusterHealth struct {
	status                                   string
	primaries, active, initializing, missing int
	nodes                                    int
}

// health serves GET /_cluster/health[/<index>]: green when every copy of
// every shard is started, yellow when every shard has a started copy, red
// otherwise. ?wait_for_status=green|yellow waits (up to ?timeout, default
// 30s) for at least that colour; when it does not come the answer is 408
// with "timed_out": true, as Elasticsearch's.
func (h *Handler) health(c *call) error {
	expr := ""
	if len(c.segs) == 3 {
		expr = c.segs[2]
	}
	want := c.q.Get("wait_for_status")
	if _, ok := healthRank[want]; want != "" && !ok {
		return badRequest("unknown wait_for_status [%s]: want green, yellow or red", want)
	}
	timeout := 30 * time.Second
	if t := c.q.Get("timeout"); t != "" {
		d, err := parseTimeValue(t)
		if err != nil {
			return badRequest("timeout: %v", err)
		}
		timeout = d
	}
	deadline := time.Now().Add(timeout)
	for {
		ch, err := h.clusterHealth(c, expr)
		if err != nil {
			return err
		}
		timedOut := want != "" && healthRank[ch.status] < healthRank[want]
		if !timedOut || !time.Now().Before(deadline) {
			status := http.StatusOK
			if timedOut {
				status = http.StatusRequestTimeout
			}
			writeJSON(c.w, c.r, status, h.healthObject(ch, timedOut))
			return nil
		}
		select {
		case <-c.ctx.Done():
			return c.ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (h *Handler) clusterHealth(c *call, expr string) (clusterHealth, error) {
	ch := clusterHealth{status: "green"}
	var indexes []*searchdv1.Index
	if expr == "" {
		resp, err := h.indexes.ListIndexes(c.ctx, &searchdv1.ListIndexesRequest{})
		if err != nil {
			return ch, fromRPC(err, opIndexAdmin, "", "")
		}
		indexes = resp.GetIndexes()
	} else {
		names, err := h.resolve(c, expr, false)
		if err != nil {
			return ch, err
		}
		for _, n := range names {
			resp, err := h.indexes.GetIndex(c.ctx, &searchdv1.GetIndexRequest{Name: n})
			if err != nil {
				return ch, fromRPC(err, opIndexAdmin, n, "")
			}
			indexes = append(indexes, resp.GetIndex())
		}
	}
	for _, ix := range indexes {
		want := int(1 + ix.GetSettings().GetReplicas())
		for _, sh := range ix.GetShards() {
			started, placed := 0, 0
			for _, cp := range sh.GetCopies() {
				switch cp.GetState() {
				case searchdv1.CopyState_COPY_STATE_STARTED:
					started++
					placed++
				case searchdv1.CopyState_COPY_STATE_INITIALIZING:
					ch.initializing++
					placed++
				}
			}
			ch.active += started
			if started > 0 {
				ch.primaries++
			}
			ch.missing += max(0, want-placed)
		}
		status := ix.GetHealth()
		if _, ok := healthRank[status]; !ok {
			status = "red"
		}
		if healthRank[status] < healthRank[ch.status] {
			ch.status = status
		}
	}
	if resp, err := h.cluster.ListNodes(c.ctx, &searchdv1.ListNodesRequest{}); err == nil {
		for _, n := range resp.GetNodes() {
			if n.GetAlive() {
				ch.nodes++
			}
		}
	}
	return ch, nil
}

func (h *Handler) healthObject(ch clusterHealth, timedOut bool) obj {
	pct := 100.0
	if all := ch.active + ch.initializing + ch.missing; all > 0 {
		pct = 100 * float64(ch.active) / float64(all)
	}
	return obj{}.
		add("cluster_name", h.opts.ClusterName).
		add("status", ch.status).
		add("timed_out", timedOut).
		add("number_of_nodes", ch.nodes).
		add("number_of_data_nodes", ch.nodes).
		add("active_primary_shards", ch.primaries).
		add("active_shards", ch.active).
		add("relocating_shards", 0).
		add("initializing_shards", ch.initializing).
		add("unassigned_shards", ch.missing).
		add("delayed_unassigned_shards", 0).
		add("number_of_pending_tasks", 0).
		add("number_of_in_flight_fetch", 0).
		add("task_max_waiting_in_queue_millis", 0).
		add("active_shards_percent_as_number", pct)
}
