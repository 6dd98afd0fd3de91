package searchd

import (
	"sync"

	"cairn.dev/cairn/searchd/analysis"
	"cairn.dev/cairn/searchd/engine"
	"cairn.dev/cairn/searchd/mapping"
	"cairn.dev/cairn/searchd/meta"
	"cairn.dev/cairn/searchd/query"
)

// schema is an index's parsed mapping (of one version) and analyzers.
type schema struct {
	version uint64
	mapping *mapping.Mapping
	reg     *analysis.Registry
}

// schemaCache keeps the parsed schema of every index by uuid, so writes
// and searches do not parse the mappings JSON each time.
type schemaCache struct {
	mu sync.Mutex // protects byUUID
	// byUUID holds the newest version parsed of each index.
	byUUID map[string]*schema
}

func newSchemaCache() *schemaCache { return &schemaCache{byUUID: map[string]*schema{}} }

// get returns ix's schema at ix's mapping version.
func (c *schemaCache) get(ix *meta.Index) (*schema, error) {
	c.mu.Lock()
	sc := c.byUUID[ix.UUID]
	c.mu.Unlock()
	if sc != nil && sc.version == ix.MappingVersion {
		return sc, nil
	}
	var reg *analysis.Registry
	if sc != nil {
		reg = sc.reg // analysis settings are fixed at creation
	} else {
		var err error
		if reg, err = analysis.NewRegistry(ix.AnalysisJSON); err != nil {
			return nil, err
		}
	}
	m, err := mapping.Parse(ix.MappingsJSON)
	if err != nil {
		return nil, err
	}
	sc = &schema{version: ix.MappingVersion, mapping: m, reg: reg}
	c.mu.Lock()
	if cur := c.byUUID[ix.UUID]; cur == nil || cur.version < sc.version {
		c.byUUID[ix.UUID] = sc
	}
	c.mu.Unlock()
	return sc, nil
}

// forget drops a deleted index's schema.
func (c *schemaCache) forget(uuid string) {
	c.mu.Lock()
	delete(c.byUUID, uuid)
	c.mu.Unlock()
}

// engineSettings are the engine settings of ix under cfg's limits.
func (s *Server) engineSettings(ix *meta.Index) engine.Settings {
	return engine.Settings{
		Shards: ix.Shards,
		Query:  query.Settings{K1: ix.K1, B: ix.B},
		Limits: query.Limits{
			MaxClauses: s.cfg.MaxClauses, MaxExpansions: s.cfg.MaxExpansions, MaxResultWindow: s.cfg.MaxResultWindow,
		},
		AnalysisJSON:     ix.AnalysisJSON,
		MaxDocumentBytes: s.cfg.MaxDocumentBytes,
	}
}
