package node

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNewLogger(t *testing.T) {
	var buf bytes.Buffer
	l, err := NewLogger(&buf, "warn", "json")
	require.NoError(t, err)
	l.Info("hidden")
	l.Warn("shown", "k", "v")
	var rec map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &rec))
	require.Equal(t, "shown", rec["msg"])
	require.Equal(t, "v", rec["k"])

	buf.Reset()
	l, err = NewLogger(&buf, "debug", "text")
	require.NoError(t, err)
	l.Debug("dbg")
	require.Contains(t, buf.String(), "msg=dbg")

	_, err = NewLogger(&buf, "loud", "text")
	require.ErrorContains(t, err, "log level")
	_, err = NewLogger(&buf, "info", "xml")
	require.ErrorContains(t, err, "log format")
}
