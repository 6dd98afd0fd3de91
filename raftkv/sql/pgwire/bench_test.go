package pgwire

import (
	"context"
	"net"
	"testing"

	"github.com/jackc/pgx/v5"
)

// BenchmarkQuery measures a round trip of a one-row query through pgx (the
// protocol's cost, the fake engine does nothing).
func BenchmarkQuery(b *testing.B) {
	eng := newFakeEngine()
	sec, err := NewSCRAMSecret(testPassword)
	if err != nil {
		b.Fatal(err)
	}
	eng.secrets["alice"] = sec
	srv := NewServer(Config{}, eng)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = srv.Serve(l) }()
	defer srv.Close()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, "postgres://alice:"+testPassword+"@"+l.Addr().String()+"/db?sslmode=disable")
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close(ctx)
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeSimpleProtocol} {
		b.Run(mode.String(), func(b *testing.B) {
			var n int64
			var s string
			for b.Loop() {
				if err := c.QueryRow(ctx, "select $1::int8, $2::text", mode, int64(1), "x").Scan(&n, &s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
