package rpcerr

import (
	"errors"
	"fmt"
	"maps"
	"strings"
)

// Sentinels is a domain package's table of its sentinel errors and their
// reasons, for outcomes that travel as a reason, a message and metadata
// rather than as an error (a Raft state machine's command results): Split
// takes an error of the package apart, Error puts it back together on the
// other side. Each reason appears once; the table is also a valid []Rule
// for ToStatus.
type Sentinels []Rule

// ReasonOf returns the reason of the first sentinel err matches
// (errors.Is), or "" when it matches none.
func (t Sentinels) ReasonOf(err error) Reason {
	if r, ok := t.match(err); ok {
		return r.Reason
	}
	return ""
}

// Split returns the reason, message and metadata that Error turns back into
// err: the first matching sentinel's reason, err's message without that
// sentinel's own text in front ("meta: topic not found: t" gives "t"), and
// the metadata attached to err (MetadataOf). An error that matches no
// sentinel gives reason "" and its whole message.
func (t Sentinels) Split(err error) (reason Reason, msg string, md map[string]string) {
	msg, md = err.Error(), MetadataOf(err)
	if r, ok := t.match(err); ok {
		return r.Reason, strings.TrimPrefix(msg, r.Err.Error()+": "), md
	}
	return "", msg, md
}

// Error returns the error that reason, msg and md stand for: nil when reason
// is "", else the reason's sentinel wrapped with msg ("<sentinel>: <msg>",
// or the sentinel alone when msg is "") and annotated with md
// (WithMetadata). A reason not in the table gives an error naming it that
// matches no sentinel.
func (t Sentinels) Error(reason Reason, msg string, md map[string]string) error {
	if reason == "" {
		return nil
	}
	var err error
	for _, r := range t {
		if r.Reason == reason {
			err = r.Err
			if msg != "" {
				err = fmt.Errorf("%w: %s", r.Err, msg)
			}
			break
		}
	}
	if err == nil {
		err = fmt.Errorf("rpcerr: unknown reason %s: %s", reason, msg)
	}
	if len(md) > 0 {
		err = &metaError{err: err, md: maps.Clone(md)}
	}
	return err
}

func (t Sentinels) match(err error) (Rule, bool) {
	for _, r := range t {
		if errors.Is(err, r.Err) {
			return r, true
		}
	}
	return Rule{}, false
}
