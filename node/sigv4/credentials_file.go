package sigv4

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

// ParseCredentials reads credentials in the file format daemons take their
// access keys from (queued's --sqs-credentials-file, later blobd's): one key
// per line,
//
//	ACCESS_KEY_ID SECRET_ACCESS_KEY [PRINCIPAL]
//
// separated by spaces or tabs; blank lines and lines starting with '#' are
// skipped. A line with fewer than two or more than three fields, or an access
// key id given twice, is an error naming the line; no error ever quotes a
// secret. The file must hold at least one key.
func ParseCredentials(r io.Reader) (StaticCredentials, error) {
	out := StaticCredentials{}
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		f := strings.Fields(text)
		if len(f) < 2 || len(f) > 3 {
			return nil, fmt.Errorf("sigv4: credentials line %d has %d fields, want ACCESS_KEY_ID SECRET_ACCESS_KEY [PRINCIPAL]", line, len(f))
		}
		if _, dup := out[f[0]]; dup {
			return nil, fmt.Errorf("sigv4: credentials line %d: access key id %q is given twice", line, f[0])
		}
		c := Credential{AccessKeyID: f[0], SecretAccessKey: f[1]}
		if len(f) == 3 {
			c.Principal = f[2]
		}
		out[f[0]] = c
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("sigv4: read credentials: %w", err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("sigv4: credentials hold no access key")
	}
	return out, nil
}

// LoadCredentialsFile reads path with ParseCredentials. Like an ssh key, the
// file must not be readable or writable by group or others (mode 0600 or
// stricter): it holds secrets, and command lines, which other users can see,
// never do.
func LoadCredentialsFile(path string) (StaticCredentials, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("sigv4: credentials file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("sigv4: credentials file: %w", err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("sigv4: credentials file %s has mode %#o: it must not be accessible by group or others (chmod 600)", path, perm)
	}
	c, err := ParseCredentials(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}
