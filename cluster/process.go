package cluster

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// procStat reads the state letter and the start time (clock ticks since boot) of
// pid from /proc/<pid>/stat.
func procStat(pid int) (state byte, startTicks uint64, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, err
	}
	state, startTicks, ok := parseProcStat(b)
	if !ok {
		return 0, 0, fmt.Errorf("cluster: malformed /proc/%d/stat", pid)
	}
	return state, startTicks, nil
}

// parseProcStat extracts the state letter (field 3) and the start time (field
// 22) from the content of a /proc/<pid>/stat file.
func parseProcStat(b []byte) (state byte, startTicks uint64, ok bool) {
	// The command name (field 2) is in parentheses and may contain anything, so
	// count fields from the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 || len(f[0]) != 1 {
		return 0, 0, false
	}
	startTicks, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return 0, 0, false
	}
	return f[0][0], startTicks, true
}

// haveProc reports whether /proc is mounted (false on macOS).
func haveProc() bool {
	_, err := os.Stat("/proc/self/stat")
	return err == nil
}

// processAlive reports whether pid is a running (not zombie) process and, when
// startTicks is not 0, the same process that was recorded (not a recycled pid).
func processAlive(pid int, startTicks uint64) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	state, start, err := procStat(pid)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && haveProc() {
			return false // exited between the two checks
		}
		return true // no /proc: trust kill(2)
	}
	if state == 'Z' || state == 'X' || state == 'x' {
		return false
	}
	return startTicks == 0 || start == startTicks
}

// signalGroup sends sig to the process group led by pid (every node is started as
// a group leader), falling back to the process alone. A process that is already
// gone is not an error.
func signalGroup(pid int, sig syscall.Signal) error {
	err := syscall.Kill(-pid, sig)
	if errors.Is(err, syscall.ESRCH) {
		err = syscall.Kill(pid, sig)
	}
	if err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("cluster: signal %v to pid %d: %w", sig, pid, err)
	}
	return nil
}

// pollUntil calls cond with a growing interval until it returns true or timeout
// passes; it reports cond's last answer.
func pollUntil(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	wait := 2 * time.Millisecond
	for {
		if cond() {
			return true
		}
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		time.Sleep(min(wait, left))
		wait = min(2*wait, 100*time.Millisecond)
	}
}

// child is a node process started by this Cluster, reaped by a goroutine the
// Cluster owns.
type child struct {
	pid  int
	done chan struct{} // closed once the process has been reaped

	// expected is set before the harness signals the process on purpose, so that
	// its exit is not reported as a crash. Guarded by Cluster.mu.
	expected bool
}

// tailFile returns up to n last lines of the file at path, for error messages.
func tailFile(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	const maxTail = 4096
	st, err := f.Stat()
	if err != nil {
		return ""
	}
	off := max(st.Size()-maxTail, 0)
	buf := make([]byte, st.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(buf), "\n"), "\n")
	if off > 0 && len(lines) > 1 {
		lines = lines[1:] // first line is probably cut
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
