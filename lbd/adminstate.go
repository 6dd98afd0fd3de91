package lbd

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"cairn.dev/cairn/lbd/pool"
	"cairn.dev/cairn/node/clusterconn"
	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
	kvclient "cairn.dev/cairn/raftkv/client"
)

// adminRecord is the JSON value of an admin-state key
// <prefix><pool>/<backend> in raftkv.
type adminRecord struct {
	State  string    `json:"state"` // enabled, draining, disabled
	Since  time.Time `json:"since"`
	Weight int       `json:"weight,omitempty"`
	By     string    `json:"by,omitempty"` // the node that wrote it
}

// adminKey names a backend of a pool.
type adminKey struct{ pool, backend string }

// adminStore holds every backend's administrative state: in raftkv (shared
// by the lbd nodes, followed by a watch) when the node has a registry, else
// in memory. apply is called with every setting as it becomes known.
type adminStore struct {
	kv     *kvclient.Client // nil: node-local
	prefix string
	node   string
	apply  func(adminKey, pool.AdminSetting)
	logger *slog.Logger

	mu       sync.Mutex // guards settings
	settings map[adminKey]pool.AdminSetting
}

func newAdminStore(kv *kvclient.Client, prefix, node string, apply func(adminKey, pool.AdminSetting), logger *slog.Logger) *adminStore {
	return &adminStore{kv: kv, prefix: prefix, node: node, apply: apply, logger: logger, settings: map[adminKey]pool.AdminSetting{}}
}

// all returns a copy of every setting (for pools built by a reload).
func (a *adminStore) all() map[adminKey]pool.AdminSetting {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make(map[adminKey]pool.AdminSetting, len(a.settings))
	for k, v := range a.settings {
		out[k] = v
	}
	return out
}

// set records a setting: in raftkv (the watch then applies it on every
// node, this one included, but it is applied here at once too so the
// answer reflects it) or in memory.
func (a *adminStore) set(ctx context.Context, k adminKey, s pool.AdminSetting) error {
	if a.kv != nil {
		key := a.prefix + k.pool + "/" + k.backend
		var err error
		if s.State == pool.AdminEnabled && s.Weight == 0 {
			_, err = a.kv.Delete(ctx, key)
		} else {
			val, _ := json.Marshal(adminRecord{State: s.State.String(), Since: s.Since.UTC(), Weight: s.Weight, By: a.node})
			_, err = a.kv.Put(ctx, key, string(val))
		}
		if err != nil {
			return err
		}
	}
	a.store(k, s)
	return nil
}

func (a *adminStore) store(k adminKey, s pool.AdminSetting) {
	a.mu.Lock()
	if s.State == pool.AdminEnabled && s.Weight == 0 {
		delete(a.settings, k)
	} else {
		a.settings[k] = s
	}
	a.mu.Unlock()
	a.apply(k, s)
}

// run follows raftkv until ctx ends (nothing to do without a registry).
func (a *adminStore) run(ctx context.Context) {
	if a.kv == nil {
		return
	}
	var b clusterconn.Backoff
	for ctx.Err() == nil {
		err := a.once(ctx, &b)
		if ctx.Err() != nil {
			return
		}
		a.logger.Warn("admin state watch ended; reading again", "err", err)
		if !b.Wait(ctx) {
			return
		}
	}
}

// once reads every setting, applies the differences, then follows the watch.
func (a *adminStore) once(ctx context.Context, b *clusterconn.Backoff) error {
	return a.kv.FollowPrefix(ctx, a.prefix, func(kvs []*raftkvv1.KeyValue) {
		seen := map[adminKey]bool{}
		for _, kv := range kvs {
			if k, ok := a.put(kv); ok {
				seen[k] = true
			}
		}
		for k := range a.all() { // deleted while the watch was down
			if !seen[k] {
				a.store(k, pool.AdminSetting{State: pool.AdminEnabled})
			}
		}
	}, func(evs []*raftkvv1.Event) {
		b.Reset()
		for _, ev := range evs {
			switch ev.GetType() {
			case raftkvv1.Event_EVENT_TYPE_PUT:
				a.put(ev.GetKv())
			case raftkvv1.Event_EVENT_TYPE_DELETE:
				if k, ok := a.parseKey(string(ev.GetKv().GetKey())); ok {
					a.store(k, pool.AdminSetting{State: pool.AdminEnabled})
				}
			}
		}
	})
}

func (a *adminStore) parseKey(key string) (adminKey, bool) {
	rest := strings.TrimPrefix(key, a.prefix)
	p, b, ok := strings.Cut(rest, "/")
	if !ok || p == "" || b == "" || strings.Contains(b, "/") {
		return adminKey{}, false
	}
	return adminKey{pool: p, backend: b}, true
}

// put applies one raftkv entry; invalid ones are logged and skipped.
func (a *adminStore) put(kv *raftkvv1.KeyValue) (adminKey, bool) {
	k, ok := a.parseKey(string(kv.GetKey()))
	var rec adminRecord
	err := fmt.Errorf("key is not <prefix><pool>/<backend>")
	if ok {
		err = json.Unmarshal(kv.GetValue(), &rec)
	}
	var st pool.AdminState
	if err == nil {
		st, err = pool.ParseAdminState(rec.State)
	}
	if err != nil {
		a.logger.Warn("admin state entry ignored", "key", string(kv.GetKey()), "err", err)
		return adminKey{}, false
	}
	a.store(k, pool.AdminSetting{State: st, Since: rec.Since, Weight: rec.Weight})
	return k, true
}
