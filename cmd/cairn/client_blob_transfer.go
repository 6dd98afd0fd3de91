package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"cairn.dev/cairn/blobd/client"
	blobdv1 "cairn.dev/cairn/proto/cairn/blobd/v1"
)

// Defaults of `blob put`.
const (
	defaultMultipartThreshold = 64 << 20
	defaultPutPartSize        = client.DefaultPartSize
	defaultPutConcurrency     = client.DefaultConcurrency
)

func newBlobPutCmd(g *clientFlags) *cobra.Command {
	var (
		tier, contentType, ifNoneMatch string
		meta, headerFlags              []string
		threshold, partSize            int64
		concurrency                    int
		noProgress                     bool
	)
	cmd := &cobra.Command{
		Use:   "put <file|-> <bucket/key | bucket/prefix/>",
		Short: "Upload a file (or stdin) as an object; large files go up in parallel parts",
		Long: `Upload a file, or stdin with "-", as an object. A destination without a key
or ending in "/" takes the file's name. Files of --multipart-threshold bytes
or more (and stdin) go up as a multipart upload of --part-size parts,
--concurrency at a time; smaller ones in one stream. The object is visible
once every byte is fsynced on every server holding it.

--header 'Name: value' (repeatable) stores a header served with the object
(by S3 and by the CDN edge): Content-Type, Cache-Control,
Content-Disposition, Content-Encoding, Expires; Surrogate-Key (stored as
the user metadata "surrogate-key", the tags a CDN purge names) and
x-amz-meta-<name> (user metadata).`,
		Args: usageArgs(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			dst, err := parseBlobPath("destination", args[1], false)
			if err != nil {
				return err
			}
			src := args[0]
			if dst.key == "" || strings.HasSuffix(dst.key, "/") {
				if src == "-" {
					return usageErrorf("destination: give a key when uploading stdin")
				}
				dst.key += filepath.Base(src)
			}
			t, err := parseTier("--tier", tier)
			if err != nil {
				return err
			}
			md, err := parseMeta(meta)
			if err != nil {
				return err
			}
			headers, err := parseObjectHeaders(headerFlags)
			if err != nil {
				return err
			}
			if contentType != "" && headers.ContentType != "" {
				return usageErrorf("--content-type and --header Content-Type: give only one")
			}
			for name, v := range headers.UserMetadata {
				if _, dup := md[name]; dup {
					return usageErrorf("--meta %s and --header %s: give only one", name, metaHeaderName(name))
				}
				if md == nil {
					md = map[string]string{}
				}
				md[name] = v
			}
			if contentType == "" {
				contentType = headers.ContentType
			}
			if partSize < client.MinPartSize {
				return usageErrorf("--part-size: must be at least %d (5 MiB), got %d", client.MinPartSize, partSize)
			}
			if concurrency < 1 {
				return usageErrorf("--concurrency: must be at least 1, got %d", concurrency)
			}
			var (
				r    io.Reader
				size int64 = -1
			)
			if src == "-" {
				r = cmd.InOrStdin()
			} else {
				f, err := os.Open(src)
				if err != nil {
					return usageErrorf("file: %w", err)
				}
				defer f.Close()
				fi, err := f.Stat()
				if err != nil {
					return usageErrorf("file: %w", err)
				}
				if fi.IsDir() {
					return usageErrorf("file: %s is a directory", src)
				}
				r, size = f, fi.Size()
			}
			if contentType == "" && src != "-" {
				contentType = mime.TypeByExtension(filepath.Ext(src))
			}
			headers.ContentType, headers.UserMetadata = contentType, md
			opts := []client.PutOption{client.WithHeaders(headers), client.WithTier(t), client.WithIfNoneMatch(ifNoneMatch),
				client.WithPartSize(partSize), client.WithConcurrency(concurrency)}
			bar := newProgress(cmd.ErrOrStderr(), "put "+dst.String(), size, noProgress)
			if bar != nil {
				opts = append(opts, client.WithProgress(bar.add))
			}
			return runTransfer(g, cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				var o *blobdv1.Object
				var err error
				if size < 0 || size >= threshold {
					o, err = c.PutMultipart(ctx, dst.bucket, dst.key, r, size, opts...)
				} else {
					o, err = c.Put(ctx, dst.bucket, dst.key, r, size, opts...)
				}
				bar.done(err == nil)
				if err != nil {
					return blobError("", err)
				}
				return g.printer(cmd).print(o, func(w io.Writer) error {
					_, err := fmt.Fprintf(w, "put %s: %d bytes, etag %q\n", dst, o.GetSize(), o.GetEtag())
					return err
				})
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&tier, "tier", "", "storage tier: hot, cool or archive (default the bucket's)")
	fl.StringVar(&contentType, "content-type", "", "Content-Type to store (default guessed from the file's extension)")
	fl.StringArrayVar(&meta, "meta", nil, "user metadata name=value (repeatable)")
	fl.StringArrayVar(&headerFlags, "header", nil, `stored header 'Name: value' (repeatable): Content-Type, Cache-Control, Content-Disposition, Content-Encoding, Expires, Surrogate-Key, x-amz-meta-*`)
	fl.StringVar(&ifNoneMatch, "if-none-match", "", `"*": upload only if no object exists at the key`)
	fl.Int64Var(&threshold, "multipart-threshold", defaultMultipartThreshold, "files this large or larger go up as parallel parts")
	fl.Int64Var(&partSize, "part-size", defaultPutPartSize, "part size of a multipart upload (at least 5 MiB)")
	fl.IntVar(&concurrency, "concurrency", defaultPutConcurrency, "parts uploaded at once")
	fl.BoolVar(&noProgress, "no-progress", false, "no progress bar, even on a terminal")
	return cmd
}

// parseMeta reads --meta name=value flags.
func parseMeta(kvs []string) (map[string]string, error) {
	if len(kvs) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usageErrorf("--meta: want name=value, got %q", kv)
		}
		out[strings.ToLower(k)] = v
	}
	return out, nil
}

