package health

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseExpect(t *testing.T) {
	tests := []struct {
		in   string
		want string // String() of the result; "" = error
	}{
		{in: "", want: "200-399"},
		{in: "  ", want: "200-399"},
		{in: "200", want: "200"},
		{in: "200,204", want: "200,204"},
		{in: " 200 , 204 ", want: "200,204"},
		{in: "200-299,304", want: "200-299,304"},
		{in: "200 - 204", want: "200-204"},
		{in: "100-599", want: "100-599"},
		{in: "200-200", want: "200"},
		{in: "099"},
		{in: "600"},
		{in: "2000"},
		{in: "20"},
		{in: "abc"},
		{in: "200-"},
		{in: "-200"},
		{in: "200-100"},
		{in: "200,,204"},
		{in: "200,"},
		{in: "200-300-400"},
		{in: "+20"},
		{in: strings.Repeat("200,", maxExpectRanges) + "200"},
	}
	for _, tt := range tests {
		got, err := parseExpect(tt.in)
		if tt.want == "" {
			require.ErrorIs(t, err, ErrInvalidConfig, "%q", tt.in)
			require.ErrorContains(t, err, "Expect")
			continue
		}
		require.NoError(t, err, "%q", tt.in)
		require.Equal(t, tt.want, got.String(), "%q", tt.in)
	}
	r, err := parseExpect("200-299,304")
	require.NoError(t, err)
	for _, c := range []int{200, 250, 299, 304} {
		require.True(t, r.contains(c), "%d", c)
	}
	for _, c := range []int{100, 199, 300, 303, 305, 404, 500} {
		require.False(t, r.contains(c), "%d", c)
	}
}

// FuzzParseExpect checks that parseExpect never panics, accepts only codes in
// 100..599 in ordered ranges, and that its String form parses back to the
// same set.
func FuzzParseExpect(f *testing.F) {
	for _, s := range []string{"", "200", "200-399", "200,204", " 200 - 299 , 304", "600", "200-100", "2x0", ",", "-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := parseExpect(s)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalidConfig)
			return
		}
		require.NotEmpty(t, r)
		require.LessOrEqual(t, len(r), maxExpectRanges)
		for _, x := range r {
			require.True(t, 100 <= x.lo && x.lo <= x.hi && x.hi <= 599, "range %v from %q", x, s)
		}
		back, err := parseExpect(r.String())
		require.NoError(t, err, "String form %q of %q", r.String(), s)
		for c := 0; c < 700; c++ {
			require.Equal(t, r.contains(c), back.contains(c), "code %d, %q vs %q", c, s, r.String())
		}
	})
}
