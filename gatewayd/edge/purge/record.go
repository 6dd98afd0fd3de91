package purge

import (
	"encoding/json"
	"fmt"
	"time"
)

// recordValue is a record as stored at purges/log/<seq>. ID is the
// publisher's random id, which lets a Publish whose write had an unknown
// outcome find out whether it was applied.
type recordValue struct {
	Spec
	At time.Time `json:"at"`
	By string    `json:"by,omitempty"`
	ID string    `json:"id"`
}

// encodeRecord returns the stored form of a record.
func encodeRecord(v recordValue) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("purge: encode record: %w", err)
	}
	return string(b), nil
}

// decodeRecord parses the record stored at seq; a record that does not parse
// or whose spec is not valid is an error.
func decodeRecord(seq int64, b []byte) (Record, string, error) {
	var v recordValue
	if err := json.Unmarshal(b, &v); err != nil {
		return Record{}, "", fmt.Errorf("purge: record %d: %w", seq, err)
	}
	if err := v.Spec.Validate(); err != nil {
		return Record{}, "", fmt.Errorf("purge: record %d: %w", seq, err)
	}
	return Record{Seq: seq, Spec: v.Spec, At: v.At, By: v.By}, v.ID, nil
}
