package lbd

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"sync"

	"cairn.dev/cairn/lbd/lbconfig"
)

// frontendSet is the node's frontends, changed live by reloads: a frontend
// added to the lb file binds, one removed stops accepting and finishes its
// connections within the shutdown timeout, one whose listener changed (its
// address, mode, TLS, PROXY protocol or limits) is replaced by a new one
// (which binds once the old one has let go of the address), and one whose
// routes or pool changed keeps its listener and connections.
//
// Frontends on the virtual address run only while the node is active in
// its HA group: setActive starts them and they stop when its context ends.
type frontendSet struct {
	s *Server

	mu     sync.Mutex
	byName map[string]*liveFrontend
	active context.Context // the active term's context; nil while standby
	onVIP  sync.WaitGroup  // runs of frontends on the virtual address in this term
}

// liveFrontend is a frontend with the context of its life in the set,
// cancelled when a reload removes or replaces it.
type liveFrontend struct {
	f      *frontend
	ctx    context.Context
	cancel context.CancelFunc
}

func newFrontendSet(s *Server) *frontendSet {
	return &frontendSet{s: s, byName: map[string]*liveFrontend{}}
}

// list returns the frontends sorted by name.
func (fs *frontendSet) list() []*frontend {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	out := make([]*frontend, 0, len(fs.byName))
	for _, lf := range fs.byName {
		out = append(out, lf.f)
	}
	slices.SortFunc(out, func(a, b *frontend) int { return strings.Compare(a.spec.Name, b.spec.Name) })
	return out
}

// apply makes the set match specs. started says whether the node serves
// yet: before Serve, frontends are only created (Serve starts them).
func (fs *frontendSet) apply(specs []lbconfig.Frontend, started bool) error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	keep := map[string]bool{}
	for _, spec := range specs {
		keep[spec.Name] = true
		lf := fs.byName[spec.Name]
		if lf != nil && sameListener(lf.f.spec, spec) {
			lf.f.reconfigure(spec)
			continue
		}
		f, err := fs.s.newFrontend(spec)
		if err != nil {
			return err
		}
		if lf != nil {
			fs.s.logger.Info("frontend listener changed; replacing it", "frontend", spec.Name, "from", lf.f.spec.Listen, "to", spec.Listen)
			lf.stop()
		} else if started {
			fs.s.logger.Info("frontend added", "frontend", spec.Name, "mode", spec.Mode, "listen", spec.Listen)
		}
		nlf := &liveFrontend{f: f}
		nlf.ctx, nlf.cancel = context.WithCancel(fs.s.ctx)
		fs.byName[spec.Name] = nlf
		if started {
			fs.startLocked(nlf)
		}
	}
	for name, lf := range fs.byName {
		if !keep[name] {
			fs.s.logger.Info("frontend removed", "frontend", name)
			lf.stop()
			delete(fs.byName, name)
		}
	}
	return nil
}

// stop ends a frontend that left the set: it stops accepting and its
// connections finish within the shutdown timeout.
func (lf *liveFrontend) stop() {
	lf.f.removed.Store(true)
	lf.cancel()
}

// startAll starts every frontend (Serve).
func (fs *frontendSet) startAll() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, lf := range fs.byName {
		fs.startLocked(lf)
	}
}

// startLocked runs lf now, or, for a frontend on the virtual address of an
// HA node, when (and while) the node is active.
func (fs *frontendSet) startLocked(lf *liveFrontend) {
	if fs.s.elector != nil && lf.f.onVIP(fs.s.cfg.VIP) {
		if fs.active != nil {
			fs.runOnVIPLocked(lf)
		}
		return
	}
	fs.s.goFunc(func() { lf.f.run(lf.ctx) })
}

// runOnVIPLocked runs lf until the active term or lf's life ends.
func (fs *frontendSet) runOnVIPLocked(lf *liveFrontend) {
	ctx, cancel := context.WithCancel(fs.active)
	stop := context.AfterFunc(lf.ctx, cancel)
	fs.onVIP.Add(1)
	ok := fs.s.goroutines.Go(func() {
		defer fs.onVIP.Done()
		defer stop()
		defer cancel()
		lf.f.run(ctx)
	})
	if !ok { // the node is stopping
		stop()
		cancel()
		fs.onVIP.Done()
	}
}

// runActive is the HA group's active work: the frontends on the virtual
// address (those there now and those reloads add), served until ctx ends
// (leadership lost or shutdown).
func (fs *frontendSet) runActive(ctx context.Context) {
	fs.mu.Lock()
	fs.active = ctx
	for _, lf := range fs.byName {
		if lf.f.onVIP(fs.s.cfg.VIP) {
			fs.runOnVIPLocked(lf)
		}
	}
	fs.mu.Unlock()
	<-ctx.Done()
	fs.mu.Lock()
	fs.active = nil
	fs.mu.Unlock()
	fs.onVIP.Wait()
}

// sameListener reports whether two specs of a frontend can share a
// listener: everything but its routes and pools is the same.
func sameListener(a, b lbconfig.Frontend) bool {
	a.Routes, b.Routes = nil, nil
	a.Pool, b.Pool = "", ""
	a.DefaultPool, b.DefaultPool = "", ""
	return reflect.DeepEqual(a, b)
}

// samePool reports whether two pool specs are the same configuration.
func samePool(a, b lbconfig.Pool) bool { return reflect.DeepEqual(a, b) }
