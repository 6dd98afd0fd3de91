package httpproxy

import (
	"io"
	"net/http"
	"strings"
	"sync"
)

// bufferSize is the size of the pooled copy buffers.
const bufferSize = 32 << 10

var bufferPool = sync.Pool{New: func() any {
	b := make([]byte, bufferSize)
	return &b
}}

func getBuffer() *[]byte  { return bufferPool.Get().(*[]byte) }
func putBuffer(b *[]byte) { bufferPool.Put(b) }

// relay writes resp (headers, body, trailers) to w and closes its body.
// Streaming responses are flushed after every read; others are left to
// net/http's buffering.
func relay(w http.ResponseWriter, r *http.Request, resp *http.Response) Outcome {
	h := w.Header()
	copyResponseHeader(h, resp.Header)
	if len(resp.Trailer) > 0 {
		names := make([]string, 0, len(resp.Trailer))
		for k := range resp.Trailer {
			names = append(names, k)
		}
		h["Trailer"] = []string{strings.Join(names, ", ")}
	}
	stream := isStreaming(resp)
	var flusher http.Flusher
	if stream {
		flusher = flusherOf(w)
	}
	w.WriteHeader(resp.StatusCode)
	o := Outcome{Status: resp.StatusCode, Started: true}
	if flusher != nil && resp.ContentLength != 0 {
		// Headers go out now for streams. A bodiless answer (a gRPC
		// trailers-only status) is left for net/http to end with its
		// headers, which HTTP/2 needs to send them with END_STREAM.
		flusher.Flush()
	}
	n, kind, err := copyBody(w, resp.Body, flusher)
	_ = resp.Body.Close()
	o.Bytes = n
	if err != nil {
		if kind != ClientGone {
			kind = classify(err, r.Context())
		}
		o.Kind, o.Err = kind, err
		o.truncated = kind != ClientGone
		return o
	}
	for k, vv := range resp.Trailer {
		h[http.TrailerPrefix+k] = vv
	}
	return o
}

// flusherOf returns w's Flusher, unwrapping as http.ResponseController does.
func flusherOf(w http.ResponseWriter) http.Flusher {
	for {
		if f, ok := w.(http.Flusher); ok {
			return f
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return nil
		}
		w = u.Unwrap()
	}
}

// copyBody copies src to w through a pooled buffer, flushing after every
// write when flusher is set. A write failure is ClientGone; a read failure
// is returned with kind Reset for the caller to classify.
func copyBody(w io.Writer, src io.Reader, flusher http.Flusher) (int64, FailureKind, error) {
	bp := getBuffer()
	defer putBuffer(bp)
	buf := *bp
	var written int64
	for {
		n, rerr := src.Read(buf)
		if n > 0 {
			m, werr := w.Write(buf[:n])
			written += int64(m)
			if werr != nil {
				return written, ClientGone, werr
			}
			if flusher != nil {
				flusher.Flush()
			}
		}
		if rerr == io.EOF {
			return written, None, nil
		}
		if rerr != nil {
			return written, Reset, rerr
		}
	}
}
