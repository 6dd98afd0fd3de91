package clusterconn

import (
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestWithDefaults(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      Config
		want    Config
		wantErr string // substring; "" means success
		noEps   bool   // want ErrNoEndpoints
	}{
		{
			name: "defaults",
			in:   Config{Endpoints: []string{"a:1"}},
			want: Config{Endpoints: []string{"a:1"}, DialTimeout: DefaultDialTimeout, RequestTimeout: DefaultRequestTimeout},
		},
		{
			name: "kept",
			in:   Config{Endpoints: []string{"a:1", "b:2"}, DialTimeout: time.Second, RequestTimeout: 2 * time.Second},
			want: Config{Endpoints: []string{"a:1", "b:2"}, DialTimeout: time.Second, RequestTimeout: 2 * time.Second},
		},
		{
			name: "trimmed",
			in:   Config{Endpoints: []string{" a:1 ", "", "  ", "[::1]:2"}},
			want: Config{Endpoints: []string{"a:1", "[::1]:2"}, DialTimeout: DefaultDialTimeout, RequestTimeout: DefaultRequestTimeout},
		},
		{name: "none", in: Config{}, noEps: true},
		{name: "blank", in: Config{Endpoints: []string{" ", ""}}, noEps: true},
		{
			name:    "not host:port",
			in:      Config{Endpoints: []string{"a:1", "nope"}},
			wantErr: `svc client: Config.Endpoints: "nope" is not host:port: `,
		},
		{
			name:    "negative dial timeout",
			in:      Config{Endpoints: []string{"a:1"}, DialTimeout: -time.Second},
			wantErr: "svc client: Config.DialTimeout must not be negative, got -1s",
		},
		{
			name:    "negative request timeout",
			in:      Config{Endpoints: []string{"a:1"}, RequestTimeout: -1},
			wantErr: "svc client: Config.RequestTimeout must not be negative, got -1ns",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			in.Endpoints = slices.Clone(tc.in.Endpoints)
			got, err := in.WithDefaults("svc")
			if !slices.Equal(in.Endpoints, tc.in.Endpoints) {
				t.Errorf("WithDefaults modified its receiver's Endpoints: %q", in.Endpoints)
			}
			switch {
			case tc.noEps:
				if err != ErrNoEndpoints {
					t.Fatalf("err = %v, want ErrNoEndpoints", err)
				}
			case tc.wantErr != "":
				if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want prefix %q", err, tc.wantErr)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got.Endpoints, tc.want.Endpoints) || got.DialTimeout != tc.want.DialTimeout ||
					got.RequestTimeout != tc.want.RequestTimeout || got.TLS != tc.want.TLS {
					t.Errorf("got %+v, want %+v", got, tc.want)
				}
			}
		})
	}
}

func FuzzWithDefaults(f *testing.F) {
	f.Add("127.0.0.1:7000", " b:1 ", int64(0), int64(0))
	f.Add("nope", "", int64(-1), int64(5))
	f.Add("", "  ", int64(1), int64(-1))
	f.Add("[::1]:", ":0", int64(time.Second), int64(time.Minute))
	f.Fuzz(func(t *testing.T, ep1, ep2 string, dial, req int64) {
		cfg := Config{Endpoints: []string{ep1, ep2}, DialTimeout: time.Duration(dial), RequestTimeout: time.Duration(req)}
		got, err := cfg.WithDefaults("svc")
		if err != nil {
			if !errors.Is(err, ErrNoEndpoints) && !strings.HasPrefix(err.Error(), "svc client: Config.") {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if got.DialTimeout <= 0 || got.RequestTimeout <= 0 {
			t.Fatalf("timeouts not positive: %+v", got)
		}
		if len(got.Endpoints) == 0 {
			t.Fatal("success without endpoints")
		}
		for _, ep := range got.Endpoints {
			if ep != strings.TrimSpace(ep) || ep == "" {
				t.Fatalf("endpoint %q not trimmed", ep)
			}
			if _, _, err := net.SplitHostPort(ep); err != nil {
				t.Fatalf("endpoint %q accepted: %v", ep, err)
			}
		}
	})
}
