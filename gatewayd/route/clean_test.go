package route

import (
	"strings"
	"testing"
)

func TestCleanPath(t *testing.T) {
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"", "/", true},
		{"/", "/", true},
		{"/a/b", "/a/b", true},
		{"/a/b/", "/a/b/", true},
		{"//a///b", "/a/b", true},
		{"/a/./b", "/a/b", true},
		{"/a/b/.", "/a/b/", true},
		{"/a/b/..", "/a/", true},
		{"/a/../b", "/b", true},
		{"/a/b/../../c/", "/c/", true},
		{"/..", "", false},
		{"/a/../..", "", false},
		{"/a/../../b", "", false},
		{"/%2e%2e/etc/passwd", "", false},
		{"/a/%2E%2e/b", "/b", true},
		{"/%41%62c", "/Abc", true},
		{"/a%7e", "/a~", true},
		{"/a%2fb", "/a%2Fb", true},
		{"/a%2Fb", "/a%2Fb", true},
		{"/a%20b", "/a%20b", true},
		{"/a%zz", "", false},
		{"/a%2", "", false},
		{"/a%", "", false},
		{"a/b", "", false},
		{"*", "", false},
		{"/.hidden/..x/...", "/.hidden/..x/...", true},
		{"/./", "/", true},
		{"/.", "/", true},
	}
	for _, c := range cases {
		got, ok := CleanPath(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("CleanPath(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestCleanPathNoAllocWhenClean(t *testing.T) {
	p := "/api/v1/users/123/orders%2F7"
	allocs := testing.AllocsPerRun(100, func() {
		if q, ok := CleanPath(p); !ok || q != p {
			t.Fatalf("CleanPath(%q) = %q, %v", p, q, ok)
		}
	})
	if allocs != 0 {
		t.Errorf("CleanPath of a clean path allocates %v times", allocs)
	}
}

// FuzzCleanPath checks CleanPath's output: it starts with "/", has no empty
// or dot segments and no escapes of unreserved characters, and cleaning it
// again changes nothing.
func FuzzCleanPath(f *testing.F) {
	for _, s := range []string{"/", "/a/../b", "//x/./y/", "/%2e%2E/", "/a%2fb", "/..", "/%", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		q, ok := CleanPath(p)
		if !ok {
			return
		}
		if !strings.HasPrefix(q, "/") || strings.Contains(q, "//") {
			t.Fatalf("CleanPath(%q) = %q", p, q)
		}
		for _, seg := range strings.Split(q[1:], "/") {
			if seg == "." || seg == ".." {
				t.Fatalf("CleanPath(%q) = %q has a dot segment", p, q)
			}
		}
		if !isClean(q) {
			t.Fatalf("CleanPath(%q) = %q is not clean", p, q)
		}
		if r, ok := CleanPath(q); !ok || r != q {
			t.Fatalf("CleanPath(%q) = %q, but CleanPath(%q) = %q, %v", p, q, q, r, ok)
		}
	})
}
