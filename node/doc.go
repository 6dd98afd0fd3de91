// Package node is the runtime every cairn daemon shares: the gRPC server
// builder, the admin HTTP server, TLS, configuration loading, client dialing,
// logging and graceful shutdown.
//
// A daemon binary wires it together roughly like this:
//
//	cfg := raftkv.DefaultConfig()              // Config embeds node.ServerConfig
//	fs := pflag.NewFlagSet("raftkv", pflag.ContinueOnError)
//	if err := node.BindFlags(fs, &cfg); err != nil { ... }
//	if err := fs.Parse(args); err != nil { ... }
//	if err := node.Load(fs, &cfg, "CAIRN_RAFTKV_", configPath); err != nil { ... }
//	logger, err := node.NewLogger(os.Stderr, "info", "text")
//	ctx, stop := node.SignalContext(context.Background(), logger)
//	defer stop()
//	srv, err := node.NewServer(cfg.Server, logger)
//	kvpb.RegisterKVServiceServer(srv.GRPC(), impl)  // register before Serve
//	srv.SetReady(true)
//	err = srv.Serve(ctx)                       // returns after SIGINT/SIGTERM
//
// Every gRPC call passes through interceptors for panic recovery, request
// logging and Prometheus metrics. Each Server owns its own Prometheus registry;
// the package keeps no global mutable state.
package node
