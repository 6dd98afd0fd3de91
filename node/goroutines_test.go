package node

import (
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestGoroutinesWaitsAndRefusesAfterClose(t *testing.T) {
	var g Goroutines
	var ran atomic.Int32
	release := make(chan struct{})
	for range 3 {
		require.True(t, g.Go(func() { <-release; ran.Add(1) }))
	}
	g.Close()
	require.False(t, g.Go(func() { ran.Add(100) }), "no goroutine after Close")
	close(release)
	g.Wait()
	require.Equal(t, int32(3), ran.Load())
}
