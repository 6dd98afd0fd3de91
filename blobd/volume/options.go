package volume

import (
	"fmt"
	"log/slog"
	"time"
)

// Defaults and limits for Options.
const (
	DefaultMaxVolumeBytes = 1 << 30
	// MaxVolumeBytesLimit bounds MaxVolumeBytes: index offsets are uint32
	// counts of 8 bytes.
	MaxVolumeBytesLimit   = 32 << 30
	DefaultMaxNeedleBytes = 16 << 20
	// MaxNeedleBytesLimit bounds MaxNeedleBytes: sizes are uint32.
	MaxNeedleBytesLimit = 1<<32 - 1
)

// Options configure a Store. Zero values take the defaults shown.
type Options struct {
	// Dir holds the volume files; created when missing. Required.
	Dir string
	// MaxVolumeBytes: a write that would take a volume's .dat past this size
	// fails with ErrVolumeFull (default 1 GiB, at most 32 GiB).
	MaxVolumeBytes int64
	// MaxNeedleBytes bounds one needle's data (default 16 MiB); Write
	// refuses larger ones with ErrTooLarge. Read allocates up to this much.
	MaxNeedleBytes int64
	// ScrubBytesPerSec paces Scrub (<= 0: as fast as the disk allows).
	ScrubBytesPerSec int64
	// Now is the clock (default time.Now); it stamps new volumes.
	Now func() time.Time
	// Logger receives recovery, compaction and failure events (default
	// slog.Default()).
	Logger *slog.Logger
}

func (o *Options) setDefaults() error {
	if o.Dir == "" {
		return fmt.Errorf("volume: options.dir is empty")
	}
	if o.MaxVolumeBytes == 0 {
		o.MaxVolumeBytes = DefaultMaxVolumeBytes
	}
	if o.MaxVolumeBytes < superLen || o.MaxVolumeBytes > MaxVolumeBytesLimit {
		return fmt.Errorf("volume: options.max_volume_bytes %d outside [%d, %d]", o.MaxVolumeBytes, superLen, int64(MaxVolumeBytesLimit))
	}
	if o.MaxNeedleBytes == 0 {
		o.MaxNeedleBytes = DefaultMaxNeedleBytes
	}
	if o.MaxNeedleBytes < 0 || o.MaxNeedleBytes > MaxNeedleBytesLimit {
		return fmt.Errorf("volume: options.max_needle_bytes %d outside [0, %d]", o.MaxNeedleBytes, int64(MaxNeedleBytesLimit))
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return nil
}
