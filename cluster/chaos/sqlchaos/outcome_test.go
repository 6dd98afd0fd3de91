package sqlchaos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"cairn.dev/cairn/cluster/chaos"
)

func TestTxnOutcome(t *testing.T) {
	pg := func(code string) error { return fmt.Errorf("commit: %w", &pgconn.PgError{Code: code, Message: "x"}) }
	tests := []struct {
		name       string
		err        error
		committing bool
		want       chaos.Outcome
	}{
		{"committed", nil, true, chaos.OK},
		{"statement failed before COMMIT", pg("40001"), false, chaos.Fail},
		{"connection broke before COMMIT", io.ErrUnexpectedEOF, false, chaos.Fail},
		{"refused before COMMIT", errRefused, false, chaos.Fail},
		{"serialization failure at COMMIT", pg("40001"), true, chaos.Fail},
		{"check violation at COMMIT", pg("23514"), true, chaos.Fail},
		{"deadlock at COMMIT", pg("40P01"), true, chaos.Fail},
		{"COMMIT turned into ROLLBACK", pgx.ErrTxCommitRollback, true, chaos.Fail},
		{"completion unknown at COMMIT", pg("40003"), true, chaos.Unknown},
		{"cancelled COMMIT", pg("57014"), true, chaos.Unknown},
		{"internal error at COMMIT", pg("XX000"), true, chaos.Unknown},
		{"connection broke at COMMIT", io.ErrUnexpectedEOF, true, chaos.Unknown},
		{"timeout at COMMIT", context.DeadlineExceeded, true, chaos.Unknown},
	}
	for _, tc := range tests {
		if got := txnOutcome(tc.err, tc.committing); got != tc.want {
			t.Errorf("%s: txnOutcome = %s, want %s", tc.name, got, tc.want)
		}
	}
	if sqlState(pg("40001")) != "40001" || sqlState(errors.New("x")) != "" {
		t.Error("sqlState does not find the SQLSTATE of a wrapped PgError")
	}
}

func TestBackoff(t *testing.T) {
	pg := func(code string) error { return &pgconn.PgError{Code: code} }
	tests := []struct {
		err  error
		wait bool
	}{
		{nil, false},
		{pg("40001"), false},
		{pg("40P01"), false},
		{fmt.Errorf("%w: account 1 holds 0 < 5", errRefused), false},
		{soldOut, false},
		{pg("40003"), true},
		{pg("XX000"), true},
		{io.ErrUnexpectedEOF, true},
	}
	for _, tc := range tests {
		start := time.Now()
		backoff(context.Background(), tc.err)
		if waited := time.Since(start) >= errorPause; waited != tc.wait {
			t.Errorf("backoff(%v) waited %v, want a wait: %v", tc.err, time.Since(start), tc.wait)
		}
	}
}
