package lockd

import (
	"slices"
	"sort"
	"strings"

	"google.golang.org/protobuf/types/known/timestamppb"

	lockdraftv1 "cairn.dev/cairn/proto/cairn/lockd/raft/v1"
	lockdv1 "cairn.dev/cairn/proto/cairn/lockd/v1"
)

// state is lockd's replicated state: sessions and the resources (locks,
// semaphores, elections) they hold or wait for. It is a pure function of the
// log: apply uses only the entry's index and the command (including the
// proposer's clock it carries), never the local clock, and it iterates maps only
// in sorted order, so every replica reaches the same state and the same results.
//
// state is not safe for concurrent use; machine serialises access.
type state struct {
	Applied   uint64
	Sessions  map[uint64]*session
	Resources map[resKey]*resource
	fx        *effects // effects of the entry being applied
}

// resKey names a resource: names of different kinds are separate name spaces.
type resKey struct {
	Kind lockdv1.ResourceKind
	Name string
}

// session is a client session. Held and Waiting index the resources that name
// it; they are derived from Resources and rebuilt on restore.
type session struct {
	ID      uint64 `json:"id"`
	TTLms   int64  `json:"ttl_ms"`
	Created int64  `json:"created"` // proposer's unix nanos

	held    map[resKey]struct{}
	waiting map[resKey]struct{}
}

// resource is a lock, a semaphore or an election. A resource exists while it has
// holders or waiters or (locks) a pending lock delay; otherwise it is deleted.
type resource struct {
	Kind       lockdv1.ResourceKind `json:"kind"`
	Name       string               `json:"name"`
	Permits    uint32               `json:"permits,omitempty"`     // semaphores
	Holders    []*holder            `json:"holders,omitempty"`     // in grant order
	Waiters    []*waiter            `json:"waiters,omitempty"`     // FIFO
	DelayUntil int64                `json:"delay_until,omitempty"` // unix nanos; locks only
}

type holder struct {
	Session   uint64           `json:"session"`
	Owner     []byte           `json:"owner,omitempty"`
	Token     uint64           `json:"token"`
	Since     int64            `json:"since"`
	Mode      lockdv1.LockMode `json:"mode,omitempty"`
	WaitID    uint64           `json:"wait_id,omitempty"` // the wait this grant ended, 0 if immediate
	LockDelay int64            `json:"lock_delay_ms,omitempty"`
}

type waiter struct {
	Session   uint64           `json:"session"`
	Owner     []byte           `json:"owner,omitempty"`
	Mode      lockdv1.LockMode `json:"mode,omitempty"`
	WaitID    uint64           `json:"wait_id"`
	Since     int64            `json:"since"`
	LockDelay int64            `json:"lock_delay_ms,omitempty"`
}

// effects records what one entry changed, for the machine to tell waiters,
// observers and the leader's session tracker.
type effects struct {
	touched  map[resKey]struct{}
	created  []*session
	removed  []uint64
	delaySet bool // some lock entered lock delay
}

func newState() *state {
	return &state{Sessions: map[uint64]*session{}, Resources: map[resKey]*resource{}}
}

// Domain error codes recorded in CommandResult.error; errorFromCode maps them back.
const (
	codeSessionNotFound = "session_not_found"
	codeNotHolder       = "not_holder"
	codeNotHeld         = "not_held"
	codePermitsMismatch = "permits_mismatch"
	codeModeConflict    = "mode_conflict"
	codeBadCommand      = "bad_command"
)

func fail(code, msg string) *lockdraftv1.CommandResult {
	return &lockdraftv1.CommandResult{Error: code, ErrorMessage: msg}
}

