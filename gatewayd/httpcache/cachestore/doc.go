// Package cachestore implements httpcache.Storage in two tiers: a memory
// tier and an optional disk tier, both bounded in bytes and governed by a
// W-TinyLFU admission policy.
//
// Every access (Get, Touch) is counted in a count-min sketch of 4-bit
// counters behind a doorkeeper Bloom filter; the counters are halved
// periodically so that old popularity fades. A new object enters a small
// window LRU (about 1 % of the tier); when the window overflows, its least
// recent object becomes a candidate for the main area (a segmented LRU:
// probation and protected), which it enters only if its estimated
// frequency beats that of every main object it would displace. Objects
// evicted from memory (and candidates refused by it) are demoted to the
// disk tier in the background, where the same policy decides again.
// Objects found on disk that the memory tier would admit are promoted back.
//
// The disk tier keeps one file per object under Dir/objects (256 fan-out
// subdirectories). A file is written under Dir/tmp and renamed into place
// at Commit, so a torn write is never visible; Open removes leftovers and
// files whose header does not check out, and reopens the rest. Files are
// named by a unique generation, never by id, so replacing or deleting an
// object never disturbs a Body still reading the previous file. Files are
// not fsynced (a cache can fetch again): the header's checksum covers the
// id and meta and its lengths must match the file's, so an object torn by
// a crash is dropped at Open; body bytes are not checksummed.
//
// Use:
//
//	s, err := cachestore.Open(cachestore.Options{MemoryBytes: 256 << 20, DiskBytes: 10 << 30, Dir: dir})
//	c, err := httpcache.New(httpcache.Options{Storage: s, ...})
//	...
//	s.Close()
package cachestore
