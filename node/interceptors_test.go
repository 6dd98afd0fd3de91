package node

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestContextErrorToStatus(t *testing.T) {
	domain := errors.New("raftkv: key not found")
	tests := []struct {
		err  error
		want codes.Code
	}{
		{nil, codes.OK},
		{context.Canceled, codes.Canceled},
		{fmt.Errorf("apply: %w", context.DeadlineExceeded), codes.DeadlineExceeded},
		{status.Error(codes.NotFound, "x"), codes.NotFound},
		{domain, codes.Unknown},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, status.Code(contextErrorToStatus(tt.err)), "err %v", tt.err)
	}
	require.Same(t, domain, contextErrorToStatus(domain))
}
