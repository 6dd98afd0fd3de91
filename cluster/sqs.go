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

// SQSCredentialsFileName is the file, inside the cluster directory, that
// holds the access key of the SQS API of the cluster's queued nodes, in the
// format of --sqs-credentials-file ("ACCESS_KEY_ID SECRET_ACCESS_KEY
// PRINCIPAL"), mode 0600. Up makes it once and reuses it after.
const SQSCredentialsFileName = "sqs-credentials"

// SQSRegion is the region of the SQS API of harness clusters (queued's
// default).
const SQSRegion = "us-east-1"

// SQSState records how outside SQS clients authenticate to the cluster's
// queued nodes.
type SQSState struct {
	// CredentialsFile is the absolute path of the access key file.
	CredentialsFile string `json:"credentials_file"`
	// Region is the region requests are signed for.
	Region string `json:"region"`
}

// sqsCredentialsFile is the access key file of the cluster in dir.
func sqsCredentialsFile(dir string) string { return filepath.Join(dir, SQSCredentialsFileName) }

// ensureSQSCredentials makes the cluster's SQS access key pair with
// crypto/rand, unless the file exists. The caller holds the directory lock.
func ensureSQSCredentials(dir string) (*SQSState, error) {
	path := sqsCredentialsFile(dir)
	st := &SQSState{CredentialsFile: path, Region: SQSRegion}
	if _, err := os.Stat(path); err == nil {
		return st, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("cluster: sqs credentials: %w", err)
	}
	id := make([]byte, 10)
	secret := make([]byte, 30)
	if _, err := rand.Read(id); err != nil {
		return nil, fmt.Errorf("cluster: sqs credentials: %w", err)
	}
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("cluster: sqs credentials: %w", err)
	}
	// "AKCA" and 16 characters of A-Z2-7, like an AWS key id; a 40
	// character secret.
	line := "AKCA" + base32.StdEncoding.EncodeToString(id) + " " + base64.StdEncoding.EncodeToString(secret) + " cluster\n"
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cluster: sqs credentials: %w", err)
	}
	if _, err := f.WriteString(line); err != nil {
		f.Close()
		return nil, fmt.Errorf("cluster: sqs credentials: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("cluster: sqs credentials: %w", err)
	}
	return st, nil
}

// AccessKey returns the first access key of the credentials file, for the
// exports of `cairn cluster env`.
func (s SQSState) AccessKey() (id, secret string, err error) {
	f, err := os.Open(s.CredentialsFile)
	if err != nil {
		return "", "", fmt.Errorf("cluster: sqs credentials: %w", err)
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
		return "", "", fmt.Errorf("cluster: sqs credentials: %w", err)
	}
	return "", "", fmt.Errorf("cluster: sqs credentials: %s holds no key", s.CredentialsFile)
}