// apply applies one command at index and returns its result. Entries at or below
// the applied index are skipped (nil result).
func (st *state) apply(index uint64, cmd *lockdraftv1.Command, fx *effects) *lockdraftv1.CommandResult {
	if index <= st.Applied {
		return nil
	}
	st.Applied = index
	st.fx = fx
	defer func() { st.fx = nil }()
	now := cmd.GetUnixNanos()
	switch op := cmd.GetOp().(type) {
	case *lockdraftv1.Command_CreateSession:
		s := &session{ID: index, TTLms: op.CreateSession.GetTtlMs(), Created: now, held: map[resKey]struct{}{}, waiting: map[resKey]struct{}{}}
		st.Sessions[index] = s
		fx.created = append(fx.created, s)
		return &lockdraftv1.CommandResult{SessionId: index}
	case *lockdraftv1.Command_CloseSession:
		id := op.CloseSession.GetSessionId()
		if st.Sessions[id] == nil {
			return fail(codeSessionNotFound, sessionMsg(id))
		}
		st.endSession(index, now, id, false)
		return &lockdraftv1.CommandResult{SessionId: id}
	case *lockdraftv1.Command_ExpireSessions:
		for _, id := range op.ExpireSessions.GetSessionIds() {
			if st.Sessions[id] != nil {
				st.endSession(index, now, id, true)
			}
		}
		return &lockdraftv1.CommandResult{}
	case *lockdraftv1.Command_Acquire:
		return st.acquire(index, now, op.Acquire)
	case *lockdraftv1.Command_Release:
		return st.release(index, now, op.Release)
	case *lockdraftv1.Command_CancelWait:
		return st.cancelWait(index, now, op.CancelWait)
	case *lockdraftv1.Command_Proclaim:
		return st.proclaim(op.Proclaim)
	case *lockdraftv1.Command_EndLockDelay:
		for _, name := range op.EndLockDelay.GetNames() {
			k := resKey{lockdv1.ResourceKind_RESOURCE_KIND_LOCK, name}
			r := st.Resources[k]
			if r == nil || r.DelayUntil == 0 || now < r.DelayUntil {
				continue
			}
			r.DelayUntil = 0
			st.touch(k)
			st.promote(index, now, r)
			st.gc(r)
		}
		return &lockdraftv1.CommandResult{}
	default:
		return fail(codeBadCommand, "command has no known operation")
	}
}

func sessionMsg(id uint64) string {
	return "session " + uitoa(id) + " does not exist (closed, expired or never created)"
}

func (st *state) touch(k resKey) {
	if st.fx != nil {
		if st.fx.touched == nil {
			st.fx.touched = map[resKey]struct{}{}
		}
		st.fx.touched[k] = struct{}{}
	}
}

// endSession removes a session: its waits are dropped, its grants released
// (with lock delay if expired), and the resources' next waiters granted.
func (st *state) endSession(index uint64, now int64, id uint64, expired bool) {
	s := st.Sessions[id]
	delete(st.Sessions, id)
	st.fx.removed = append(st.fx.removed, id)
	for _, k := range sortedKeys(s.waiting) {
		r := st.Resources[k]
		if r == nil {
			continue
		}
		r.Waiters = slices.DeleteFunc(r.Waiters, func(w *waiter) bool { return w.Session == id })
		st.touch(k)
	}
	for _, k := range sortedKeys(s.held) {
		r := st.Resources[k]
		if r == nil {
			continue
		}
		i := r.holderIndex(id)
		if i < 0 {
			continue
		}
		h := r.Holders[i]
		r.Holders = slices.Delete(r.Holders, i, i+1)
		if expired && h.LockDelay > 0 && r.Kind == lockdv1.ResourceKind_RESOURCE_KIND_LOCK {
			until := now + h.LockDelay*1e6
			if until > r.DelayUntil {
				r.DelayUntil = until
			}
			st.fx.delaySet = true
		}
		st.touch(k)
	}
	// Promote after every grant and wait of the session is gone, in name order.
	keys := make([]resKey, 0, len(s.waiting)+len(s.held))
	keys = append(keys, sortedKeys(s.waiting)...)
	keys = append(keys, sortedKeys(s.held)...)
	for _, k := range keys {
		if r := st.Resources[k]; r != nil {
			st.promote(index, now, r)
			st.gc(r)
		}
	}
}

func sortedKeys(m map[resKey]struct{}) []resKey {
	out := make([]resKey, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return keyLess(out[i], out[j]) })
	return out
}

func keyLess(a, b resKey) bool {
	if a.Kind != b.Kind {
		return a.Kind < b.Kind
	}
	return a.Name < b.Name
}

func (r *resource) holderIndex(id uint64) int {
	for i, h := range r.Holders {
		if h.Session == id {
			return i
		}
	}
	return -1
}

func (r *resource) waiterIndex(id uint64) int {
	for i, w := range r.Waiters {
		if w.Session == id {
			return i
		}
	}
	return -1
}

