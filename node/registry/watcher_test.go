package registry

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestStatic(t *testing.T) {
	s := Static{"api": {
		{ID: "b", Address: "10.0.0.2:80", Weight: 1},
		{ID: "a", Address: "10.0.0.1:80", Weight: 3},
	}}
	var got []Instance
	calls := 0
	stop := s.Watch(context.Background(), "api", func(list []Instance) {
		calls++
		got = list
	})
	require.Equal(t, 1, calls, "called once, before Watch returns")
	require.Equal(t, []Instance{
		{ID: "a", Address: "10.0.0.1:80", Weight: 3},
		{ID: "b", Address: "10.0.0.2:80", Weight: 1},
	}, got, "sorted by ID")
	require.Equal(t, "b", s["api"][0].ID, "the table itself is left unsorted")
	got[0].Address = "changed:1"
	require.Equal(t, "10.0.0.1:80", s["api"][1].Address, "fn gets a copy")
	stop()
	stop()
	require.Equal(t, 1, calls)

	s.Watch(context.Background(), "unknown", func(list []Instance) {
		calls++
		got = list
	})()
	require.Equal(t, 2, calls)
	require.Empty(t, got)
}
