package gatewayd

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"cairn.dev/cairn/gatewayd/apikey"
	"cairn.dev/cairn/gatewayd/gwconfig"
	"cairn.dev/cairn/gatewayd/jwt"
	"cairn.dev/cairn/node/rpcerr"
	gatewaydv1 "cairn.dev/cairn/proto/cairn/gatewayd/v1"
)

// Limits of the admin API.
const (
	maxDocumentBytes = 1 << 20
	defaultTokenTTL  = time.Hour
	maxTokenTTL      = 24 * time.Hour
)

// adminService implements cairn.gatewayd.v1.GatewayService. Handlers
// validate, call the server, and translate errors with toStatus.
type adminService struct {
	gatewaydv1.UnimplementedGatewayServiceServer
	s *Server
}

func (a *adminService) ApplyConfig(ctx context.Context, req *gatewaydv1.ApplyConfigRequest) (*gatewaydv1.ApplyConfigResponse, error) {
	resp, err := a.s.ApplyConfig(ctx, req.GetYaml(), req.GetExpectedVersion(), req.GetDryRun())
	return resp, toStatus(err)
}

// ApplyConfig validates a document (parse, validate, and compile it as a
// node would: services, keys and patterns resolve) and, unless dryRun,
// stores it in raftkv. expected > 0 makes the store conditional on the
// stored version.
func (s *Server) ApplyConfig(ctx context.Context, raw []byte, expected int64, dryRun bool) (*gatewaydv1.ApplyConfigResponse, error) {
	if len(raw) > maxDocumentBytes {
		return nil, rpcerr.WithMetadata(fmt.Errorf("%w: yaml is %d bytes, the limit is %d", ErrInvalidArgument, len(raw), maxDocumentBytes),
			rpcerr.KeyField, "yaml", rpcerr.KeyLimit, strconv.Itoa(maxDocumentBytes))
	}
	if expected < 0 {
		return nil, rpcerr.WithMetadata(fmt.Errorf("%w: expected_version %d must not be negative", ErrInvalidArgument, expected), rpcerr.KeyField, "expected_version")
	}
	doc, err := gwconfig.Parse(raw)
	if err != nil {
		return nil, invalidConfig(err)
	}
	// Compile it once, as every node will, without touching the live runtime.
	rt, err := s.build(doc, raw, 0, "check", nil)
	if err != nil {
		return nil, err
	}
	rt.retired.Store(true)
	rt.closeOwned()
	resp := &gatewaydv1.ApplyConfigResponse{
		Routes:    int32(len(doc.Routes)),
		Upstreams: int32(len(doc.Upstreams)),
		Consumers: int32(len(doc.Consumers)),
	}
	if dryRun {
		return resp, nil
	}
	if s.docs == nil {
		return nil, ErrNoRegistry
	}
	v, err := s.docs.store(ctx, raw, expected)
	if err != nil {
		return nil, err
	}
	resp.Version = v
	return resp, nil
}

// invalidConfig wraps a parse or validation error as ErrInvalidConfig with
// the first problem's path in the metadata.
func invalidConfig(err error) error {
	wrapped := fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	var list gwconfig.Errors
	if errors.As(err, &list) && len(list) > 0 {
		return rpcerr.WithMetadata(wrapped, "path", list[0].Path)
	}
	var one *gwconfig.Error
	if errors.As(err, &one) {
		return rpcerr.WithMetadata(wrapped, "path", one.Path)
	}
	return wrapped
}

func (a *adminService) GetConfig(context.Context, *gatewaydv1.GetConfigRequest) (*gatewaydv1.GetConfigResponse, error) {
	rt := a.s.live.Load()
	return &gatewaydv1.GetConfigResponse{
		Yaml:      rt.yaml,
		Version:   rt.version,
		Source:    rt.source,
		AppliedAt: timestamppb.New(rt.appliedAt),
		Node:      a.s.cfg.ID,
	}, nil
}

