package lockd

import (
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/types/known/durationpb"

	"cairn.dev/cairn/node/rpcerr"
	lockdv1 "cairn.dev/cairn/proto/cairn/lockd/v1"
)

// limits are the request limits a Server enforces, from Config. Every check names
// the field and the limit in its message.
type limits struct {
	maxName, maxOwner, maxList int
	minTTL, maxTTL, maxDelay   time.Duration
	maxPermits                 uint32
}

func (c Config) limits() limits {
	return limits{
		maxName:    c.MaxNameBytes,
		maxOwner:   c.MaxOwnerBytes,
		maxList:    c.MaxListItems,
		minTTL:     c.MinSessionTTL,
		maxTTL:     c.MaxSessionTTL,
		maxDelay:   c.MaxLockDelay,
		maxPermits: uint32(c.MaxPermits),
	}
}

// overLimit is ErrTooLarge for field, size bytes long, over the limit named
// limitName; its message and metadata name the field, the size and the limit.
func overLimit(field string, size int, limitName string, limit int) error {
	return rpcerr.WithMetadata(fmt.Errorf("%w: %s is %d bytes, the limit (%s) is %d", ErrTooLarge, field, size, limitName, limit),
		rpcerr.KeyField, field, rpcerr.KeySize, strconv.Itoa(size), rpcerr.KeyLimit, strconv.Itoa(limit), rpcerr.KeyLimitName, limitName)
}

func (l limits) name(field, name string) error {
	if name == "" {
		return rpcerr.WithMetadata(fmt.Errorf("%w: %s must not be empty", ErrInvalidArgument, field), rpcerr.KeyField, field)
	}
	if len(name) > l.maxName {
		return overLimit(field, len(name), "max_name_bytes", l.maxName)
	}
	return validUTF8(field, name)
}

// validUTF8 rejects a string field that is not valid UTF-8. gRPC's decoding
// rejects such a request before a handler sees it (proto3 strings must be
// UTF-8); this keeps requests built in-process to the same rule.
func validUTF8(field, s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: %s %q is not valid UTF-8", ErrInvalidArgument, field, s)
	}
	return nil
}

func (l limits) owner(field string, v []byte) error {
	if len(v) > l.maxOwner {
		return overLimit(field, len(v), "max_owner_bytes", l.maxOwner)
	}
	return nil
}

func sessionID(id uint64) error {
	if id == 0 {
		return fmt.Errorf("%w: session_id must be set (ids start at 1)", ErrInvalidArgument)
	}
	return nil
}

// duration converts a proto duration, rejecting malformed values.
func duration(field string, d *durationpb.Duration) (time.Duration, error) {
	if d == nil {
		return 0, nil
	}
	if err := d.CheckValid(); err != nil {
		return 0, fmt.Errorf("%w: %s: %v", ErrInvalidArgument, field, err)
	}
	return d.AsDuration(), nil
}

func (l limits) validateCreateSession(r *lockdv1.CreateSessionRequest) (time.Duration, error) {
	ttl, err := duration("ttl", r.GetTtl())
	if err != nil {
		return 0, err
	}
	if ttl < l.minTTL || ttl > l.maxTTL {
		return 0, fmt.Errorf("%w: ttl %v must be in [%v, %v] (min_session_ttl, max_session_ttl)", ErrBadTTL, ttl, l.minTTL, l.maxTTL)
	}
	if ttl%time.Millisecond != 0 {
		return 0, fmt.Errorf("%w: ttl %v must be a whole number of milliseconds", ErrBadTTL, ttl)
	}
	return ttl, nil
}

func validMode(m lockdv1.LockMode) error {
	if _, ok := lockdv1.LockMode_name[int32(m)]; !ok {
		return fmt.Errorf("%w: mode %d is not a known LockMode", ErrInvalidArgument, m)
	}
	return nil
}

func (l limits) validateAcquire(r *lockdv1.AcquireRequest) (time.Duration, error) {
	if err := sessionID(r.GetSessionId()); err != nil {
		return 0, err
	}
	if err := l.name("name", r.GetName()); err != nil {
		return 0, err
	}
	if err := l.owner("owner", r.GetOwner()); err != nil {
		return 0, err
	}
	if err := validMode(r.GetMode()); err != nil {
		return 0, err
	}
	d, err := duration("lock_delay", r.GetLockDelay())
	if err != nil {
		return 0, err
	}
	if d < 0 || d > l.maxDelay {
		return 0, fmt.Errorf("%w: lock_delay %v must be in [0, %v] (max_lock_delay)", ErrInvalidArgument, d, l.maxDelay)
	}
	return d, nil
}

func (l limits) validateRelease(session uint64, field, name string) error {
	if err := sessionID(session); err != nil {
		return err
	}
	return l.name(field, name)
}

func (l limits) validateSemaphoreAcquire(r *lockdv1.SemaphoreAcquireRequest) error {
	if err := sessionID(r.GetSessionId()); err != nil {
		return err
	}
	if err := l.name("name", r.GetName()); err != nil {
		return err
	}
	if err := l.owner("owner", r.GetOwner()); err != nil {
		return err
	}
	if r.GetPermits() < 1 || r.GetPermits() > l.maxPermits {
		return fmt.Errorf("%w: permits %d must be in [1, %d] (max_permits)", ErrInvalidArgument, r.GetPermits(), l.maxPermits)
	}
	return nil
}

func (l limits) validateCampaign(session uint64, election string, value []byte) error {
	if err := sessionID(session); err != nil {
		return err
	}
	if err := l.name("election", election); err != nil {
		return err
	}
	return l.owner("value", value)
}

// validateList checks a page request and returns the effective limit.
func (l limits) validateList(prefix, startAfter string, limit int64) (int, error) {
	if len(prefix) > l.maxName {
		return 0, fmt.Errorf("%w: prefix is %d bytes, the limit (max_name_bytes) is %d", ErrTooLarge, len(prefix), l.maxName)
	}
	if len(startAfter) > l.maxName {
		return 0, fmt.Errorf("%w: start_after is %d bytes, the limit (max_name_bytes) is %d", ErrTooLarge, len(startAfter), l.maxName)
	}
	if err := validUTF8("prefix", prefix); err != nil {
		return 0, err
	}
	if err := validUTF8("start_after", startAfter); err != nil {
		return 0, err
	}
	if limit < 0 {
		return 0, fmt.Errorf("%w: limit %d must be >= 0", ErrInvalidArgument, limit)
	}
	if limit == 0 || limit > int64(l.maxList) {
		return l.maxList, nil
	}
	return int(limit), nil
}
