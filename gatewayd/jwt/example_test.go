package jwt_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"time"

	"cairn.dev/cairn/gatewayd/gwconfig"
	"cairn.dev/cairn/gatewayd/jwt"
)

// The cluster issuer: the gateway verifies tokens signed with the cluster's
// token key, named by its thumbprint.
func Example() {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	v, err := jwt.NewVerifier([]gwconfig.JWTProvider{{
		Name: "cluster", Issuer: "cairn", Audiences: []string{"gateway"},
		Algorithms: []string{"EdDSA"}, ClusterIssuer: true,
	}}, jwt.Options{ClusterKey: priv.Public()})
	if err != nil {
		panic(err)
	}
	defer v.Close()

	now := time.Now()
	token, _ := jwt.Sign(jwt.AlgorithmFor(priv), priv, jwt.PublicKeyID(priv.Public()), map[string]any{
		"iss": "cairn", "aud": "gateway", "sub": "demo", "scope": "kv:read",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	})
	claims, err := v.Verify(context.Background(), token, []string{"cluster"})
	fmt.Println(claims.Consumer, claims.Scopes, err)

	_, err = v.Verify(context.Background(), token+"x", []string{"cluster"})
	fmt.Println(jwt.Description(err))
	// Output:
	// demo [kv:read] <nil>
	// malformed token
}
