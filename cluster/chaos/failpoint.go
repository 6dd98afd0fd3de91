package chaos

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// ArmFailpoint arms failpoint name with term ("1*exit", "25%panic",
// "delay(100ms)") on the node whose admin HTTP server listens on adminAddr. The
// node must run a binary built with -tags failpoints.
func ArmFailpoint(ctx context.Context, adminAddr, name, term string) error {
	return failpointRequest(ctx, http.MethodPut, adminAddr, name, term)
}

// DisarmFailpoint disarms failpoint name on the node at adminAddr.
func DisarmFailpoint(ctx context.Context, adminAddr, name string) error {
	return failpointRequest(ctx, http.MethodDelete, adminAddr, name, "")
}

func failpointRequest(ctx context.Context, method, adminAddr, name, body string) error {
	u := (&url.URL{Scheme: "http", Host: adminAddr, Path: "/debug/failpoints/" + name}).String()
	req, err := http.NewRequestWithContext(ctx, method, u, strings.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("chaos: failpoint %s %s: %w", method, u, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("chaos: failpoint %s %s: %s: %s (is the binary built with -tags failpoints?)",
			method, u, resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}
