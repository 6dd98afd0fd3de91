package store

import (
	"math"
	"time"
)

// An entry's expiry is one int64 (entry.expires), in one of two units:
//
//   - 0: no expiry;
//   - > 0: the Unix time in nanoseconds, up to math.MaxInt64 (April 2262);
//   - < 0: minus the Unix time in milliseconds, for a later time. Redis
//     accepts expiry times up to math.MaxInt64 milliseconds (EXPIREAT,
//     PEXPIREAT, SET … PXAT, and EX/PX that large), and reports them
//     exactly in TTL, PTTL, EXPIRETIME and PEXPIRETIME; nanoseconds cannot
//     hold them, and an entry has no room for a wider field.
//
// A negative expiry is never reached (the clock would have to pass 2262), so
// expiredAt only looks at positive ones.

// encodeExpiry returns the entry.expires for t (t must be after 1970).
func encodeExpiry(t time.Time) int64 {
	sec := t.Unix()
	if sec < 0 {
		return 1 // before 1970: long past
	}
	if sec < math.MaxInt64/int64(time.Second)-1 {
		if ns := t.UnixNano(); ns > 0 {
			return ns
		}
		return 1 // 1970: long past
	}
	const maxSec, maxMS = math.MaxInt64 / 1000, math.MaxInt64 % 1000
	if sec < maxSec || sec == maxSec && t.Nanosecond()/1e6 <= maxMS {
		return -t.UnixMilli()
	}
	return math.MinInt64 + 1 // beyond what milliseconds hold: the latest time
}

// expiryTime is the inverse of encodeExpiry for a non-zero expiry.
func expiryTime(enc int64) time.Time {
	if enc > 0 {
		return time.Unix(0, enc)
	}
	return time.UnixMilli(-enc)
}

// expiredAt reports whether e has expired at now (Unix ns).
func (e *entry) expiredAt(now int64) bool { return e.expires > 0 && e.expires <= now }

// remaining returns the time from now (Unix ns) to the non-zero expiry enc,
// saturating at the largest time.Duration.
func remaining(enc, now int64) time.Duration {
	if enc > 0 {
		return time.Duration(enc - now)
	}
	return time.Duration(math.MaxInt64)
}

// Now returns the store's clock (Config.Clock): callers that compute
// absolute expiry times, as Redis's EX and EXPIRE do, use it so that the
// store and they agree on the present.
func (s *Store) Now() time.Time { return s.clock() }
