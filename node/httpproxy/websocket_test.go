package httpproxy

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// wsAccept computes Sec-WebSocket-Accept for key (RFC 6455 section 4.2.2).
func wsAccept(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// writeFrame writes one final frame; client frames are masked.
func writeFrame(w io.Writer, opcode byte, payload []byte, masked bool) error {
	hdr := []byte{0x80 | opcode}
	maskBit := byte(0)
	if masked {
		maskBit = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		hdr = append(hdr, maskBit|byte(n))
	case n < 1<<16:
		hdr = append(hdr, maskBit|126, byte(n>>8), byte(n))
	default:
		hdr = append(hdr, maskBit|127)
		hdr = binary.BigEndian.AppendUint64(hdr, uint64(n))
	}
	body := append([]byte(nil), payload...)
	if masked {
		key := [4]byte{0x12, 0x34, 0x56, 0x78}
		hdr = append(hdr, key[:]...)
		for i := range body {
			body[i] ^= key[i%4]
		}
	}
	_, err := w.Write(append(hdr, body...))
	return err
}

// readFrame reads one frame, unmasking it.
func readFrame(r io.Reader) (byte, []byte, error) {
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, nil, err
	}
	if h[0]&0x80 == 0 {
		return 0, nil, errors.New("fragmented frame")
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	if n > 1<<20 {
		return 0, nil, errors.New("frame too large")
	}
	var key [4]byte
	masked := h[1]&0x80 != 0
	if masked {
		if _, err := io.ReadFull(r, key[:]); err != nil {
			return 0, nil, err
		}
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		return 0, nil, err
	}
	if masked {
		for i := range p {
			p[i] ^= key[i%4]
		}
	}
	return h[0] & 0x0f, p, nil
}

// wsEchoUpstream answers WebSocket handshakes and echoes every data frame
// until a close frame, which it echoes before closing.
func wsEchoUpstream(t *testing.T) string {
	return upstream(t, func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") || !hasToken(r.Header["Connection"], "upgrade") {
			http.Error(w, "websocket only", http.StatusBadRequest)
			return
		}
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
			wsAccept(r.Header.Get("Sec-WebSocket-Key")))
		if brw.Flush() != nil {
			return
		}
		for {
			op, p, err := readFrame(brw)
			if err != nil {
				return
			}
			if writeFrame(c, op, p, false) != nil || op == 0x8 {
				return
			}
		}
	})
}

// wsDial performs the client handshake through addr.
func wsDial(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))
	fmt.Fprintf(c, "GET /ws HTTP/1.1\r\nHost: front.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", key)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Accept") != wsAccept(key) ||
		!strings.EqualFold(resp.Header.Get("Upgrade"), "websocket") {
		t.Fatalf("handshake: %d %v", resp.StatusCode, resp.Header)
	}
	return c, br
}

func TestWebSocketPassThrough(t *testing.T) {
	up := wsEchoUpstream(t)
	p := newProxy(t, Config{})
	addr, outcomes := front(t, p, Upstream{Target: up, Timeout: 5 * time.Second}, ServerConfig{})
	c, br := wsDial(t, addr)
	for _, msg := range []string{"hello", strings.Repeat("big frame ", 10000)} {
		if err := writeFrame(c, 0x1, []byte(msg), true); err != nil {
			t.Fatal(err)
		}
		op, got, err := readFrame(br)
		if err != nil || op != 0x1 || string(got) != msg {
			t.Fatalf("echo: op %d len %d err %v", op, len(got), err)
		}
	}
	if err := writeFrame(c, 0x8, []byte{0x03, 0xe8}, true); err != nil {
		t.Fatal(err)
	}
	if op, _, err := readFrame(br); err != nil || op != 0x8 {
		t.Fatalf("close echo: %d %v", op, err)
	}
	o := nextOutcome(t, outcomes)
	if o.Status != http.StatusSwitchingProtocols || o.Kind != None || o.Bytes == 0 {
		t.Errorf("outcome %+v", o)
	}
}

func TestWebSocketRefusedUpgradeIsRelayed(t *testing.T) {
	up := upstream(t, func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusForbidden) })
	p := newProxy(t, Config{})
	addr, _ := front(t, p, Upstream{Target: up}, ServerConfig{})
	resp := rawExchange(t, addr, "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("status %d", resp.StatusCode)
	}
}

func TestProxyCloseEndsTunnels(t *testing.T) {
	up := wsEchoUpstream(t)
	p := New(Config{})
	addr, outcomes := front(t, p, Upstream{Target: up}, ServerConfig{})
	c, br := wsDial(t, addr)
	if err := writeFrame(c, 0x1, []byte("x"), true); err != nil {
		t.Fatal(err)
	}
	if _, _, err := readFrame(br); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	nextOutcome(t, outcomes) // the handler returned
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := br.ReadByte(); err == nil {
		t.Error("client connection still open after Close")
	}
}