// metaHeaderPrefix starts a --header naming user metadata.
const metaHeaderPrefix = "x-amz-meta-"

// metaHeaderName is the --header name of user metadata name.
func metaHeaderName(name string) string {
	if name == surrogateKeyMeta {
		return "Surrogate-Key"
	}
	return metaHeaderPrefix + name
}

// surrogateKeyMeta is the user metadata Surrogate-Key is stored as.
const surrogateKeyMeta = "surrogate-key"

// parseObjectHeaders reads --header 'Name: value' flags into the headers
// an object stores: the standard ones by name (case-insensitive),
// Surrogate-Key as the user metadata "surrogate-key", x-amz-meta-<name> as
// user metadata <name> (lowercased). Any other header, a name given twice,
// an empty value or one with control characters is a usage error.
func parseObjectHeaders(flags []string) (*blobdv1.ObjectHeaders, error) {
	h := &blobdv1.ObjectHeaders{}
	seen := map[string]bool{}
	for _, f := range flags {
		name, value, ok := strings.Cut(f, ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return nil, usageErrorf("--header: want 'Name: value', got %q", f)
		}
		lower := strings.ToLower(name)
		if seen[lower] {
			return nil, usageErrorf("--header %s: given twice", name)
		}
		seen[lower] = true
		if value == "" {
			return nil, usageErrorf("--header %s: empty value", name)
		}
		for _, c := range value {
			if c < ' ' && c != '\t' || c == 0x7f {
				return nil, usageErrorf("--header %s: the value holds a control character", name)
			}
		}
		switch lower {
		case "content-type":
			h.ContentType = value
		case "cache-control":
			h.CacheControl = value
		case "content-disposition":
			h.ContentDisposition = value
		case "content-encoding":
			h.ContentEncoding = value
		case "expires":
			h.Expires = value
		case "surrogate-key":
			if err := setMeta(h, name, surrogateKeyMeta, value); err != nil {
				return nil, err
			}
		default:
			md, ok := strings.CutPrefix(lower, metaHeaderPrefix)
			if !ok {
				return nil, usageErrorf("--header %s: not a header an object stores (Content-Type, Cache-Control, Content-Disposition, Content-Encoding, Expires, Surrogate-Key or x-amz-meta-*)", name)
			}
			if md == "" {
				return nil, usageErrorf("--header %s: give the metadata name after x-amz-meta-", name)
			}
			if err := setMeta(h, name, md, value); err != nil {
				return nil, err
			}
		}
	}
	return h, nil
}

// setMeta sets user metadata name of h, from --header flag; the same
// metadata under two names (Surrogate-Key, x-amz-meta-surrogate-key) is a
// usage error.
func setMeta(h *blobdv1.ObjectHeaders, flag, name, value string) error {
	if _, dup := h.UserMetadata[name]; dup {
		return usageErrorf("--header %s: the user metadata %q is given twice", flag, name)
	}
	if h.UserMetadata == nil {
		h.UserMetadata = map[string]string{}
	}
	h.UserMetadata[name] = value
	return nil
}

