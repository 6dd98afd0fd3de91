package sqs

import (
	"errors"
	"fmt"
	"time"

	"cairn.dev/cairn/node/sigv4"
)

// Defaults of Config.
const (
	DefaultRegion    = "us-east-1"
	DefaultAccountID = "000000000000"
)

// Config configures a Handler.
type Config struct {
	// Region is the region requests must be signed for and that queue ARNs
	// name.
	Region string
	// AccountID is the account of queue URLs and ARNs: twelve digits.
	AccountID string
	// Credentials are the access keys that may sign requests. Required.
	Credentials sigv4.Credentials
	// MaxBodyBytes is the longest request body read; zero means
	// sigv4.DefaultMaxBodyBytes (4 MiB, above SQS's largest batch).
	MaxBodyBytes int64
	// Now is the clock of signature checks; nil means time.Now.
	Now func() time.Time
}

// DefaultConfig returns a Config with the default region and account; the
// caller sets Credentials.
func DefaultConfig() Config {
	return Config{Region: DefaultRegion, AccountID: DefaultAccountID}
}

// Validate reports every invalid field.
func (c Config) Validate() error {
	var errs []error
	if !validRegion(c.Region) {
		errs = append(errs, fmt.Errorf("sqs: region %q must be lowercase letters, digits and '-' (e.g. us-east-1)", c.Region))
	}
	if !ValidAccountID(c.AccountID) {
		errs = append(errs, fmt.Errorf("sqs: account id %q must be 12 digits", c.AccountID))
	}
	if c.Credentials == nil {
		errs = append(errs, errors.New("sqs: credentials must be set"))
	}
	if c.MaxBodyBytes < 0 {
		errs = append(errs, fmt.Errorf("sqs: max body bytes %d must be >= 0", c.MaxBodyBytes))
	}
	return errors.Join(errs...)
}

// ValidAccountID reports whether id is an AWS account id: twelve digits.
func ValidAccountID(id string) bool {
	if len(id) != 12 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
	}
	return true
}

func validRegion(r string) bool {
	if r == "" || len(r) > 64 {
		return false
	}
	for i := 0; i < len(r); i++ {
		c := r[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func (c Config) maxBody() int64 {
	if c.MaxBodyBytes == 0 {
		return sigv4.DefaultMaxBodyBytes
	}
	return c.MaxBodyBytes
}