func (a *adminService) ListRoutes(context.Context, *gatewaydv1.ListRoutesRequest) (*gatewaydv1.ListRoutesResponse, error) {
	rt := a.s.live.Load()
	out := &gatewaydv1.ListRoutesResponse{Version: rt.version}
	for _, r := range rt.doc.Routes {
		info := &gatewaydv1.RouteInfo{Name: r.Name, Hosts: r.Match.Hosts, Methods: r.Match.Methods, Upstream: r.Upstream}
		for _, p := range r.Match.Paths {
			switch {
			case p.Exact != "":
				info.Paths = append(info.Paths, "="+p.Exact)
			case p.Prefix != "":
				info.Paths = append(info.Paths, p.Prefix+"*")
			default:
				info.Paths = append(info.Paths, p.Pattern)
			}
		}
		if len(r.Split) > 0 {
			var parts []string
			for _, sp := range r.Split {
				parts = append(parts, sp.Upstream+":"+strconv.Itoa(sp.Weight))
			}
			info.Upstream = strings.Join(parts, ",")
		}
		add := func(on bool, name string) {
			if on {
				info.Plugins = append(info.Plugins, name)
			}
		}
		add(r.Auth != nil, "auth")
		add(r.Authorize != nil, "authorize")
		add(len(r.RateLimits) > 0, "rate_limit")
		add(r.Request != nil, "request_transform")
		add(r.Cache != nil, "cache")
		add(r.Transcode != nil, "transcode")
		add(r.Response != nil, "response_transform")
		add(r.Fallback != nil, "fallback")
		out.Routes = append(out.Routes, info)
	}
	return out, nil
}

func (a *adminService) ListConsumers(context.Context, *gatewaydv1.ListConsumersRequest) (*gatewaydv1.ListConsumersResponse, error) {
	rt := a.s.live.Load()
	out := &gatewaydv1.ListConsumersResponse{}
	for _, c := range rt.doc.Consumers {
		n := 0
		if a.s.keys != nil {
			n = a.s.keys.Count(c.Name)
		}
		out.Consumers = append(out.Consumers, &gatewaydv1.ConsumerInfo{Name: c.Name, Groups: c.Groups, Scopes: c.Scopes, Keys: int32(n)})
	}
	return out, nil
}

func (a *adminService) CreateKey(ctx context.Context, req *gatewaydv1.CreateKeyRequest) (*gatewaydv1.CreateKeyResponse, error) {
	s := a.s
	if s.keys == nil {
		return nil, toStatus(ErrNoRegistry)
	}
	if _, ok := s.live.Load().consumers[req.GetConsumer()]; !ok {
		return nil, toStatus(rpcerr.WithMetadata(fmt.Errorf("%w: %q", ErrConsumerNotFound, req.GetConsumer()), rpcerr.KeyField, "consumer"))
	}
	var ttl time.Duration
	if req.GetTtl() != nil {
		if ttl = req.GetTtl().AsDuration(); ttl <= 0 {
			return nil, toStatus(rpcerr.WithMetadata(fmt.Errorf("%w: ttl %v must be positive", ErrInvalidArgument, ttl), rpcerr.KeyField, "ttl"))
		}
	}
	k, secret, err := s.keys.Create(ctx, req.GetConsumer(), ttl)
	if err != nil {
		return nil, toStatus(err)
	}
	return &gatewaydv1.CreateKeyResponse{Key: keyInfo(k), Secret: secret}, nil
}

func keyInfo(k apikey.Key) *gatewaydv1.KeyInfo {
	info := &gatewaydv1.KeyInfo{Id: k.ID, Consumer: k.Consumer, CreatedAt: timestamppb.New(k.CreatedAt)}
	if !k.ExpiresAt.IsZero() {
		info.ExpiresAt = timestamppb.New(k.ExpiresAt)
	}
	return info
}

func (a *adminService) ListKeys(ctx context.Context, req *gatewaydv1.ListKeysRequest) (*gatewaydv1.ListKeysResponse, error) {
	if a.s.keys == nil {
		return nil, toStatus(ErrNoRegistry)
	}
	keys, err := a.s.keys.List(ctx, req.GetConsumer())
	if err != nil {
		return nil, toStatus(err)
	}
	out := &gatewaydv1.ListKeysResponse{}
	for _, k := range keys {
		out.Keys = append(out.Keys, keyInfo(k))
	}
	return out, nil
}

func (a *adminService) DeleteKey(ctx context.Context, req *gatewaydv1.DeleteKeyRequest) (*gatewaydv1.DeleteKeyResponse, error) {
	if a.s.keys == nil {
		return nil, toStatus(ErrNoRegistry)
	}
	if err := a.s.keys.Delete(ctx, req.GetId()); err != nil {
		if errors.Is(err, apikey.ErrNotFound) {
			err = fmt.Errorf("%w: %q", ErrKeyNotFound, req.GetId())
		}
		return nil, toStatus(err)
	}
	return &gatewaydv1.DeleteKeyResponse{}, nil
}

