package jwt

import (
	"crypto"
	"fmt"
	"log/slog"
	"time"

	"cairn.dev/cairn/gatewayd/gwconfig"
)

// Provider defaults, applied to zero fields.
const (
	DefaultLeeway        = 30 * time.Second
	DefaultJWKSRefresh   = 5 * time.Minute
	DefaultConsumerClaim = "sub"
)

// provider is one configured issuer with its parsed keys.
type provider struct {
	name          string
	issuer        string
	audiences     []string
	algs          map[string]bool
	leeway        time.Duration
	maxLifetime   time.Duration
	consumerClaim string
	static        []*key     // inline, file and cluster keys
	remote        *remoteSet // nil without jwks_url
}

// newProvider parses spec's keys. Files are read here, once; JWKS URLs are
// fetched later by the remote set's goroutine.
func newProvider(spec gwconfig.JWTProvider, clusterKey crypto.PublicKey, log *slog.Logger) (*provider, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrConfig, spec.Name, fmt.Sprintf(format, args...))
	}
	if spec.Name == "" {
		return nil, fmt.Errorf("%w: a provider has no name", ErrConfig)
	}
	if spec.Issuer == "" {
		return nil, fail("no issuer")
	}
	p := &provider{
		name: spec.Name, issuer: spec.Issuer, audiences: spec.Audiences,
		algs: map[string]bool{}, leeway: spec.Leeway, maxLifetime: spec.MaxLifetime,
		consumerClaim: spec.ConsumerClaim,
	}
	if p.leeway <= 0 {
		p.leeway = DefaultLeeway
	}
	if p.consumerClaim == "" {
		p.consumerClaim = DefaultConsumerClaim
	}
	if len(spec.Algorithms) == 0 {
		return nil, fail("no algorithms")
	}
	types := map[keyType]bool{}
	for _, name := range spec.Algorithms {
		a := algorithms[name]
		if a == nil {
			return nil, fail("algorithm %q is not supported", name)
		}
		p.algs[name] = true
		types[a.kty] = true
	}
	if types[ktyOct] && len(types) > 1 {
		return nil, fail("HMAC algorithms may not be mixed with public-key ones")
	}
	for i, ks := range spec.Keys {
		keys, err := loadKey(ks)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: keys[%d]: %w", ErrConfig, spec.Name, i, err)
		}
		for _, k := range keys {
			if !types[k.kty] {
				return nil, fail("keys[%d] is an %s key, which none of the algorithms uses", i, k.kty)
			}
		}
		p.static = append(p.static, keys...)
	}
	if spec.ClusterIssuer {
		if clusterKey == nil {
			log.Warn("jwt provider wants the cluster issuer key but this node has none; its tokens will not verify", "provider", spec.Name)
		} else {
			k, err := newPublicKey(PublicKeyID(clusterKey), clusterKey)
			if err != nil {
				return nil, fmt.Errorf("%w: %s: cluster key: %w", ErrConfig, spec.Name, err)
			}
			if !types[k.kty] {
				return nil, fail("the cluster key is an %s key, which none of the algorithms uses", k.kty)
			}
			p.static = append(p.static, k)
		}
	}
	if spec.JWKSURL != "" {
		if types[ktyOct] {
			return nil, fail("a JWKS URL cannot serve HMAC secrets")
		}
		refresh := spec.JWKSRefresh
		if refresh <= 0 {
			refresh = DefaultJWKSRefresh
		}
		p.remote = &remoteSet{provider: spec.Name, url: spec.JWKSURL, refresh: refresh, kick: make(chan struct{}, 1)}
	}
	if len(p.static) == 0 && p.remote == nil && !spec.ClusterIssuer {
		return nil, fail("no keys, jwks_url or cluster_issuer")
	}
	return p, nil
}

// loadKey parses one configured key: exactly one of Secret, PEM and File.
func loadKey(ks gwconfig.Key) ([]*key, error) {
	set := 0
	for _, s := range []string{ks.Secret, ks.PEM, ks.File} {
		if s != "" {
			set++
		}
	}
	if set != 1 {
		return nil, fmt.Errorf("%w: exactly one of secret, pem and file is needed", ErrKey)
	}
	switch {
	case ks.Secret != "":
		secret, err := parseSecret(ks.Secret)
		if err != nil {
			return nil, err
		}
		return []*key{newSecretKey(ks.ID, secret)}, nil
	case ks.PEM != "":
		return parsePEM(ks.ID, []byte(ks.PEM))
	}
	return loadKeyFile(ks.ID, ks.File)
}

// candidates calls try with each key of p that may verify a token signed
// with a under kid, until try returns true. It reports whether any key was
// a candidate, and whether a key carries exactly kid.
func (p *provider) candidates(a *algorithm, kid string, try func(*key) bool) (seen, exact, ok bool) {
	scan := func(keys []*key) bool {
		for _, k := range keys {
			if kid != "" && k.kid == kid {
				exact = true
			}
			if !k.allows(a) || (kid != "" && k.kid != "" && k.kid != kid) {
				continue
			}
			seen = true
			if try(k) {
				return true
			}
		}
		return false
	}
	if scan(p.static) {
		return seen, exact, true
	}
	if p.remote != nil {
		if keys := p.remote.keys.Load(); keys != nil && scan(*keys) {
			return seen, exact, true
		}
	}
	return seen, exact, false
}

// keyCount returns how many keys p holds now.
func (p *provider) keyCount() int {
	n := len(p.static)
	if p.remote != nil {
		if keys := p.remote.keys.Load(); keys != nil {
			n += len(*keys)
		}
	}
	return n
}
