package route

import (
	"testing"

	"cairn.dev/cairn/gatewayd/gwconfig"
)

func TestRewrite(t *testing.T) {
	params := map[string]string{"id": "42", "rest": "a/b", "empty": ""}
	cases := []struct {
		name string
		spec gwconfig.Rewrite
		path string
		want string
	}{
		{"none", gwconfig.Rewrite{}, "/x/y", "/x/y"},
		{"strip", gwconfig.Rewrite{StripPrefix: "/api"}, "/api/users", "/users"},
		{"strip whole", gwconfig.Rewrite{StripPrefix: "/api"}, "/api", "/"},
		{"strip trailing slash kept", gwconfig.Rewrite{StripPrefix: "/api"}, "/api/", "/"},
		{"strip not a segment", gwconfig.Rewrite{StripPrefix: "/api"}, "/apix/users", "/apix/users"},
		{"strip absent", gwconfig.Rewrite{StripPrefix: "/api"}, "/other", "/other"},
		{"strip slash spec", gwconfig.Rewrite{StripPrefix: "/api/"}, "/api/v1", "/v1"},
		{"strip root", gwconfig.Rewrite{StripPrefix: "/"}, "/v1", "/v1"},
		{"path literal", gwconfig.Rewrite{Path: "/fixed"}, "/anything", "/fixed"},
		{"path params", gwconfig.Rewrite{Path: "/v2/users/{id}/files/{rest}"}, "/x", "/v2/users/42/files/a/b"},
		{"path rest syntax", gwconfig.Rewrite{Path: "/f/{rest...}"}, "/x", "/f/a/b"},
		{"path empty param", gwconfig.Rewrite{Path: "/a/{empty}/b"}, "/x", "/a/b"},
		{"path missing param", gwconfig.Rewrite{Path: "/a/{nope}"}, "/x", "/a/"},
		{"path unbalanced", gwconfig.Rewrite{Path: "/a/{id"}, "/x", "/a/{id"},
	}
	for _, c := range cases {
		if got := Rewrite(c.spec, c.path, params); got != c.want {
			t.Errorf("%s: Rewrite(%+v, %q) = %q, want %q", c.name, c.spec, c.path, got, c.want)
		}
	}
}
