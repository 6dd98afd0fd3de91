package main

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/spf13/cobra"

	"cairn.dev/cairn/cluster"
	"cairn.dev/cairn/node/sigv4"
)

// presignOptions are the inputs of `blob presign` besides the path.
type presignOptions struct {
	method            string
	endpoint          string // scheme://host:port of an S3 API
	accessKey, secret string
	region            string
	expires           time.Duration
	now               time.Time
}

// presignURL signs a path-style S3 URL for p (sigv4.Presign: the host is the
// only signed header, the payload unsigned), good for o.expires.
func presignURL(p blobPath, o presignOptions) (*url.URL, error) {
	base, err := url.Parse(o.endpoint)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, usageErrorf("--endpoint: want http(s)://host:port, got %q", o.endpoint)
	}
	u := &url.URL{Scheme: base.Scheme, Host: base.Host, Path: "/" + p.bucket + "/" + p.key}
	req := &http.Request{Method: o.method, URL: u, Host: u.Host, Header: http.Header{}}
	signed, err := sigv4.Presign(req, sigv4.SignOptions{
		Credential: sigv4.Credential{AccessKeyID: o.accessKey, SecretAccessKey: o.secret},
		Region:     o.region, Service: "s3", Expires: o.expires, Time: o.now,
	})
	if err != nil {
		return nil, usageErrorf("%w", err)
	}
	return signed, nil
}

// clusterS3 fills what o lacks from the cluster state file: the S3 address
// of a blobd node (https on a TLS cluster), the cluster access key and its
// region.
func clusterS3(clusterDir string, o *presignOptions) error {
	if o.endpoint != "" && o.accessKey != "" && o.secret != "" {
		return nil
	}
	dir, err := cluster.ResolveDir(clusterDir)
	if err != nil {
		return usageErrorf("--cluster-dir: %w", err)
	}
	st, err := cluster.LoadState(dir)
	if err != nil {
		return withExit(exitUnavailable, fmt.Errorf("no --endpoint and access key given and discovery failed: %w", err))
	}
	if o.endpoint == "" {
		if o.endpoint = s3Endpoint(st); o.endpoint == "" {
			return withExit(exitUnavailable, fmt.Errorf("the cluster in %s: %w", dir, errNoS3))
		}
	}
	if o.accessKey == "" || o.secret == "" {
		if st.AccessKey == nil {
			return withExit(exitUnavailable, fmt.Errorf("the cluster in %s has no access key (give --access-key-id and --secret-access-key)", dir))
		}
		id, secret, err := st.AccessKey.AccessKey()
		if err != nil {
			return err
		}
		o.accessKey, o.secret = id, secret
		if o.region == "" {
			o.region = st.AccessKey.Region
		}
	}
	return nil
}

func newBlobPresignCmd(g *clientFlags) *cobra.Command {
	var (
		put, get bool
		o        presignOptions
	)
	cmd := &cobra.Command{
		Use:   "presign (--put|--get) <bucket/key>",
		Short: "Print a presigned S3 URL that uploads or downloads one object without keys",
		Long: `Print a presigned URL (query-string SigV4) for one object on a blobd node's S3
API: with --put anyone holding it may upload the object (curl -X PUT
--upload-file f "$url"), with --get download it, until --expires passes.
It is signed here, with the cluster access key of the local harness (or
--access-key-id and --secret-access-key), for the S3 address of a blobd
node (or --endpoint); on a TLS cluster the URL is https and clients need
the cluster CA ('eval "$(cairn cluster env)"' sets CURL_CA_BUNDLE).

  url=$(cairn blob presign --put my-app-files/images/logo.png --expires 5m)
  curl -sf -X PUT --upload-file logo.png "$url"`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := parseBlobPath("object", args[0], true)
			if err != nil {
				return err
			}
			switch {
			case put == get:
				return usageErrorf("give exactly one of --put and --get")
			case put:
				o.method = http.MethodPut
			default:
				o.method = http.MethodGet
			}
			if o.expires < time.Second || o.expires > sigv4.MaxPresignExpiry || o.expires%time.Second != 0 {
				return usageErrorf("--expires: want whole seconds from 1s to %s, got %s", sigv4.MaxPresignExpiry, o.expires)
			}
			if err := clusterS3(g.clusterDir, &o); err != nil {
				return err
			}
			if o.region == "" {
				o.region = cluster.Region
			}
			o.now = time.Now()
			u, err := presignURL(p, o)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if g.json() {
				return writeJSON(w, jsonObject{{"url", u.String()}, {"method", o.method}, {"bucket", p.bucket}, {"key", p.key},
					{"expires", o.now.Add(o.expires).UTC().Format(time.RFC3339)}})
			}
			_, err = fmt.Fprintln(w, u.String())
			return err
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&put, "put", false, "sign an upload (PUT)")
	fl.BoolVar(&get, "get", false, "sign a download (GET)")
	fl.DurationVar(&o.expires, "expires", 15*time.Minute, "how long the URL works, whole seconds up to 7 days")
	fl.StringVar(&o.endpoint, "endpoint", "", "S3 API to sign for, http(s)://host:port (default: a blobd node of the local cluster)")
	fl.StringVar(&o.accessKey, "access-key-id", "", "access key to sign with (default: the cluster access key)")
	fl.StringVar(&o.secret, "secret-access-key", "", "its secret")
	fl.StringVar(&o.region, "region", "", "region to sign for (default: the cluster's, us-east-1)")
	return cmd
}
