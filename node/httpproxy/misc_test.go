package httpproxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestWriteError(t *testing.T) {
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		r := httptest.NewRequest(method, "/", nil)
		r.Header.Set("X-Request-Id", "rid-7")
		w := httptest.NewRecorder()
		w.Header().Set("Www-Authenticate", `Bearer error="invalid_token"`)
		w.Header().Set("Etag", `"stale"`)
		WriteError(w, r, http.StatusUnauthorized, "unauthorized", `token "expired"`+"\n")
		if w.Code != 401 || w.Header().Get("Content-Type") != "application/json" || w.Header().Get("Cache-Control") != "no-store" {
			t.Fatalf("%s: %d %v", method, w.Code, w.Header())
		}
		if w.Header().Get("Www-Authenticate") == "" || w.Header().Get("Etag") != "" {
			t.Errorf("%s: headers %v", method, w.Header())
		}
		if method == http.MethodHead {
			if w.Body.Len() != 0 {
				t.Errorf("HEAD got a body")
			}
			continue
		}
		if cl := w.Header().Get("Content-Length"); cl != "" && cl != itoa(w.Body.Len()) {
			t.Errorf("content-length %s for %d bytes", cl, w.Body.Len())
		}
		var body map[string]string
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"error": "unauthorized", "message": "token \"expired\"\n", "request_id": "rid-7"}
		for k, v := range want {
			if body[k] != v {
				t.Errorf("%s = %q, want %q", k, body[k], v)
			}
		}
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestStatusWriterAndAccessLog(t *testing.T) {
	var logs bytes.Buffer
	al := AccessLog(slog.New(slog.NewJSONHandler(&logs, nil)))
	var sw StatusWriter
	handled := make(chan struct{}) // the handler logged: sw and logs are final
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(handled)
		start := time.Now()
		sw.Reset(w)
		RequestID(r)
		sw.WriteHeader(http.StatusEarlyHints) // informational: not recorded
		sw.WriteHeader(http.StatusCreated)
		sw.WriteHeader(http.StatusTeapot) // superfluous: ignored
		_, _ = io.WriteString(&sw, "12345")
		sw.Flush()
		if rc := http.NewResponseController(&sw); rc.SetWriteDeadline(time.Now().Add(time.Minute)) != nil {
			t.Error("ResponseController cannot reach the wrapped writer")
		}
		al.Log(r.Context(), NewAccessRecord(r, &sw, start, "route-a", "up-a"))
	})
	srv := serve(t, ServerConfig{}, h)
	resp, err := http.Get("http://" + srv.Addr() + "/some/path?q=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	<-handled // the client may read the flushed answer before the handler logs
	if resp.StatusCode != http.StatusCreated || sw.Status() != http.StatusCreated || sw.Bytes() != 5 || !sw.Written() {
		t.Fatalf("client %d, writer %d/%d", resp.StatusCode, sw.Status(), sw.Bytes())
	}
	var rec map[string]any
	if err := json.Unmarshal(logs.Bytes(), &rec); err != nil {
		t.Fatalf("log %q: %v", logs.String(), err)
	}
	for k, v := range map[string]any{
		"msg": "access", "method": "GET", "path": "/some/path", "status": 201.0, "bytes": 5.0,
		"route": "route-a", "upstream": "up-a", "client_ip": "127.0.0.1",
	} {
		if rec[k] != v {
			t.Errorf("%s = %v, want %v", k, rec[k], v)
		}
	}
	if id, _ := rec["request_id"].(string); len(id) != 32 {
		t.Errorf("request id %v", rec["request_id"])
	}
	if _, ok := rec["duration"]; !ok {
		t.Error("no duration")
	}
	// Nothing written: the record says 499.
	var empty StatusWriter
	empty.Reset(httptest.NewRecorder())
	if r := NewAccessRecord(httptest.NewRequest("GET", "/", nil), &empty, time.Now(), "", ""); r.Status != StatusClientClosed {
		t.Errorf("status %d", r.Status)
	}
	AccessLog(nil).Log(context.Background(), AccessRecord{}) // discards
}

