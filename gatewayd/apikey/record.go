package apikey

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"
)

// record is the JSON value stored in raftkv under <prefix><id>.
type record struct {
	Consumer  string    `json:"consumer"`
	Hash      string    `json:"sha256"` // base64url of SHA-256(secret)
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

func encodeRecord(k Key) ([]byte, error) {
	return json.Marshal(record{
		Consumer:  k.Consumer,
		Hash:      base64.RawURLEncoding.EncodeToString(k.hash[:]),
		CreatedAt: k.CreatedAt,
		ExpiresAt: k.ExpiresAt,
	})
}

// decodeRecord rebuilds the Key stored under id.
func decodeRecord(id string, val []byte) (Key, error) {
	if !ValidID(id) {
		return Key{}, fmt.Errorf("bad key id %q", id)
	}
	var r record
	if err := json.Unmarshal(val, &r); err != nil {
		return Key{}, err
	}
	h, err := base64.RawURLEncoding.DecodeString(r.Hash)
	if err != nil || len(h) != 32 || r.Consumer == "" {
		return Key{}, fmt.Errorf("bad record for key %s", id)
	}
	k := Key{ID: id, Consumer: r.Consumer, CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt}
	copy(k.hash[:], h)
	return k, nil
}