func (a *adminService) IssueToken(_ context.Context, req *gatewaydv1.IssueTokenRequest) (*gatewaydv1.IssueTokenResponse, error) {
	tok, exp, err := a.s.IssueToken(req.GetConsumer(), req.GetProvider(), req.GetTtl(), req.GetScopes(), req.GetRoles())
	if err != nil {
		return nil, toStatus(err)
	}
	return &gatewaydv1.IssueTokenResponse{Token: tok, ExpiresAt: timestamppb.New(exp)}, nil
}

// IssueToken signs an EdDSA JWT for consumer with the cluster's token key,
// with the iss and first aud of the provider (one with cluster_issuer).
func (s *Server) IssueToken(consumer, provider string, ttlpb *durationpb.Duration, scopes, roles []string) (string, time.Time, error) {
	if s.signer == nil {
		return "", time.Time{}, ErrNoIssuerKey
	}
	rt := s.live.Load()
	if _, ok := rt.consumers[consumer]; !ok {
		return "", time.Time{}, rpcerr.WithMetadata(fmt.Errorf("%w: %q", ErrConsumerNotFound, consumer), rpcerr.KeyField, "consumer")
	}
	var p *gwconfig.JWTProvider
	for i := range rt.doc.JWTProviders {
		cand := &rt.doc.JWTProviders[i]
		if cand.ClusterIssuer && (provider == "" || cand.Name == provider) {
			if p != nil {
				return "", time.Time{}, rpcerr.WithMetadata(fmt.Errorf("%w: several providers use the cluster issuer: name one", ErrInvalidArgument), rpcerr.KeyField, "provider")
			}
			p = cand
		}
	}
	if p == nil {
		return "", time.Time{}, rpcerr.WithMetadata(fmt.Errorf("%w: no jwt provider with cluster_issuer: true%s", ErrInvalidArgument, map[bool]string{true: " named " + strconv.Quote(provider)}[provider != ""]), rpcerr.KeyField, "provider")
	}
	ttl := defaultTokenTTL
	if ttlpb != nil {
		ttl = ttlpb.AsDuration()
	}
	if ttl <= 0 || ttl > maxTokenTTL {
		return "", time.Time{}, rpcerr.WithMetadata(fmt.Errorf("%w: ttl %v must be in (0, %v]", ErrInvalidArgument, ttl, maxTokenTTL), rpcerr.KeyField, "ttl", rpcerr.KeyLimit, maxTokenTTL.String())
	}
	now := time.Now()
	exp := now.Add(ttl)
	claim := p.ConsumerClaim
	if claim == "" {
		claim = "sub"
	}
	claims := map[string]any{
		"iss": p.Issuer,
		"iat": now.Unix(),
		"nbf": now.Unix(),
		"exp": exp.Unix(),
	}
	claims[claim] = consumer
	if len(p.Audiences) > 0 {
		claims["aud"] = p.Audiences[0]
	}
	if len(scopes) > 0 {
		claims["scope"] = strings.Join(slices.Compact(slices.Sorted(slices.Values(scopes))), " ")
	}
	if len(roles) > 0 {
		claims["roles"] = roles
	}
	tok, err := jwt.Sign("EdDSA", s.signer, s.signerKID, claims)
	if err != nil {
		return "", time.Time{}, err
	}
	return tok, exp, nil
}

func (a *adminService) GetStats(context.Context, *gatewaydv1.GetStatsRequest) (*gatewaydv1.GetStatsResponse, error) {
	s := a.s
	rt := s.live.Load()
	out := &gatewaydv1.GetStatsResponse{Node: s.cfg.ID, ConfigVersion: rt.version}
	snap := s.stats.snapshot()
	names := make([]string, 0, len(snap))
	for n := range snap {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		r := snap[n]
		out.Routes = append(out.Routes, &gatewaydv1.RouteStats{
			Route: n, Requests: r.requests.Load(), Responses: r.responses(),
			RateLimited: r.rateLimited.Load(), Unauthorized: r.unauthorized.Load(), Forbidden: r.forbidden.Load(),
			CacheHits: r.cacheHits.Load(), CacheMisses: r.cacheMisses.Load(), Fallbacks: r.fallbacks.Load(),
		})
	}
	pools := make([]string, 0, len(rt.pools))
	for n := range rt.pools {
		pools = append(pools, n)
	}
	slices.Sort(pools)
	for _, n := range pools {
		out.Upstreams = append(out.Upstreams, upstreamStats(n, rt.pools[n]))
	}
	return out, nil
}