func TestTransportProtocols(t *testing.T) {
	pk := newTestPKI(t)
	store := pk.store(t, pk.issue(t, "up", "up.test"))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Proto+" "+r.Header.Get("X-Forwarded-Proto"))
	})
	tlsUp := serve(t, ServerConfig{TLS: store}, h).Addr()
	h2cUp := serve(t, ServerConfig{H2C: true}, h).Addr()
	cases := []struct {
		name   string
		cfg    TransportConfig
		scheme string
		target string
		want   string
	}{
		{"http1", TransportConfig{}, "http", h2cUp, "HTTP/1.1 http"},
		{"h2c", TransportConfig{Protocol: ProtocolH2C}, "http", h2cUp, "HTTP/2.0 http"},
		{"https http1", TransportConfig{TLS: pk.clientTLS("up.test")}, "https", tlsUp, "HTTP/1.1 http"},
		{"h2", TransportConfig{Protocol: ProtocolH2, TLS: pk.clientTLS("up.test")}, "https", tlsUp, "HTTP/2.0 http"},
		{"auto", TransportConfig{Protocol: ProtocolAuto, TLS: pk.clientTLS("up.test")}, "https", tlsUp, "HTTP/2.0 http"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTransport(t, tc.cfg)
			p := newProxy(t, Config{})
			addr, _ := front(t, p, Upstream{Target: tc.target, Scheme: tc.scheme, Transport: tr}, ServerConfig{})
			resp, err := http.Get("http://" + addr + "/")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if got := readAll(t, resp.Body); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("untrusted upstream certificate is a connect failure", func(t *testing.T) {
		tr := newTransport(t, TransportConfig{Protocol: ProtocolAuto})
		p := newProxy(t, Config{})
		addr, outcomes := front(t, p, Upstream{Target: tlsUp, Scheme: "https", Transport: tr}, ServerConfig{})
		resp, err := http.Get("http://" + addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if o := nextOutcome(t, outcomes); o.Kind != Connect || resp.StatusCode != 502 {
			t.Errorf("status %d outcome %+v", resp.StatusCode, o)
		}
	})
	t.Run("response header timeout", func(t *testing.T) {
		stuck := make(chan struct{})
		defer close(stuck)
		slow := upstream(t, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-stuck:
			case <-r.Context().Done():
			}
		})
		tr := newTransport(t, TransportConfig{ResponseHeaderTimeout: 100 * time.Millisecond})
		p := newProxy(t, Config{})
		addr, outcomes := front(t, p, Upstream{Target: slow, Transport: tr}, ServerConfig{})
		resp, err := http.Get("http://" + addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if o := nextOutcome(t, outcomes); o.Kind != Timeout || resp.StatusCode != 504 {
			t.Errorf("status %d outcome %+v", resp.StatusCode, o)
		}
	})
	for _, p := range []string{"", "http1", "h2c", "h2", "auto"} {
		if err := ValidateProtocol(p); err != nil {
			t.Errorf("%q: %v", p, err)
		}
	}
	if err := ValidateProtocol("h3"); !errors.Is(err, ErrBadConfig) {
		t.Errorf("h3: %v", err)
	}
}

func TestForwardedProtoOverTLS(t *testing.T) {
	pk := newTestPKI(t)
	store := pk.store(t, pk.issue(t, "front", "front.test"))
	seen := make(chan http.Header, 1)
	up := upstream(t, func(w http.ResponseWriter, r *http.Request) { seen <- r.Header })
	p := newProxy(t, Config{})
	addr, _ := front(t, p, Upstream{Target: up}, ServerConfig{TLS: store})
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: pk.clientTLS("front.test")}}
	defer client.CloseIdleConnections()
	resp, err := client.Get("https://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h := <-seen
	if h.Get("X-Forwarded-Proto") != "https" || !strings.HasSuffix(h.Get("Forwarded"), ";proto=https") {
		t.Errorf("headers %v", h)
	}
}
