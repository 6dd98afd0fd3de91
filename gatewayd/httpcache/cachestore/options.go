package cachestore

import (
	"errors"
	"fmt"
	"log/slog"
)

// Options configures a Store.
type Options struct {
	// MemoryBytes bounds the memory tier (required, > 0). An object costs
	// its body, its meta, its id and a fixed overhead (EntryOverhead).
	// Objects evicted and waiting to be written to the disk tier are held
	// beyond it (at most MemoryBytes/4 queued, plus one per Commit that
	// found the queue full and writes its victims itself).
	MemoryBytes int64
	// DiskBytes bounds the disk tier (file sizes); 0: no disk tier. One
	// object may take at most a quarter of it.
	DiskBytes int64
	// Dir is the disk tier's directory (required with DiskBytes).
	Dir string
	// MaxMemoryObject: larger objects go straight to disk (default
	// MemoryBytes/16); without a disk tier they are refused (ErrTooLarge).
	MaxMemoryObject int64
	// Logger receives disk errors and recovery notes; nil discards them.
	Logger *slog.Logger
	// Seed is the sketch's hash seed.
	Seed uint64
}

// EntryOverhead is the bytes a memory object is charged beyond its body,
// meta and id (index, policy and body structures).
const EntryOverhead = 160

// Errors of Open and Create beyond httpcache's.
var (
	// ErrClosed: the Store was closed.
	ErrClosed = errors.New("cachestore: store closed")
	// ErrLocked: another Store (in this or another process) has Dir open.
	ErrLocked = errors.New("cachestore: Dir is in use by another store")
	// ErrSize: a Writer received more or fewer bytes than the size given to Create.
	ErrSize = errors.New("cachestore: body size differs from the declared size")
)

// validate checks o and fills defaults.
func (o *Options) validate() error {
	if o.MemoryBytes <= 0 {
		return fmt.Errorf("cachestore: MemoryBytes is %d, it must be > 0", o.MemoryBytes)
	}
	if o.DiskBytes < 0 {
		return fmt.Errorf("cachestore: DiskBytes is %d, it must be >= 0", o.DiskBytes)
	}
	if o.DiskBytes > 0 && o.Dir == "" {
		return errors.New("cachestore: Dir is required when DiskBytes > 0")
	}
	if o.MaxMemoryObject < 0 {
		return fmt.Errorf("cachestore: MaxMemoryObject is %d, it must be >= 0", o.MaxMemoryObject)
	}
	if o.MaxMemoryObject == 0 {
		o.MaxMemoryObject = o.MemoryBytes / 16
	}
	if o.MaxMemoryObject > o.MemoryBytes {
		return fmt.Errorf("cachestore: MaxMemoryObject is %d, the limit (MemoryBytes) is %d", o.MaxMemoryObject, o.MemoryBytes)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// maxDiskObject is the largest object the disk tier accepts: a quarter of
// it, so that one object never flushes the tier.
func (o *Options) maxDiskObject() int64 { return o.DiskBytes / 4 }
