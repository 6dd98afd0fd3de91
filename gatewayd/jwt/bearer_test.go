package jwt

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBearerToken(t *testing.T) {
	for _, tc := range []struct {
		vals []string
		want string
		ok   bool
	}{
		{[]string{"Bearer abc.def.ghi"}, "abc.def.ghi", true},
		{[]string{"bearer abc"}, "abc", true},
		{[]string{"BEARER  abc"}, "abc", true},
		{nil, "", false},
		{[]string{"Basic dXNlcjpwYXNz"}, "", false},
		{[]string{"Bearer"}, "", false},
		{[]string{"Bearer "}, "", false},
		{[]string{"Bearer a b"}, "", false},
		{[]string{"Bearer a", "Bearer b"}, "", false},
	} {
		h := http.Header{}
		for _, v := range tc.vals {
			h.Add("Authorization", v)
		}
		got, ok := BearerToken(h)
		require.Equal(t, tc.ok, ok, "%q", tc.vals)
		require.Equal(t, tc.want, got, "%q", tc.vals)
	}
}
