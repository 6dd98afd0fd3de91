package volume

import (
	"errors"
	"fmt"
)

// Errors returned by the store. Test with errors.Is.
var (
	// ErrVolumeNotFound: no volume with that id on this server.
	ErrVolumeNotFound = errors.New("volume: volume not found")
	// ErrExists: Create or ReceiveCopy of a volume that is already here.
	ErrExists = errors.New("volume: volume exists")
	// ErrNotFound: no live needle with that id (never written, or deleted).
	ErrNotFound = errors.New("volume: needle not found")
	// ErrDeleted: a Write of an id that was deleted; ids are never reused.
	ErrDeleted = errors.New("volume: needle was deleted")
	// ErrConflict: a Write of an id that holds other content (size, cookie
	// or CRC differ).
	ErrConflict = errors.New("volume: needle exists with other content")
	// ErrCookieMismatch: the cookie does not match the needle's.
	ErrCookieMismatch = errors.New("volume: cookie mismatch")
	// ErrCorrupt: stored bytes (or a copy stream) fail their checks; the
	// error is a *CorruptError naming the volume and needle.
	ErrCorrupt = errors.New("volume: corrupt")
	// ErrVolumeFull: the needle would take the volume past MaxVolumeBytes.
	ErrVolumeFull = errors.New("volume: volume full")
	// ErrReadOnly: a write or delete to a volume marked read-only.
	ErrReadOnly = errors.New("volume: volume is read-only")
	// ErrTooLarge: a needle larger than MaxNeedleBytes.
	ErrTooLarge = errors.New("volume: needle too large")
	// ErrShortData: the reader given to Write ended before size bytes.
	ErrShortData = errors.New("volume: data shorter than its size")
	// ErrRange: a read range outside the needle.
	ErrRange = errors.New("volume: range outside the needle")
	// ErrDamaged: the volume's files could not be opened (bad superblock);
	// it can only be dropped.
	ErrDamaged = errors.New("volume: volume damaged")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("volume: store closed")
	// ErrFailed wraps the storage error (a failed write, truncate or fsync)
	// after which a volume refuses writes, deletes and syncs: what is on disk
	// is no longer known, so the store must be reopened (which recovers it).
	ErrFailed = errors.New("volume: volume failed")
)

// CorruptError is ErrCorrupt with where: the volume, the needle (0 when the
// damage is not in one needle), the file offset and what failed.
type CorruptError struct {
	Volume uint32
	Needle uint64
	Offset int64
	Reason string
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("volume: corrupt: volume %d needle %d at offset %d: %s", e.Volume, e.Needle, e.Offset, e.Reason)
}

// Is makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }
