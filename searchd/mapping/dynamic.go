package mapping

import (
	"fmt"
	"strings"
)

// dynamicField makes the field dynamic mapping adds for the unmapped key
// of ctx (at path) from the value ahead, or returns nil when the value is
// null or an array without a non-null value (nothing is mapped then).
func (p *docParser) dynamicField(ctx objCtx, key, path string, nesting int) (*Field, error) {
	ahead := p.sc // a copy: looking ahead must not consume
	k, v := firstValue(&ahead, nesting)
	var f *Field
	switch k {
	case kindNone:
		return nil, nil
	case kindObject:
		f = &Field{Type: Object, Index: true, Properties: map[string]*Field{}}
	case kindBool:
		f = &Field{Type: Boolean, Index: true, DocValues: true}
	case kindNumber:
		f = &Field{Type: Float, Index: true, DocValues: true}
		if !strings.ContainsAny(v, ".eE") {
			if _, problem := parseInteger(v, Long); problem == "" {
				f.Type = Long
			}
		}
	case kindString:
		if format, ok := detectDate(v); ok && !p.m.NoDateDetection {
			f = &Field{Type: Date, Index: true, DocValues: true, Format: format}
			f.dates, _ = parseDateFormats(f.DateFormat())
		} else {
			kw := &Field{Type: Keyword, Index: true, DocValues: true, IgnoreAbove: 256, path: path + ".keyword"}
			f = &Field{Type: Text, Index: true, Fields: map[string]*Field{"keyword": kw}, subs: []string{"keyword"}}
		}
	}
	f.path = path
	if err := p.add(ctx, key, path, f); err != nil {
		return nil, err
	}
	return f, nil
}

// firstValue returns the kind of the value at sc — for an array, of its
// first non-null element — and a scalar's text. Syntax errors give
// kindNone: the real parse reports them.
func firstValue(sc *scanner, nesting int) (kind, string) {
	switch sc.peek() {
	case '{':
		return kindObject, ""
	case '"':
		s, err := sc.str()
		if err != nil {
			return kindNone, ""
		}
		return kindString, s
	case 't', 'f':
		return kindBool, ""
	case '[':
		sc.i++
		for nesting < maxNesting && sc.peek() != ']' {
			if k, v := firstValue(sc, nesting+1); k != kindNone {
				return k, v
			}
			if sc.skip(nesting+1) != nil {
				return kindNone, ""
			}
			if more, err := sc.next(']'); err != nil || !more {
				return kindNone, ""
			}
		}
		return kindNone, ""
	case 'n', 0:
		return kindNone, ""
	}
	lit, err := sc.number()
	if err != nil {
		return kindNone, ""
	}
	return kindNumber, lit
}

// add records f, new at path (the field key of ctx), among the document's
// mapping additions, checking the total fields limit.
func (p *docParser) add(ctx objCtx, key, path string, f *Field) error {
	if p.count < 0 {
		p.count = p.m.Count()
	}
	p.count += 1 + len(f.Fields)
	if p.count > p.limits.TotalFields {
		return fmt.Errorf("%w: limit of total fields [%d] has been exceeded while adding new field [%s]", ErrLimit, p.limits.TotalFields, path)
	}
	if p.added == nil {
		p.added = make(map[string]*Field)
	}
	p.added[path] = f
	if ctx.fresh {
		ctx.props[key] = f
	} else {
		p.roots = append(p.roots, path)
	}
	return nil
}

// additions returns the mapping of the fields dynamic mapping added, nil
// when none: each new field under objects that exist in m.
func (p *docParser) additions() *Mapping {
	if len(p.roots) == 0 {
		return nil
	}
	add := &Mapping{Properties: map[string]*Field{}, Limits: p.m.Limits}
	for _, path := range p.roots {
		parts := strings.Split(path, ".")
		props := add.Properties
		for i, part := range parts[:len(parts)-1] {
			obj := props[part]
			if obj == nil {
				obj = &Field{Type: Object, Index: true, Properties: map[string]*Field{}, path: strings.Join(parts[:i+1], ".")}
				props[part] = obj
			}
			props = obj.Properties
		}
		props[parts[len(parts)-1]] = p.added[path]
	}
	return add
}
