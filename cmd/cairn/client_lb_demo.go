package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"cairn.dev/cairn/node/registry"
	kvclient "cairn.dev/cairn/raftkv/client"
)

// newLBDemoBackendsCmd is `cairn lb demo-backends N`: N small HTTP servers
// that name themselves, registered in the raftkv registry as one service,
// so an lbd pool following that service balances over them.
func newLBDemoBackendsCmd(g *clientFlags) *cobra.Command {
	var (
		service, prefix, host, registryEPs string
		first                              int
		delay                              time.Duration
		ttl                                time.Duration
	)
	cmd := &cobra.Command{
		Use:   "demo-backends <n>",
		Short: "Run n HTTP backends that name themselves (GET /whoami), registered in raftkv as service \"demo\"",
		Long: `Run n HTTP servers on loopback until Ctrl-C. Backend i answers
GET /whoami with its name (backend-i), GET /healthz with "ok", and any other
request with its name, method and path. Each registers in the raftkv registry
of the cluster (or --registry) as an instance of --service under a lease of
--ttl, so lbd pools following the service see them come and go. --delay adds
latency to every answer (a slow backend); --first numbers them from another
index (run one per process to kill them one at a time).`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := strconv.Atoi(args[0])
			if err != nil || n < 1 || n > 100 {
				return usageErrorf("n: want 1..100, got %q", args[0])
			}
			var eps []string
			if registryEPs != "" {
				eps = nonEmpty([]string{registryEPs})
			} else if eps, err = serviceEndpoints(nil, g.clusterDir, "raftkv"); err != nil {
				return err
			}
			tc, err := g.clientTLS()
			if err != nil {
				return err
			}
			kv, err := kvclient.New(kvclient.Config{Endpoints: eps, RequestTimeout: g.timeout, TLS: tc})
			if err != nil {
				return usageErrorf("--registry: %w", err)
			}
			defer kv.Close()
			ctx, stop := signalContext(cmd)
			defer stop()
			var wg sync.WaitGroup
			var servers []*http.Server
			defer func() {
				for _, s := range servers {
					_ = s.Close()
				}
				wg.Wait()
			}()
			for i := first; i < first+n; i++ {
				name := prefix + "-" + strconv.Itoa(i)
				ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
				if err != nil {
					return err
				}
				srv := &http.Server{Handler: demoBackend(name, delay), ReadHeaderTimeout: 10 * time.Second}
				servers = append(servers, srv)
				wg.Go(func() { _ = srv.Serve(ln) })
				rctx, cancel := context.WithTimeout(ctx, g.timeout)
				dereg, err := registry.Register(rctx, kv, registry.DefaultPrefix, service, name, ln.Addr().String(), 1, ttl)
				cancel()
				if err != nil {
					return fmt.Errorf("register %s: %w", name, err)
				}
				defer dereg()
				fmt.Fprintf(cmd.OutOrStdout(), "%s http://%s (service %s)\n", name, ln.Addr(), service)
			}
			<-ctx.Done()
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&service, "service", "demo", "registry service the backends join")
	fl.StringVar(&prefix, "name", "backend", "name prefix: backends are <name>-<i>")
	fl.IntVar(&first, "first", 1, "index of the first backend")
	fl.StringVar(&host, "host", "127.0.0.1", "address to listen on (ports are picked)")
	fl.DurationVar(&delay, "delay", 0, "latency added to every answer")
	fl.DurationVar(&ttl, "ttl", 5*time.Second, "registry lease TTL: a killed backend leaves the registry within it")
	fl.StringVar(&registryEPs, "registry", "", "raftkv endpoints host:port,... (default: the cluster's raftkv)")
	return cmd
}

// demoBackend answers as the backend called name.
func demoBackend(name string, delay time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Backend", name)
		switch r.URL.Path {
		case "/whoami":
			fmt.Fprintln(w, name)
		case "/healthz":
			fmt.Fprintln(w, "ok")
		default:
			fmt.Fprintf(w, "%s: %s %s\n", name, r.Method, r.URL.RequestURI())
		}
	})
}
