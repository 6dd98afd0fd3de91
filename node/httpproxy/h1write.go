package httpproxy

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// errBadHeader: a request header cannot be written as HTTP/1.1.
var errBadHeader = errors.New("httpproxy: invalid request header")

// writeRequest writes r to bw as HTTP/1.1: request line and headers in
// one buffered write together with the first piece of the body, then the
// rest of the body as it is read (Content-Length when r.ContentLength is
// positive, chunked when it is unknown), flushing after every read. It
// closes r.Body. Host, Content-Length, Transfer-Encoding and Trailer
// entries of r.Header are ignored: framing comes from r's fields.
func writeRequest(bw *bufio.Writer, r *http.Request) error {
	body := r.Body
	hasBody := body != nil && body != http.NoBody
	if hasBody {
		defer body.Close()
	}
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	bw.WriteString(method)
	bw.WriteByte(' ')
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	bw.WriteString(path)
	if r.URL.RawQuery != "" {
		bw.WriteByte('?')
		bw.WriteString(r.URL.RawQuery)
	}
	bw.WriteString(" HTTP/1.1\r\nHost: ")
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	if !validHeaderValue(host) {
		return fmt.Errorf("%w: host %q", errBadHeader, host)
	}
	bw.WriteString(host)
	bw.WriteString("\r\n")
	for k, vv := range r.Header {
		switch k {
		case "Host", "Content-Length", "Transfer-Encoding", "Trailer":
			continue
		case headerUserAgent:
			if len(vv) == 1 && vv[0] == "" {
				continue // explicitly none
			}
		}
		if !validHeaderName(k) {
			return fmt.Errorf("%w: name %q", errBadHeader, k)
		}
		for _, v := range vv {
			if !validHeaderValue(v) {
				return fmt.Errorf("%w: value of %q", errBadHeader, k)
			}
			bw.WriteString(k)
			bw.WriteString(": ")
			bw.WriteString(v)
			bw.WriteString("\r\n")
		}
	}
	if r.Close {
		bw.WriteString("Connection: close\r\n")
	}
	chunked := false
	switch {
	case !hasBody:
		if method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch {
			bw.WriteString("Content-Length: 0\r\n")
		}
	case r.ContentLength > 0:
		bw.WriteString("Content-Length: ")
		bw.WriteString(strconv.FormatInt(r.ContentLength, 10))
		bw.WriteString("\r\n")
	default:
		chunked = true
		bw.WriteString("Transfer-Encoding: chunked\r\n")
		if len(r.Trailer) > 0 {
			bw.WriteString("Trailer: ")
			first := true
			for k := range r.Trailer {
				if !first {
					bw.WriteString(", ")
				}
				first = false
				bw.WriteString(k)
			}
			bw.WriteString("\r\n")
		}
	}
	bw.WriteString("\r\n")
	if !hasBody {
		return bw.Flush()
	}
	if err := writeBody(bw, body, r.ContentLength, chunked); err != nil {
		return err
	}
	if chunked {
		bw.WriteString("0\r\n")
		for k, vv := range r.Trailer {
			if !validHeaderName(k) {
				return fmt.Errorf("%w: trailer %q", errBadHeader, k)
			}
			for _, v := range vv {
				if !validHeaderValue(v) {
					return fmt.Errorf("%w: trailer value of %q", errBadHeader, k)
				}
				bw.WriteString(k)
				bw.WriteString(": ")
				bw.WriteString(v)
				bw.WriteString("\r\n")
			}
		}
		bw.WriteString("\r\n")
	}
	return bw.Flush()
}

// writeBody copies body to bw (as chunks when chunked, else exactly n
// bytes), flushing after every read.
func writeBody(bw *bufio.Writer, body io.Reader, n int64, chunked bool) error {
	bp := getBuffer()
	defer putBuffer(bp)
	buf := *bp
	var sent int64
	for {
		p := buf
		if !chunked && n-sent < int64(len(p)) {
			p = p[:n-sent]
		}
		m, rerr := body.Read(p)
		if m > 0 {
			if chunked {
				bw.WriteString(strconv.FormatInt(int64(m), 16))
				bw.WriteString("\r\n")
			}
			bw.Write(p[:m])
			sent += int64(m)
			if chunked {
				bw.WriteString("\r\n")
			}
			if err := bw.Flush(); err != nil {
				return err
			}
		}
		if !chunked && sent == n {
			return nil
		}
		if rerr == io.EOF {
			if chunked {
				return nil
			}
			return fmt.Errorf("httpproxy: request body ended after %d of %d bytes: %w", sent, n, io.ErrUnexpectedEOF)
		}
		if rerr != nil {
			return rerr
		}
	}
}

// validHeaderName reports whether k is a non-empty token.
func validHeaderName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		if !isTokenChar(k[i]) {
			return false
		}
	}
	return true
}

// validHeaderValue reports whether v has no CR, LF or NUL (no header
// injection).
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == '\r' || c == '\n' || c == 0 {
			return false
		}
	}
	return true
}
