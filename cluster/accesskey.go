package cluster

import (
	"bufio"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// AccessKeyFileName is the file, inside the cluster directory, that holds
// the cluster access key of the AWS-protocol APIs — the SQS API of queued
// and the S3 API of blobd — in the format of their --sqs-credentials-file
// and --s3-credentials-file ("ACCESS_KEY_ID SECRET_ACCESS_KEY PRINCIPAL"),
// mode 0600. Up makes it once and reuses it after.
const AccessKeyFileName = "access-key"

// SQSCredentialsFileName is the name the access key file had when only
// queued used it; Up renames such a file to AccessKeyFileName, so a cluster
// made before keeps its key.
const SQSCredentialsFileName = "sqs-credentials"

// AccessKeyPrincipal is the principal of the cluster access key.
const AccessKeyPrincipal = "cluster"

// Region is the region of the AWS-protocol APIs of harness clusters (the
// daemons' default).
const Region = "us-east-1"

// SQSRegion is Region, by its first name.
const SQSRegion = Region

// AccessKeyState records how outside AWS clients (awscli, the SDKs, a
// presigned URL's signer) authenticate to the cluster's SQS and S3 APIs.
type AccessKeyState struct {
	// CredentialsFile is the absolute path of the access key file.
	CredentialsFile string `json:"credentials_file"`
	// Region is the region requests are signed for.
	Region string `json:"region"`
}

// SQSState is AccessKeyState, by its first name.
type SQSState = AccessKeyState

// accessKeyFile is the access key file of the cluster in dir.
func accessKeyFile(dir string) string { return filepath.Join(dir, AccessKeyFileName) }

// usesAccessKey reports whether a service serves an AWS-protocol API.
func usesAccessKey(service string) bool { return service == "queued" || service == "blobd" }

// ensureAccessKey makes the cluster's access key pair with crypto/rand,
// unless the file exists (or exists by its old name, which it renames).
// The caller holds the directory lock.
func ensureAccessKey(dir string) (*AccessKeyState, error) {
	path := accessKeyFile(dir)
	st := &AccessKeyState{CredentialsFile: path, Region: Region}
	if _, err := os.Stat(path); err == nil {
		return st, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("cluster: access key: %w", err)
	}
	legacy := filepath.Join(dir, SQSCredentialsFileName)
	if _, err := os.Stat(legacy); err == nil {
		if err := os.Rename(legacy, path); err != nil {
			return nil, fmt.Errorf("cluster: access key: %w", err)
		}
		return st, nil
	}
	id := make([]byte, 10)
	secret := make([]byte, 30)
	if _, err := rand.Read(id); err != nil {
		return nil, fmt.Errorf("cluster: access key: %w", err)
	}
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("cluster: access key: %w", err)
	}
	// "AKCA" and 16 characters of A-Z2-7, like an AWS key id; a 40
	// character secret.
	line := "AKCA" + base32.StdEncoding.EncodeToString(id) + " " + base64.StdEncoding.EncodeToString(secret) + " " + AccessKeyPrincipal + "\n"
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cluster: access key: %w", err)
	}
	if _, err := f.WriteString(line); err != nil {
		f.Close()
		return nil, fmt.Errorf("cluster: access key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("cluster: access key: %w", err)
	}
	return st, nil
}

// AccessKey returns the first access key of the credentials file, for the
// exports of `cairn cluster env` and for presigning.
func (s AccessKeyState) AccessKey() (id, secret string, err error) {
	f, err := os.Open(s.CredentialsFile)
	if err != nil {
		return "", "", fmt.Errorf("cluster: access key: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if fields := strings.Fields(line); len(fields) >= 2 {
			return fields[0], fields[1], nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", "", fmt.Errorf("cluster: access key: %w", err)
	}
	return "", "", fmt.Errorf("cluster: access key: %s holds no key", s.CredentialsFile)
}
