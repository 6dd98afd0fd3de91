package main

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// version describes this binary for `cairn --version`: the module version (a
// tag, a pseudo-version or "(devel)"), the VCS revision with "-dirty" when the
// tree had local changes, the commit time and the Go version, all from the
// build information the go command embeds.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "cairn (no build information)"
	}
	return formatVersion(bi)
}

// formatVersion is version for bi: "cairn (devel) rev 1a2b3c4d5e6f-dirty
// (2026-01-02T03:04:05Z) go1.26.0".
func formatVersion(bi *debug.BuildInfo) string {
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	parts := []string{"cairn", v}
	if rev := settings["vcs.revision"]; rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if settings["vcs.modified"] == "true" {
			rev += "-dirty"
		}
		parts = append(parts, "rev", rev)
		if t := settings["vcs.time"]; t != "" {
			parts = append(parts, fmt.Sprintf("(%s)", t))
		}
	}
	return strings.Join(append(parts, bi.GoVersion), " ")
}
