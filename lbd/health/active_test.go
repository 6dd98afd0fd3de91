package health

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestActive(t *testing.T) {
	refused := errors.New("dial tcp 127.0.0.1:1: connection refused")
	type step struct {
		err         error
		up, changed bool
		reason      string // "" = not checked
	}
	ok := func(up, changed bool, reason string) step { return step{nil, up, changed, reason} }
	bad := func(up, changed bool, reason string) step { return step{refused, up, changed, reason} }
	tests := []struct {
		name       string
		rise, fall int
		steps      []step
	}{
		{"initial success is up at once", 2, 3, []step{
			ok(true, true, "initial check passed"),
			ok(true, false, "initial check passed"),
		}},
		{"fall failures take it down", 2, 3, []step{
			ok(true, true, "initial check passed"),
			bad(true, false, "initial check passed"),
			bad(true, false, ""),
			bad(false, true, "3 consecutive failures: dial tcp 127.0.0.1:1: connection refused"),
			bad(false, false, "4 consecutive failures: dial tcp 127.0.0.1:1: connection refused"),
		}},
		{"a success restarts the failure count", 2, 2, []step{
			ok(true, true, ""),
			bad(true, false, ""),
			ok(true, false, ""),
			bad(true, false, ""),
			ok(true, false, ""),
		}},
		{"failed initial check needs rise", 2, 3, []step{
			bad(false, false, "1 consecutive failure: dial tcp 127.0.0.1:1: connection refused"),
			ok(false, false, "1 consecutive failure: dial tcp 127.0.0.1:1: connection refused"),
			ok(true, true, "2 consecutive successes"),
		}},
		{"rise after down, a failure restarts it", 3, 1, []step{
			ok(true, true, ""),
			bad(false, true, "1 consecutive failure: dial tcp 127.0.0.1:1: connection refused"),
			ok(false, false, ""),
			ok(false, false, ""),
			bad(false, false, "1 consecutive failure: dial tcp 127.0.0.1:1: connection refused"),
			ok(false, false, ""),
			ok(false, false, ""),
			ok(true, true, "3 consecutive successes"),
		}},
		{"rise and fall of 1", 1, 1, []step{
			bad(false, false, ""),
			ok(true, true, "1 consecutive success"),
			bad(false, true, ""),
			ok(true, true, "1 consecutive success"),
		}},
		{"zero rise and fall count as 1", 0, 0, []step{
			bad(false, false, ""),
			ok(true, true, "1 consecutive success"),
			bad(false, true, ""),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := NewActive(tt.rise, tt.fall)
			require.False(t, a.Up())
			require.Equal(t, "no check yet", a.Reason())
			for i, s := range tt.steps {
				up, changed := a.Record(s.err)
				require.Equal(t, s.up, up, "step %d up", i)
				require.Equal(t, s.changed, changed, "step %d changed", i)
				require.Equal(t, s.up, a.Up(), "step %d Up()", i)
				if s.reason != "" {
					require.Equal(t, s.reason, a.Reason(), "step %d reason", i)
				}
			}
		})
	}
}
