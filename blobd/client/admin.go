package client

import (
	"context"

	"google.golang.org/grpc"

	blobdv1 "cairn.dev/cairn/proto/cairn/blobd/v1"
)

// CreateAccessKey makes a new S3 access key pair for principal.
func (c *Client) CreateAccessKey(ctx context.Context, principal string) (*blobdv1.AccessKey, error) {
	resp, err := call(ctx, c, "create-access-key", kindWrite, func(ctx context.Context, co ...grpc.CallOption) (*blobdv1.CreateAccessKeyResponse, error) {
		return c.admin.CreateAccessKey(ctx, &blobdv1.CreateAccessKeyRequest{Principal: principal}, co...)
	})
	return resp.GetAccessKey(), err
}

// AccessKeys lists the access keys, secrets included.
func (c *Client) AccessKeys(ctx context.Context) ([]*blobdv1.AccessKey, error) {
	resp, err := call(ctx, c, "list-access-keys", kindRead, func(ctx context.Context, co ...grpc.CallOption) (*blobdv1.ListAccessKeysResponse, error) {
		return c.admin.ListAccessKeys(ctx, &blobdv1.ListAccessKeysRequest{}, co...)
	})
	return resp.GetAccessKeys(), err
}

// DeleteAccessKey deletes an access key (ErrAccessKeyNotFound when unknown).
func (c *Client) DeleteAccessKey(ctx context.Context, id string) error {
	_, err := call(ctx, c, "delete-access-key", kindIdempotent, func(ctx context.Context, co ...grpc.CallOption) (*blobdv1.DeleteAccessKeyResponse, error) {
		return c.admin.DeleteAccessKey(ctx, &blobdv1.DeleteAccessKeyRequest{Id: id}, co...)
	})
	return err
}

// Servers lists the volume servers and their state.
func (c *Client) Servers(ctx context.Context) ([]*blobdv1.Server, error) {
	resp, err := call(ctx, c, "list-servers", kindRead, func(ctx context.Context, co ...grpc.CallOption) (*blobdv1.ListServersResponse, error) {
		return c.admin.ListServers(ctx, &blobdv1.ListServersRequest{}, co...)
	})
	return resp.GetServers(), err
}

// Volumes lists the volumes.
func (c *Client) Volumes(ctx context.Context) ([]*blobdv1.Volume, error) {
	resp, err := call(ctx, c, "list-volumes", kindRead, func(ctx context.Context, co ...grpc.CallOption) (*blobdv1.ListVolumesResponse, error) {
		return c.admin.ListVolumes(ctx, &blobdv1.ListVolumesRequest{}, co...)
	})
	return resp.GetVolumes(), err
}

// RepairStatus reports the redundancy of the data as the metadata leader
// sees it.
func (c *Client) RepairStatus(ctx context.Context) (*blobdv1.RepairStatusResponse, error) {
	return call(ctx, c, "repair-status", kindRead, func(ctx context.Context, co ...grpc.CallOption) (*blobdv1.RepairStatusResponse, error) {
		return c.admin.RepairStatus(ctx, &blobdv1.RepairStatusRequest{}, co...)
	})
}
