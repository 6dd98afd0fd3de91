package edgechaos

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// The objects the origin serves (see the package doc).
const (
	sieObjects   = 6
	privObjects  = 2 // of each of /priv and /nostore
	pvGroups     = 4
	pvPerGroup   = 3
	sieSize      = 600
	pvSmallSize  = 2 << 10
	pvLargeSize  = 96 << 10 // above 1 MiB/16, the memory tier's largest object
	sieControl   = "public, max-age=1, stale-if-error=60"
	privControl  = "private, max-age=60"
	noStoreCtl   = "no-store"
	pvControl    = "public, max-age=3600"
	firstVersion = 1
)

func siePath(i int) string      { return "/sie/" + strconv.Itoa(i) }
func privPath(i int) string     { return "/priv/" + strconv.Itoa(i) }
func noStorePath(i int) string  { return "/nostore/" + strconv.Itoa(i) }
func pvPath(g, i int) string    { return fmt.Sprintf("/pv/g%d/%d", g, i) }
func groupPrefix(g int) string  { return fmt.Sprintf("/pv/g%d/", g) }
func groupTag(g int) string     { return fmt.Sprintf("grp-g%d", g) }
func objectTag(g, i int) string { return fmt.Sprintf("obj-g%d-%d", g, i) }
func isSie(path string) bool    { return strings.HasPrefix(path, "/sie/") }
func isPv(path string) bool     { return strings.HasPrefix(path, "/pv/") }
func isPrivate(path string) bool {
	return strings.HasPrefix(path, "/priv/") || strings.HasPrefix(path, "/nostore/")
}

// pvPaths lists every purgeable object.
func pvPaths() []string {
	var out []string
	for g := range pvGroups {
		for i := range pvPerGroup {
			out = append(out, pvPath(g, i))
		}
	}
	return out
}

// pvSize is the body size of object i of a group: even ones large (disk
// tier), odd ones small (memory tier).
func pvSize(i int) int {
	if i%2 == 0 {
		return pvLargeSize
	}
	return pvSmallSize
}

// filled repeats head up to size bytes.
func filled(head string, size int) []byte {
	b := make([]byte, 0, size)
	for len(b) < size {
		b = append(b, head...)
	}
	return b[:size]
}

// sieBody is the content of a /sie object.
func sieBody(path string) []byte { return filled("sie "+path+"\n", sieSize) }

// pvBody is version ver of a /pv object of size bytes.
func pvBody(path string, ver int64, size int) []byte {
	return filled(fmt.Sprintf("pv %s v%d\n", path, ver), size)
}

// privBody is a private answer to client's request rid.
func privBody(path, client, rid string) []byte {
	return fmt.Appendf(nil, "private %s client=%s req=%s\n", path, client, rid)
}

// parsePv returns the version a /pv body holds, checking that the whole
// body is that version's content.
func parsePv(path string, body []byte) (int64, error) {
	line, _, _ := bytes.Cut(body, []byte("\n"))
	rest, ok := strings.CutPrefix(string(line), "pv "+path+" v")
	if !ok {
		return 0, fmt.Errorf("first line %.60q is not of %s", line, path)
	}
	ver, err := strconv.ParseInt(rest, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("first line %.60q: bad version", line)
	}
	if len(body) != pvSmallSize && len(body) != pvLargeSize || !bytes.Equal(body, pvBody(path, ver, len(body))) {
		return 0, fmt.Errorf("%d-byte body of version %d is not its content", len(body), ver)
	}
	return ver, nil
}

// parsePriv returns the request id a private body names ("" when it names
// none).
func parsePriv(path string, body []byte) (rid string, err error) {
	line := strings.TrimSuffix(string(body), "\n")
	rest, ok := strings.CutPrefix(line, "private "+path+" client=")
	if !ok {
		return "", fmt.Errorf("body %.80q is no private answer of %s", body, path)
	}
	client, req, ok := strings.Cut(rest, " req=")
	if !ok || !strings.HasPrefix(req, client+"-") {
		return "", fmt.Errorf("body %.80q names no request", body)
	}
	return req, nil
}

// fields are the space-separated key=value pairs an operation's Value
// holds (see the Traffic workload).
func field(value, key string) string {
	for f := range strings.FieldsSeq(value) {
		if v, ok := strings.CutPrefix(f, key+"="); ok {
			return v
		}
	}
	return ""
}

// clientOf is the client part of a request id "c<n>-<seq>".
func clientOf(rid string) string {
	c, _, _ := strings.Cut(rid, "-")
	return c
}

// parsePvPath reads /pv/g<g>/<i> of the catalogue.
func parsePvPath(path string) (g, i int, ok bool) {
	var rest string
	if _, err := fmt.Sscanf(path, "/pv/g%d/%s", &g, &rest); err != nil {
		return 0, 0, false
	}
	i, err := strconv.Atoi(rest)
	if err != nil || g < 0 || g >= pvGroups || i < 0 || i >= pvPerGroup || path != pvPath(g, i) {
		return 0, 0, false
	}
	return g, i, true
}
