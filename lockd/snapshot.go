package lockd

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"
)

// snapshotVersion is the format of encoded snapshots.
const snapshotVersion = 1

// snapshotDoc is the encoded form of a state: JSON with sessions sorted by id and
// resources by kind and name, so equal states encode to equal bytes.
type snapshotDoc struct {
	Version   int         `json:"version"`
	Applied   uint64      `json:"applied"`
	Sessions  []*session  `json:"sessions"`
	Resources []*resource `json:"resources"`
}

// encode writes the state deterministically.
func (st *state) encode() ([]byte, error) {
	doc := snapshotDoc{Version: snapshotVersion, Applied: st.Applied, Sessions: []*session{}, Resources: []*resource{}}
	for _, s := range st.Sessions {
		doc.Sessions = append(doc.Sessions, s)
	}
	sort.Slice(doc.Sessions, func(i, j int) bool { return doc.Sessions[i].ID < doc.Sessions[j].ID })
	for _, r := range st.Resources {
		doc.Resources = append(doc.Resources, r)
	}
	sort.Slice(doc.Resources, func(i, j int) bool {
		return keyLess(resKey{doc.Resources[i].Kind, doc.Resources[i].Name}, resKey{doc.Resources[j].Kind, doc.Resources[j].Name})
	})
	return json.Marshal(doc)
}

// decodeState reads a state written by encode and rebuilds the session indexes.
func decodeState(r io.Reader) (*state, error) {
	var doc snapshotDoc
	if err := json.NewDecoder(r).Decode(&doc); err != nil {
		return nil, fmt.Errorf("lockd: decode snapshot: %w", err)
	}
	if doc.Version != snapshotVersion {
		return nil, fmt.Errorf("lockd: snapshot version %d is not supported (want %d)", doc.Version, snapshotVersion)
	}
	st := newState()
	st.Applied = doc.Applied
	for _, s := range doc.Sessions {
		s.held, s.waiting = map[resKey]struct{}{}, map[resKey]struct{}{}
		st.Sessions[s.ID] = s
	}
	for _, r := range doc.Resources {
		k := resKey{r.Kind, r.Name}
		if _, dup := st.Resources[k]; dup {
			return nil, fmt.Errorf("lockd: snapshot lists %s %q twice", kindNoun(r.Kind), r.Name)
		}
		st.Resources[k] = r
		for _, h := range r.Holders {
			s := st.Sessions[h.Session]
			if s == nil {
				return nil, fmt.Errorf("lockd: snapshot: %s %q held by unknown session %d", kindNoun(r.Kind), r.Name, h.Session)
			}
			s.held[k] = struct{}{}
		}
		for _, w := range r.Waiters {
			s := st.Sessions[w.Session]
			if s == nil {
				return nil, fmt.Errorf("lockd: snapshot: %s %q waited for by unknown session %d", kindNoun(r.Kind), r.Name, w.Session)
			}
			s.waiting[k] = struct{}{}
		}
	}
	return st, nil
}

func uitoa(v uint64) string { return strconv.FormatUint(v, 10) }

func quote(s string) string { return strconv.Quote(s) }

func timeFromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }
