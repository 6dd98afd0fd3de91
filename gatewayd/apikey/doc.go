// Package apikey makes, stores and checks the gateway's API keys.
//
// A key is the string cgw_<id>_<secret>: id is 10 lowercase base32
// characters (50 random bits, public: it names the key in lists, logs and
// the admin API) and secret is 32 random bytes in base64url without padding.
// Only SHA-256 of the secret is stored. A slow password hash (bcrypt,
// argon2) would add nothing: the secret has 256 random bits, so its hash
// cannot be searched, and a fast hash keeps Lookup on the request path cheap.
// Hashes are compared in constant time.
//
// Store keeps the records in raftkv under a prefix (default
// "/cairn/gatewayd/keys/<id>", JSON values) and in memory: Start loads the
// prefix and follows it with a watch (reloading after a compaction or a
// broken watch), so a key created or deleted through any gateway node is
// seen by every node within the watch delay. Lookup uses only the memory
// copy and never does I/O; Create, List and Delete talk to raftkv.
//
//	s := apikey.NewStore(kv, "", logger)
//	s.Start(ctx)
//	<-s.Ready()
//	key, secret, err := s.Create(ctx, "billing", 90*24*time.Hour) // give secret to the caller, once
//	if full, ok := apikey.FromRequest(r.Header); ok {
//		k, err := s.Lookup(full) // k.Consumer
//	}
package apikey
