package meta

import (
	"cairn.dev/cairn/node/rpcerr"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

func accessKeyResult(k *blobdraftv1.AccessKeyRecord) *blobdraftv1.CommandResult {
	return &blobdraftv1.CommandResult{Result: &blobdraftv1.CommandResult_AccessKey{AccessKey: k}}
}

func (a *applier) putAccessKey(op *blobdraftv1.PutAccessKeyOp) (*blobdraftv1.CommandResult, error) {
	if err := ValidateAccessKey(op.GetId(), op.GetSecret(), op.GetPrincipal()); err != nil {
		return nil, failureOf(err)
	}
	k, err := getAccessKey(a.tx, op.GetId())
	if err != nil {
		return nil, err
	}
	if k == nil {
		k = &blobdraftv1.AccessKeyRecord{Id: op.GetId(), CreatedUnixNanos: a.now}
	}
	k.Secret, k.Principal, k.Enabled = op.GetSecret(), op.GetPrincipal(), op.GetEnabled()
	return accessKeyResult(k), a.put(bucketAccessKeys, []byte(k.Id), k)
}

func (a *applier) deleteAccessKey(op *blobdraftv1.DeleteAccessKeyOp) (*blobdraftv1.CommandResult, error) {
	k, err := getAccessKey(a.tx, op.GetId())
	if err != nil {
		return nil, err
	}
	if k == nil {
		return nil, fail(rpcerr.AccessKeyNotFound, "access key %q", op.GetId()).with(rpcerr.KeyField, "id")
	}
	return accessKeyResult(k), a.del(bucketAccessKeys, []byte(k.Id))
}
