package httpproxy

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

// AccessRecord is one access-log line.
type AccessRecord struct {
	Method    string
	Host      string
	Path      string
	Status    int
	Bytes     int64
	Duration  time.Duration
	Route     string
	Upstream  string
	RequestID string
	ClientIP  string
}

// NewAccessRecord fills a record from the request, the StatusWriter that
// answered it and the start time. A request answered with nothing gets
// StatusClientClosed.
func NewAccessRecord(r *http.Request, sw *StatusWriter, start time.Time, route, upstream string) AccessRecord {
	status := sw.Status()
	if status == 0 {
		status = StatusClientClosed
	}
	return AccessRecord{
		Method:    r.Method,
		Host:      r.Host,
		Path:      r.URL.Path,
		Status:    status,
		Bytes:     sw.Bytes(),
		Duration:  time.Since(start),
		Route:     route,
		Upstream:  upstream,
		RequestID: r.Header.Get(headerRequestID),
		ClientIP:  clientIP(r),
	}
}

// AccessLogger writes access records as structured log lines ("access"
// message, info level). Safe for concurrent use.
type AccessLogger struct {
	logger *slog.Logger
}

// AccessLog returns an AccessLogger writing to logger; nil discards.
func AccessLog(logger *slog.Logger) *AccessLogger {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &AccessLogger{logger: logger}
}

// Log writes rec unless the logger drops info records.
func (a *AccessLogger) Log(ctx context.Context, rec AccessRecord) {
	if !a.logger.Enabled(ctx, slog.LevelInfo) {
		return
	}
	a.logger.LogAttrs(ctx, slog.LevelInfo, "access",
		slog.String("method", rec.Method),
		slog.String("host", rec.Host),
		slog.String("path", rec.Path),
		slog.Int("status", rec.Status),
		slog.Int64("bytes", rec.Bytes),
		slog.Duration("duration", rec.Duration),
		slog.String("route", rec.Route),
		slog.String("upstream", rec.Upstream),
		slog.String("request_id", rec.RequestID),
		slog.String("client_ip", rec.ClientIP),
	)
}