func newBlobGetCmd(g *clientFlags) *cobra.Command {
	var (
		offset, length int64
		noProgress     bool
	)
	cmd := &cobra.Command{
		Use:   "get <bucket/key> [file|-]",
		Short: "Download an object to a file (default: the key's name here) or stdout",
		Long: `Download an object. The file is written beside its destination and renamed
into place only once every byte arrived, each chunk verified by the server
against its checksum; "-" writes to stdout.`,
		Args: usageArgs(cobra.RangeArgs(1, 2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, err := parseBlobPath("object", args[0], true)
			if err != nil {
				return err
			}
			dst := filepath.Base(src.key)
			if len(args) == 2 {
				dst = args[1]
			}
			if offset < 0 || length < 0 {
				return usageErrorf("--offset and --length: must not be negative")
			}
			if fi, err := os.Stat(dst); err == nil && fi.IsDir() {
				dst = filepath.Join(dst, filepath.Base(src.key))
			}
			return runTransfer(g, cmd, func(ctx context.Context, c *client.Client, w io.Writer) error {
				r, err := c.Get(ctx, src.bucket, src.key, client.WithRange(offset, length))
				if err != nil {
					return blobError("object", err)
				}
				defer r.Close()
				o := r.Object()
				var out io.Writer = w
				var commit func() error
				if dst != "-" {
					f, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".part-*")
					if err != nil {
						return err
					}
					defer os.Remove(f.Name())
					defer f.Close()
					out = f
					commit = func() error {
						if err := f.Sync(); err != nil {
							return err
						}
						if err := f.Close(); err != nil {
							return err
						}
						return os.Rename(f.Name(), dst)
					}
				}
				var bar *progress
				if dst != "-" || !g.json() {
					bar = newProgress(cmd.ErrOrStderr(), "get "+src.String(), r.Length(), noProgress)
				}
				n, err := io.Copy(out, progressReader{r: r, bar: bar})
				bar.done(err == nil)
				if err != nil {
					return blobError("object", err)
				}
				if commit == nil {
					return nil
				}
				if err := commit(); err != nil {
					return err
				}
				p := g.printer(cmd)
				if p.json {
					return writeJSON(w, jsonObject{{"file", dst}, {"bytes", n}, {"object", protoObject(o.ProtoReflect())}})
				}
				_, err = fmt.Fprintf(w, "got %s: %d bytes to %s\n", src, n, dst)
				return err
			})
		},
	}
	fl := cmd.Flags()
	fl.Int64Var(&offset, "offset", 0, "first byte to read")
	fl.Int64Var(&length, "length", 0, "bytes to read (0: to the end)")
	fl.BoolVar(&noProgress, "no-progress", false, "no progress bar, even on a terminal")
	return cmd
}

// progressReader counts what passes through into a progress bar.
type progressReader struct {
	r   io.Reader
	bar *progress
}

func (p progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.bar.add(int64(n))
	return n, err
}

// progress is a one-line progress bar on a terminal: bytes, percentage and
// rate, redrawn at most ten times a second. A nil *progress draws nothing.
type progress struct {
	w     io.Writer
	label string
	total int64 // -1: unknown

	mu    sync.Mutex // protects the fields below
	n     int64
	start time.Time
	drawn time.Time
}

// newProgress returns a bar on w when w is a terminal and off is false;
// nil otherwise.
func newProgress(w io.Writer, label string, total int64, off bool) *progress {
	if off || !isTerminal(w) {
		return nil
	}
	return &progress{w: w, label: label, total: total, start: time.Now()}
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// add counts n more bytes (negative after a retried transfer).
func (p *progress) add(n int64) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n += n
	if now := time.Now(); now.Sub(p.drawn) >= 100*time.Millisecond {
		p.drawn = now
		p.draw(now)
	}
}

func (p *progress) draw(now time.Time) {
	rate := float64(p.n) / max(now.Sub(p.start).Seconds(), 1e-3)
	line := fmt.Sprintf("\r%s  %s", p.label, humanBytes(p.n))
	if p.total > 0 {
		const width = 24
		frac := min(float64(p.n)/float64(p.total), 1)
		filled := int(frac * width)
		line += fmt.Sprintf(" / %s  [%s%s] %3.0f%%", humanBytes(p.total), strings.Repeat("=", filled), strings.Repeat(" ", width-filled), frac*100)
	}
	line += fmt.Sprintf("  %s/s  ", humanBytes(int64(rate)))
	fmt.Fprint(p.w, line)
}

// done draws the final state and ends the line.
func (p *progress) done(ok bool) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.draw(time.Now())
	if !ok {
		fmt.Fprint(p.w, " failed")
	}
	fmt.Fprintln(p.w)
}

// errNoS3 says the cluster has no node serving S3.
var errNoS3 = errors.New("no blobd node of the cluster serves the S3 API (started without --s3-addr?)")