// canGrant reports whether a request in mode could be granted now, looking at the
// holders and the lock delay only (the caller checks the queue).
func (r *resource) canGrant(mode lockdv1.LockMode) bool {
	switch r.Kind {
	case lockdv1.ResourceKind_RESOURCE_KIND_SEMAPHORE:
		return len(r.Holders) < int(r.Permits)
	case lockdv1.ResourceKind_RESOURCE_KIND_LOCK:
		if r.DelayUntil != 0 {
			return false
		}
		if mode == lockdv1.LockMode_LOCK_MODE_READ {
			for _, h := range r.Holders {
				if h.Mode != lockdv1.LockMode_LOCK_MODE_READ {
					return false
				}
			}
			return true
		}
		return len(r.Holders) == 0
	default: // election
		return len(r.Holders) == 0
	}
}

// promote grants waiters from the head of the queue while they can be granted: one
// writer, a run of readers, or as many semaphore waiters as there are free
// permits. Every grant's token is the current entry's index.
func (st *state) promote(index uint64, now int64, r *resource) {
	for len(r.Waiters) > 0 {
		w := r.Waiters[0]
		s := st.Sessions[w.Session]
		if s == nil { // defensive: ended sessions leave every queue
			r.Waiters = r.Waiters[1:]
			continue
		}
		if !r.canGrant(w.Mode) {
			return
		}
		r.Waiters = r.Waiters[1:]
		k := resKey{r.Kind, r.Name}
		delete(s.waiting, k)
		s.held[k] = struct{}{}
		r.Holders = append(r.Holders, &holder{Session: w.Session, Owner: w.Owner, Token: index, Since: now, Mode: w.Mode, WaitID: w.WaitID, LockDelay: w.LockDelay})
		st.touch(k)
	}
}

// gc deletes a resource that nobody holds, waits for or is delayed.
func (st *state) gc(r *resource) {
	if len(r.Holders) == 0 && len(r.Waiters) == 0 && r.DelayUntil == 0 {
		delete(st.Resources, resKey{r.Kind, r.Name})
	}
}

func normMode(kind lockdv1.ResourceKind, m lockdv1.LockMode) lockdv1.LockMode {
	if kind != lockdv1.ResourceKind_RESOURCE_KIND_LOCK || m == lockdv1.LockMode_LOCK_MODE_UNSPECIFIED {
		return lockdv1.LockMode_LOCK_MODE_WRITE
	}
	return m
}

// wouldQueue reports whether applying op now would queue a new wait: the
// session neither holds nor waits for the resource, and it cannot be granted
// (someone waits already, or the holders exclude op's mode). It mirrors
// acquire's decisions and changes nothing.
func (st *state) wouldQueue(op *lockdraftv1.AcquireOp) bool {
	s := st.Sessions[op.GetSessionId()]
	r := st.Resources[resKey{op.GetKind(), op.GetName()}]
	if s == nil || r == nil || !op.GetWait() {
		return false
	}
	if op.GetKind() == lockdv1.ResourceKind_RESOURCE_KIND_SEMAPHORE && r.Permits != op.GetPermits() {
		return false
	}
	if r.holderIndex(s.ID) >= 0 || r.waiterIndex(s.ID) >= 0 {
		return false
	}
	return len(r.Waiters) > 0 || !r.canGrant(normMode(op.GetKind(), op.GetMode()))
}

