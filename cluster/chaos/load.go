package chaos

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"time"
)

// loadCPU runs procs busy-looping processes (each a shell spinning in a
// `while :` loop) for d or until ctx ends, then kills them and waits for them.
// It calls began once all of them run and healed once they are gone. Each is
// an OS process, not a goroutine, so that the host's run queue grows by procs
// whatever GOMAXPROCS the test runs with.
func loadCPU(ctx context.Context, procs int, d time.Duration, began, healed func()) error {
	var cmds []*exec.Cmd
	stopAll := func() {
		for _, c := range cmds {
			_ = c.Process.Kill()
		}
		for _, c := range cmds {
			_ = c.Wait()
		}
	}
	for range procs {
		c := exec.Command("/bin/sh", "-c", "while :; do :; done")
		if err := c.Start(); err != nil {
			stopAll()
			return fmt.Errorf("chaos: start a busy process: %w", err)
		}
		cmds = append(cmds, c)
	}
	began()
	Hold(ctx, d)
	stopAll()
	healed()
	if err := ctx.Err(); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
