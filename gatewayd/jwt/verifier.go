package jwt

import (
	"context"
	"crypto"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"cairn.dev/cairn/gatewayd/gwconfig"
)

// Options are a Verifier's dependencies; every field may be left zero.
type Options struct {
	// HTTPClient fetches JWKS URLs; default: a client with a 10 s timeout.
	HTTPClient *http.Client
	// ClusterKey is the public half of the cluster's token key, used by
	// providers with cluster_issuer. Without it such providers verify
	// nothing (a warning is logged).
	ClusterKey crypto.PublicKey
	// Now is the clock for exp, nbf and iat; default time.Now.
	Now func() time.Time
	// Logger; default slog.Default().
	Logger *slog.Logger
	// RetryBase is the first delay before retrying a failed JWKS fetch; it
	// doubles up to a minute. Default 1 s.
	RetryBase time.Duration
	// CacheSize is how many verified tokens are remembered (see Verify);
	// 0 means DefaultCacheSize, a negative value disables the cache.
	CacheSize int
}

// Verifier checks tokens against a fixed set of providers. It is safe for
// concurrent use. Close stops its JWKS fetchers.
type Verifier struct {
	providers map[string]*provider
	now       func() time.Time
	log       *slog.Logger
	cancel    context.CancelFunc
	wg        sync.WaitGroup // the remote sets' goroutines
	closed    atomic.Bool
	cache     *tokenCache // nil when disabled
}

// NewVerifier parses every provider's keys (reading key files now) and
// starts a goroutine per JWKS URL that fetches the set at once and then
// every jwks_refresh. A JWKS that cannot be fetched is not an error: the
// provider has no remote keys until a retry succeeds. Errors match
// ErrConfig, and also ErrKey when a key is the problem; they name the
// provider and the key's index.
func NewVerifier(providers []gwconfig.JWTProvider, opts Options) (*Verifier, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: fetchTimeout}
	}
	if opts.RetryBase <= 0 {
		opts.RetryBase = time.Second
	}
	v := &Verifier{providers: make(map[string]*provider, len(providers)), now: opts.Now, log: opts.Logger, cache: newTokenCache(opts.CacheSize)}
	for _, spec := range providers {
		p, err := newProvider(spec, opts.ClusterKey, opts.Logger)
		if err != nil {
			return nil, err
		}
		if v.providers[p.name] != nil {
			return nil, fmt.Errorf("%w: duplicate provider %q", ErrConfig, p.name)
		}
		v.providers[p.name] = p
	}
	ctx, cancel := context.WithCancel(context.Background())
	v.cancel = cancel
	for _, p := range v.providers {
		if r := p.remote; r != nil {
			v.wg.Go(func() { r.run(ctx, opts.HTTPClient, opts.RetryBase, opts.Logger) })
		}
	}
	return v, nil
}

// Close stops the JWKS fetchers and waits for them. Verify fails with
// ErrClosed afterwards. Close is idempotent.
func (v *Verifier) Close() {
	if v.closed.Swap(true) {
		return
	}
	v.cancel()
	v.wg.Wait()
}

// Keys returns how many keys the named provider holds now (static keys plus
// the last fetched key set), -1 for an unknown provider. Tests and the admin
// API use it to see that a JWKS was loaded.
func (v *Verifier) Keys(provider string) int {
	p := v.providers[provider]
	if p == nil {
		return -1
	}
	return p.keyCount()
}

// Verify checks token against the named providers whose issuer equals the
// token's iss, and returns the claims of the first one that accepts it. It
// never does I/O (ctx is for future use and tracing). Errors match one of
// the package's sentinels; when several providers share the issuer and all
// refuse the token, the first one's error is returned.
//
// A token verified recently is found in a cache and its signature is not
// checked again (its time claims are, and the key set that verified it must
// still be installed). Each call returns its own Claims value; its slices
// may be shared with other calls, so append to them but never write their
// elements.
func (v *Verifier) Verify(ctx context.Context, token string, providers []string) (*Claims, error) {
	if v.closed.Load() {
		return nil, ErrClosed
	}
	if e := v.cache.get(token); e != nil && v.firstFor(providers, e.claims.Issuer) == e.prov {
		if err := e.claims.checkTimes(true, v.now(), e.prov.leeway, e.prov.maxLifetime); err != nil {
			return nil, err
		}
		c := e.claims
		return &c, nil
	}
	p, err := parseToken(token)
	if err != nil {
		return nil, err
	}
	if !p.hasIss {
		return nil, fmt.Errorf("%w: iss", ErrMissingClaim)
	}
	var first error
	for _, name := range providers {
		prov := v.providers[name]
		if prov == nil || prov.issuer != p.claims.Issuer {
			continue
		}
		k, err := v.check(prov, p)
		if err == nil {
			v.cache.put(token, prov, k, &p.claims)
			c := p.claims
			return &c, nil
		}
		if first == nil {
			first = err
		}
	}
	if first == nil {
		return nil, ErrIssuer
	}
	return nil, first
}

// firstFor returns the first of the named providers with issuer iss.
func (v *Verifier) firstFor(names []string, iss string) *provider {
	for _, name := range names {
		if p := v.providers[name]; p != nil && p.issuer == iss {
			return p
		}
	}
	return nil
}

// check verifies p's signature and claims against one provider whose issuer
// matches, and on success completes p.claims (Provider, Consumer) and
// returns the key that verified it.
func (v *Verifier) check(prov *provider, p *parsed) (*key, error) {
	if !prov.algs[p.alg.name] {
		return nil, fmt.Errorf("%w: %s is not allowed by provider %s", ErrAlgorithm, p.alg.name, prov.name)
	}
	var signer *key
	seen, exact, ok := prov.candidates(p.alg, p.kid, func(k *key) bool {
		if p.alg.verify(k, p.input, p.sig) {
			signer = k
			return true
		}
		return false
	})
	if p.kid != "" && !exact && prov.remote != nil {
		prov.remote.askRefetch(v.now())
	}
	switch {
	case !seen:
		return nil, ErrUnknownKey
	case !ok:
		return nil, ErrSignature
	}
	if err := p.checkTimes(v.now(), prov.leeway, prov.maxLifetime); err != nil {
		return nil, err
	}
	if len(prov.audiences) > 0 {
		if !p.hasAud {
			return nil, fmt.Errorf("%w: no aud", ErrAudience)
		}
		if !audienceOK(prov.audiences, p.claims.Audience) {
			return nil, ErrAudience
		}
	}
	consumer := p.claims.Subject
	if prov.consumerClaim != "sub" {
		consumer = ""
		if raw, found := p.claims.Claim(prov.consumerClaim); found {
			consumer, _ = jsonString(raw)
		}
	}
	if consumer == "" {
		return nil, fmt.Errorf("%w: %s", ErrMissingClaim, prov.consumerClaim)
	}
	p.claims.Provider, p.claims.Consumer = prov.name, consumer
	return signer, nil
}

func audienceOK(want, have []string) bool {
	for _, h := range have {
		if contains(want, h) {
			return true
		}
	}
	return false
}
