package imageopt

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	cases := []struct {
		query string
		want  Params
		ok    bool
		err   string // substring of the error; "" for none
	}{
		{query: "", ok: false},
		{query: "v=3&utm_source=x", ok: false},
		{query: "width=300", want: Params{Width: 300}, ok: true},
		{query: "height=200", want: Params{Height: 200}, ok: true},
		{query: "width=300&height=200&fit=cover", want: Params{Width: 300, Height: 200, Fit: FitCover}, ok: true},
		{query: "width=300&height=200&fit=FILL", want: Params{Width: 300, Height: 200, Fit: FitFill}, ok: true},
		{query: "format=jpg", want: Params{Format: FormatJPEG}, ok: true},
		{query: "format=WebP", want: Params{Format: FormatWebP}, ok: true},
		{query: "format=png&width=10", want: Params{Format: FormatPNG, Width: 10}, ok: true},
		{query: "quality=60", want: Params{Quality: 60}, ok: true},
		{query: "width=4096&height=4096", want: Params{Width: 4096, Height: 4096}, ok: true},
		{query: "width=%201%20", want: Params{Width: 1}, ok: true},
		// Parameters without effect: no transform.
		{query: "fit=cover", ok: false},
		{query: "quality=82", ok: false},
		{query: "width=10&height=10&fit=contain", want: Params{Width: 10, Height: 10, Fit: FitContain}, ok: true},
		// Errors name the parameter and the limit.
		{query: "width=0", err: "width is 0, the limit (max_width) is 1..4096"},
		{query: "width=4097", err: "width is 4097, the limit (max_width) is 1..4096"},
		{query: "height=99999", err: "height is 99999, the limit (max_height) is 1..4096"},
		{query: "width=-5", err: "width is -5, the limit (max_width)"},
		{query: "width=abc", err: `width is "abc", not an integer in 1..4096`},
		{query: "width=", err: `width is "", not an integer`},
		{query: "width=1.5", err: "width is \"1.5\""},
		{query: "width=99999999999999999999", err: "not an integer in 1..4096"},
		{query: "quality=0", err: "quality is 0, the range is 1..100"},
		{query: "quality=101", err: "quality is 101, the range is 1..100"},
		{query: "fit=stretch", err: `fit is "stretch" (want contain, cover or fill)`},
		{query: "format=gif", err: `format is "gif" (want jpeg, png or webp)`},
		{query: "width=1&width=2", err: "width is given 2 times"},
	}
	for _, c := range cases {
		q, err := url.ParseQuery(c.query)
		if err != nil {
			t.Fatal(err)
		}
		p, ok, err := Parse(q)
		if c.err != "" {
			if !errors.Is(err, ErrBadParam) || !strings.Contains(err.Error(), c.err) {
				t.Errorf("Parse(%q) error = %v, want ErrBadParam containing %q", c.query, err, c.err)
			}
			continue
		}
		if err != nil || ok != c.ok || p != c.want {
			t.Errorf("Parse(%q) = %+v, %v, %v; want %+v, %v", c.query, p, ok, err, c.want, c.ok)
		}
	}
}

func TestParseLimits(t *testing.T) {
	lim := Limits{MaxWidth: 800, MaxHeight: 600}
	if _, _, err := ParseLimits(url.Values{"width": {"801"}}, lim); err == nil || !strings.Contains(err.Error(), "the limit (max_width) is 1..800") {
		t.Errorf("width 801 over 800: %v", err)
	}
	if _, _, err := ParseLimits(url.Values{"height": {"601"}}, lim); err == nil || !strings.Contains(err.Error(), "the limit (max_height) is 1..600") {
		t.Errorf("height 601 over 600: %v", err)
	}
	if p, ok, err := ParseLimits(url.Values{"width": {"800"}, "height": {"600"}}, lim); err != nil || !ok || p.Width != 800 || p.Height != 600 {
		t.Errorf("at the limits: %+v %v %v", p, ok, err)
	}
}

func TestCanonical(t *testing.T) {
	cases := []struct {
		p    Params
		want string
	}{
		{Params{}, ""},
		{Params{Width: 300}, "width=300"},
		{Params{Width: 300, Fit: FitCover}, "width=300"}, // fit needs both sizes
		{Params{Width: 300, Height: 200}, "width=300&height=200"},
		{Params{Width: 300, Height: 200, Fit: FitContain}, "width=300&height=200"},
		{Params{Width: 300, Height: 200, Fit: FitCover}, "width=300&height=200&fit=cover"},
		{Params{Height: 200, Width: 300, Fit: FitFill, Format: FormatWebP, Quality: 50}, "width=300&height=200&fit=fill&format=webp"},
		{Params{Format: FormatJPEG, Quality: 50}, "format=jpeg&quality=50"},
		{Params{Quality: 50}, "quality=50"},
		{Params{Format: FormatPNG, Quality: 50}, "format=png"},
		{Params{Format: FormatJPEG, Quality: DefaultQuality}, "format=jpeg"},
	}
	for _, c := range cases {
		if got := c.p.Canonical(); got != c.want {
			t.Errorf("%+v.Canonical() = %q, want %q", c.p, got, c.want)
		}
	}
	// Parse of a canonical form gives the same canonical form.
	for _, c := range cases {
		q, _ := url.ParseQuery(c.want)
		p, _, err := Parse(q)
		if err != nil || p.Canonical() != c.want {
			t.Errorf("Parse(%q).Canonical() = %q, %v", c.want, p.Canonical(), err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"width=10", "width=1&height=2&fit=cover&format=webp&quality=3", "width=a", "fit=x&fit=y", "quality=100000000000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, query string) {
		q, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		p, ok, err := Parse(q)
		if err != nil {
			if !errors.Is(err, ErrBadParam) {
				t.Fatalf("Parse(%q): error %v is not ErrBadParam", query, err)
			}
			return
		}
		if err := (Limits{}).withDefaults().check(p); err != nil {
			t.Fatalf("Parse(%q) = %+v, which the limits refuse: %v", query, p, err)
		}
		if ok != (p.Canonical() != "") {
			t.Fatalf("Parse(%q): ok %v but Canonical %q", query, ok, p.Canonical())
		}
	})
}
