package cdndemo

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/blobd/blobdtest"
	blobdclient "cairn.dev/cairn/blobd/client"
)

// A small demo against a real blobd: every request of the run without the
// CDN reaches the origin; with it, the shield tier lets at most one request
// per object through, and each region's edge answers the rest from cache.
func TestRunComparesWithAndWithoutCDN(t *testing.T) {
	bc := blobdtest.New(t, 3, nil)
	bc.WaitLeader()
	c, err := blobdclient.New(blobdclient.Config{Endpoints: bc.Endpoints()})
	require.NoError(t, err)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const objects, requests, regions = 10, 120, 2
	res, err := Run(ctx, Options{
		Blob: c, Objects: objects, Size: 2048, Requests: requests, Concurrency: 4, Regions: regions,
		EdgeLatency: time.Millisecond, OriginLatency: 5 * time.Millisecond, Seed: 7,
	})
	require.NoError(t, err)
	require.Zero(t, res.WithoutCDN.Errors)
	require.Zero(t, res.WithCDN.Errors)
	require.Equal(t, int64(requests), res.WithoutCDN.OriginRequests)
	require.LessOrEqual(t, res.WithCDN.OriginRequests, int64(objects), "the shield tier: one origin request per object at most")
	require.Len(t, res.WithCDN.Regions, regions)
	// Each edge misses an object at most once: the rest are hits.
	require.GreaterOrEqual(t, res.WithCDN.HitRatio, 1-float64(regions*objects)/float64(requests))
	// A second run finds the objects stored and reuses them.
	_, err = Run(ctx, Options{Blob: c, Objects: objects, Size: 2048, Requests: 10, Concurrency: 2, Regions: 1,
		EdgeLatency: time.Millisecond, OriginLatency: time.Millisecond, Seed: 8})
	require.NoError(t, err)
}
