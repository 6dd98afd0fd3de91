package index

import (
	"slices"
	"strings"
)

// writeBuffer writes a sealed buffer as a segment file at path.
func writeBuffer(path string, b *buffer) error {
	sw, err := createSegment(path, b.maxDoc())
	if err != nil {
		return err
	}
	for i, id := range b.ids {
		sw.addStored(id, b.sources[i])
	}
	fields := slices.Clone(b.order)
	slices.SortFunc(fields, func(x, y *bufField) int { return strings.Compare(x.name, y.name) })
	var terms []string
	for _, f := range fields {
		if f.kind == kindText && len(f.norms) > 0 {
			sw.writeNorms(f.name, f.norms)
		}
		if len(f.dvDocs) > 0 {
			var col []byte
			if f.kind == kindKeyword {
				col = appendKeywordColumn(nil, b.maxDoc(), f.dvDocs, f.dvKeys)
			} else {
				col = appendNumericColumn(nil, b.maxDoc(), f.dvDocs, f.dvInts)
			}
			sw.writeDocValues(f.name, f.kind, col)
		}
		if len(f.terms) == 0 {
			continue
		}
		terms = terms[:0]
		for t := range f.terms {
			terms = append(terms, t)
		}
		slices.Sort(terms)
		sw.beginField(f.name, f.kind)
		hasPos := f.kind == kindText
		for _, term := range terms {
			t := &f.tlist[f.terms[term]]
			sw.startTerm()
			var doc uint32
			pp := 0
			for p := 0; p < len(t.docs); {
				var d, fr uint64
				d, p = uvarint(t.docs, p)
				fr, p = uvarint(t.docs, p)
				doc += uint32(d)
				var pos []byte
				var fl uint32
				if hasPos {
					end := skipUvarints(t.pos, pp, int(fr))
					pos = t.pos[pp:end]
					pp = end
					if int(doc) < len(f.norms) {
						fl = normTable[f.norms[doc]]
					}
				}
				sw.addPosting(doc, uint32(fr), fl, pos)
			}
			sw.finishTerm([]byte(term))
		}
		sw.endField()
	}
	return sw.finish()
}