func (st *state) acquire(index uint64, now int64, op *lockdraftv1.AcquireOp) *lockdraftv1.CommandResult {
	s := st.Sessions[op.GetSessionId()]
	if s == nil {
		return fail(codeSessionNotFound, sessionMsg(op.GetSessionId()))
	}
	k := resKey{op.GetKind(), op.GetName()}
	mode := normMode(k.Kind, op.GetMode())
	r := st.Resources[k]
	if r == nil {
		r = &resource{Kind: k.Kind, Name: k.Name}
		if k.Kind == lockdv1.ResourceKind_RESOURCE_KIND_SEMAPHORE {
			r.Permits = op.GetPermits()
		}
	} else if k.Kind == lockdv1.ResourceKind_RESOURCE_KIND_SEMAPHORE && r.Permits != op.GetPermits() {
		return fail(codePermitsMismatch, "semaphore "+quote(k.Name)+" has "+uitoa(uint64(r.Permits))+" permits while in use; the request asked for "+uitoa(uint64(op.GetPermits())))
	}
	res := &lockdraftv1.CommandResult{Permits: r.Permits}
	if i := r.holderIndex(s.ID); i >= 0 {
		h := r.Holders[i]
		if h.Mode != mode {
			return fail(codeModeConflict, "session "+uitoa(s.ID)+" holds "+quote(k.Name)+" in mode "+h.Mode.String()+" and asked for "+mode.String())
		}
		res.Acquired, res.Holder = true, h.proto()
		return res
	}
	if i := r.waiterIndex(s.ID); i >= 0 {
		w := r.Waiters[i]
		if w.Mode != mode {
			return fail(codeModeConflict, "session "+uitoa(s.ID)+" waits for "+quote(k.Name)+" in mode "+w.Mode.String()+" and asked for "+mode.String())
		}
		res.WaitId = w.WaitID
		res.Holders = holdersProto(r.Holders)
		return res
	}
	if len(r.Waiters) == 0 && r.canGrant(mode) {
		h := &holder{Session: s.ID, Owner: op.GetOwner(), Token: index, Since: now, Mode: mode, LockDelay: op.GetLockDelayMs()}
		r.Holders = append(r.Holders, h)
		st.Resources[k] = r
		s.held[k] = struct{}{}
		st.touch(k)
		res.Acquired, res.Holder = true, h.proto()
		return res
	}
	res.Holders = holdersProto(r.Holders)
	if !op.GetWait() {
		return res
	}
	r.Waiters = append(r.Waiters, &waiter{Session: s.ID, Owner: op.GetOwner(), Mode: mode, WaitID: index, Since: now, LockDelay: op.GetLockDelayMs()})
	st.Resources[k] = r
	s.waiting[k] = struct{}{}
	st.touch(k)
	res.WaitId = index
	return res
}

func (st *state) release(index uint64, now int64, op *lockdraftv1.ReleaseOp) *lockdraftv1.CommandResult {
	id := op.GetSessionId()
	s := st.Sessions[id]
	if s == nil {
		return fail(codeSessionNotFound, sessionMsg(id))
	}
	k := resKey{op.GetKind(), op.GetName()}
	r := st.Resources[k]
	what := kindNoun(k.Kind) + " " + quote(k.Name)
	if r == nil || len(r.Holders) == 0 {
		return fail(codeNotHeld, what+" is not held by any session")
	}
	i := r.holderIndex(id)
	if i < 0 {
		return fail(codeNotHolder, what+" is held by session "+uitoa(r.Holders[0].Session)+", not by session "+uitoa(id))
	}
	r.Holders = slices.Delete(r.Holders, i, i+1)
	delete(s.held, k)
	st.touch(k)
	st.promote(index, now, r)
	st.gc(r)
	return &lockdraftv1.CommandResult{}
}

func (st *state) cancelWait(index uint64, now int64, op *lockdraftv1.CancelWaitOp) *lockdraftv1.CommandResult {
	id := op.GetSessionId()
	s := st.Sessions[id]
	if s == nil {
		return fail(codeSessionNotFound, sessionMsg(id))
	}
	k := resKey{op.GetKind(), op.GetName()}
	r := st.Resources[k]
	if r == nil {
		return &lockdraftv1.CommandResult{}
	}
	if i := r.waiterIndex(id); i >= 0 && r.Waiters[i].WaitID == op.GetWaitId() {
		r.Waiters = slices.Delete(r.Waiters, i, i+1)
		delete(s.waiting, k)
		st.touch(k)
		// The head may have changed (a cancelled writer at the head was blocking
		// readers behind it).
		st.promote(index, now, r)
		st.gc(r)
		return &lockdraftv1.CommandResult{Cancelled: true}
	}
	if i := r.holderIndex(id); i >= 0 && r.Holders[i].WaitID == op.GetWaitId() {
		h := r.Holders[i]
		if !op.GetReleaseIfGranted() {
			return &lockdraftv1.CommandResult{Acquired: true, Holder: h.proto(), Permits: r.Permits}
		}
		r.Holders = slices.Delete(r.Holders, i, i+1)
		delete(s.held, k)
		st.touch(k)
		st.promote(index, now, r)
		st.gc(r)
		return &lockdraftv1.CommandResult{Cancelled: true}
	}
	return &lockdraftv1.CommandResult{}
}

