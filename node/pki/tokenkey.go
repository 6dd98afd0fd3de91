package pki

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// TokenKeyFileName is the cluster's token signing key in a certificate
// directory: an Ed25519 private key, PKCS#8 PEM, readable by its owner only.
// gatewayd signs the tokens of `cairn gateway token` with it, and verifies
// them with its public half.
const TokenKeyFileName = "token-key.pem"

// TokenKeyFile returns the path of the token key in dir.
func TokenKeyFile(dir string) string { return filepath.Join(dir, TokenKeyFileName) }

// EnsureTokenKey makes the token key in dir unless it exists (it is never
// replaced: tokens signed with it stay valid) and returns its path.
func EnsureTokenKey(dir string) (string, error) {
	path := TokenKeyFile(dir)
	if _, err := os.Stat(path); err == nil {
		return path, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("pki: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("pki: %w", err)
	}
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", fmt.Errorf("pki: token key: %w", err)
	}
	data, err := keyPEM(key)
	if err != nil {
		return "", err
	}
	if err := writeNew(path, data, 0o600); err != nil && !errors.Is(err, os.ErrExist) {
		return "", err
	}
	return path, nil
}
