package mapping

import "encoding/json"

// fieldJSON is a field as Elasticsearch prints it: parameters at their
// defaults are left out, objects print only their properties (and dynamic).
type fieldJSON struct {
	Type           Type                  `json:"type,omitempty"`
	Dynamic        Dynamic               `json:"dynamic,omitempty"`
	Analyzer       string                `json:"analyzer,omitempty"`
	SearchAnalyzer string                `json:"search_analyzer,omitempty"`
	Index          *bool                 `json:"index,omitempty"`
	DocValues      *bool                 `json:"doc_values,omitempty"`
	Normalizer     string                `json:"normalizer,omitempty"`
	Format         string                `json:"format,omitempty"`
	IgnoreAbove    int                   `json:"ignore_above,omitempty"`
	CopyTo         []string              `json:"copy_to,omitempty"`
	NullValue      json.RawMessage       `json:"null_value,omitempty"`
	Fields         map[string]*fieldJSON `json:"fields,omitempty"`
	Properties     map[string]*fieldJSON `json:"properties,omitempty"`
}

type mappingJSON struct {
	Dynamic       Dynamic               `json:"dynamic,omitempty"`
	DateDetection *bool                 `json:"date_detection,omitempty"`
	Properties    map[string]*fieldJSON `json:"properties"`
}

// JSON prints the mapping as Elasticsearch does ({"dynamic":..,
// "properties":{...}}); Parse(m.JSON()) gives m back.
func (m *Mapping) JSON() []byte {
	out := mappingJSON{Dynamic: m.Dynamic, Properties: printProps(m.Properties)}
	if m.NoDateDetection {
		f := false
		out.DateDetection = &f
	}
	b, err := json.Marshal(out)
	if err != nil {
		panic("mapping: marshal of plain structs failed: " + err.Error()) // cannot happen
	}
	return b
}

func printProps(props map[string]*Field) map[string]*fieldJSON {
	out := make(map[string]*fieldJSON, len(props))
	for name, f := range props {
		out[name] = printField(f)
	}
	return out
}

func printField(f *Field) *fieldJSON {
	if f.Type == Object {
		j := &fieldJSON{Dynamic: f.Dynamic, Properties: printProps(f.Properties)}
		if len(f.Properties) == 0 {
			j.Type = Object // {"type":"object"}, not {}
		}
		return j
	}
	j := &fieldJSON{
		Type:           f.Type,
		Analyzer:       f.Analyzer,
		SearchAnalyzer: f.SearchAnalyzer,
		Normalizer:     f.Normalizer,
		Format:         f.Format,
		IgnoreAbove:    f.IgnoreAbove,
		CopyTo:         f.CopyTo,
	}
	if f.NullValue != "" {
		j.NullValue = json.RawMessage(f.NullValue)
	}
	no := false
	if !f.Index {
		j.Index = &no
	}
	if !f.DocValues && f.Type != Text {
		j.DocValues = &no
	}
	if len(f.Fields) > 0 {
		j.Fields = printProps(f.Fields)
	}
	return j
}
