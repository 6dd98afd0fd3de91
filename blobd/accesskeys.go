package blobd

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"

	"cairn.dev/cairn/blobd/meta"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

// AccessKeyIDPrefix starts the id of every access key CreateAccessKey
// makes; 16 random base32 characters follow it.
const AccessKeyIDPrefix = "AKCB"

// AccessKey returns an access key from the metadata (for SigV4); unknown
// ids are meta.ErrAccessKeyNotFound. A key this node knows is returned
// from its local state, without a round trip (a key deleted moments ago
// may still verify here for as long as this node lags); an unknown id is
// looked up again after a read barrier, so a key works on every node as
// soon as CreateAccessKey returns.
func (s *Server) AccessKey(ctx context.Context, id string) (*blobdraftv1.AccessKeyRecord, error) {
	k, err := s.meta.AccessKey(id)
	if !errors.Is(err, meta.ErrAccessKeyNotFound) {
		return k, err
	}
	if err := s.barrier(ctx); err != nil {
		return nil, err
	}
	return s.meta.AccessKey(id)
}

// CreateAccessKey makes a new, enabled key pair for principal: an id of
// AccessKeyIDPrefix and 16 random base32 characters, and a secret of 40
// random base64 characters (crypto/rand).
func (s *Server) CreateAccessKey(ctx context.Context, principal string) (*blobdraftv1.AccessKeyRecord, error) {
	var idBytes [10]byte     // 16 base32 characters
	var secretBytes [30]byte // 40 base64 characters
	if _, err := rand.Read(idBytes[:]); err != nil {
		return nil, fmt.Errorf("blobd: access key id: %w", err)
	}
	if _, err := rand.Read(secretBytes[:]); err != nil {
		return nil, fmt.Errorf("blobd: access key secret: %w", err)
	}
	id := AccessKeyIDPrefix + base32.StdEncoding.EncodeToString(idBytes[:])
	secret := base64.StdEncoding.EncodeToString(secretBytes[:])
	if err := meta.ValidateAccessKey(id, secret, principal); err != nil {
		return nil, err
	}
	res, err := s.propose(ctx, meta.PutAccessKey(id, secret, principal, true))
	if err != nil {
		return nil, err
	}
	return res.GetAccessKey(), nil
}

// AccessKeys lists the access keys (secrets included: admin only).
func (s *Server) AccessKeys(ctx context.Context) ([]*blobdraftv1.AccessKeyRecord, error) {
	if err := s.barrier(ctx); err != nil {
		return nil, err
	}
	return s.meta.AccessKeys()
}

// DeleteAccessKey deletes one (meta.ErrAccessKeyNotFound when unknown).
func (s *Server) DeleteAccessKey(ctx context.Context, id string) error {
	_, err := s.propose(ctx, meta.DeleteAccessKey(id))
	return err
}