func (st *state) proclaim(op *lockdraftv1.ProclaimOp) *lockdraftv1.CommandResult {
	id := op.GetSessionId()
	if st.Sessions[id] == nil {
		return fail(codeSessionNotFound, sessionMsg(id))
	}
	k := resKey{lockdv1.ResourceKind_RESOURCE_KIND_ELECTION, op.GetElection()}
	r := st.Resources[k]
	if r == nil || len(r.Holders) == 0 {
		return fail(codeNotHeld, "election "+quote(k.Name)+" has no leader")
	}
	h := r.Holders[0]
	if h.Session != id {
		return fail(codeNotHolder, "election "+quote(k.Name)+" is led by session "+uitoa(h.Session)+", not by session "+uitoa(id))
	}
	h.Owner = op.GetValue()
	st.touch(k)
	return &lockdraftv1.CommandResult{Acquired: true, Holder: h.proto()}
}

// dueDelays returns the locks whose lock delay ended at or before now.
func (st *state) dueDelays(now int64, max int) []string {
	var out []string
	for k, r := range st.Resources {
		if r.DelayUntil != 0 && r.DelayUntil <= now {
			out = append(out, k.Name)
		}
	}
	sort.Strings(out)
	if len(out) > max {
		out = out[:max]
	}
	return out
}

// list returns up to limit resources of kind, in name order, with the prefix and
// sorting after startAfter; more reports whether there were others.
func (st *state) list(kind lockdv1.ResourceKind, prefix, startAfter string, limit int) (out []*resource, more bool) {
	var names []string
	for k := range st.Resources {
		if k.Kind == kind && strings.HasPrefix(k.Name, prefix) && k.Name > startAfter {
			names = append(names, k.Name)
		}
	}
	sort.Strings(names)
	if len(names) > limit {
		names, more = names[:limit], true
	}
	for _, n := range names {
		out = append(out, st.Resources[resKey{kind, n}])
	}
	return out, more
}

// count reports how many resources of kind exist.
func (st *state) count(kind lockdv1.ResourceKind) int {
	n := 0
	for k := range st.Resources {
		if k.Kind == kind {
			n++
		}
	}
	return n
}

func (h *holder) proto() *lockdv1.Holder {
	return &lockdv1.Holder{SessionId: h.Session, Owner: h.Owner, Token: h.Token, Since: tsProto(h.Since), Mode: h.Mode}
}

func (w *waiter) proto() *lockdv1.Waiter {
	return &lockdv1.Waiter{SessionId: w.Session, Owner: w.Owner, Mode: w.Mode, WaitId: w.WaitID, Since: tsProto(w.Since)}
}

func holdersProto(hs []*holder) []*lockdv1.Holder {
	out := make([]*lockdv1.Holder, 0, len(hs))
	for _, h := range hs {
		out = append(out, h.proto())
	}
	return out
}

func waitersProto(ws []*waiter) []*lockdv1.Waiter {
	out := make([]*lockdv1.Waiter, 0, len(ws))
	for _, w := range ws {
		out = append(out, w.proto())
	}
	return out
}

func tsProto(unixNanos int64) *timestamppb.Timestamp {
	if unixNanos == 0 {
		return nil
	}
	return timestamppb.New(timeFromNanos(unixNanos))
}

// leaderInfo returns the leader of an election resource, nil if none.
func leaderInfo(name string, r *resource) *lockdv1.LeaderInfo {
	if r == nil || len(r.Holders) == 0 {
		return nil
	}
	h := r.Holders[0]
	return &lockdv1.LeaderInfo{Election: name, SessionId: h.Session, Value: h.Owner, Token: h.Token, Since: tsProto(h.Since)}
}

func kindNoun(k lockdv1.ResourceKind) string {
	switch k {
	case lockdv1.ResourceKind_RESOURCE_KIND_SEMAPHORE:
		return "semaphore"
	case lockdv1.ResourceKind_RESOURCE_KIND_ELECTION:
		return "election"
	default:
		return "lock"
	}
}
