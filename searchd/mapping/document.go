package mapping

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"cairn.dev/cairn/searchd/analysis"
)

// FieldValue is one indexed value of one field of a document. Multi-valued
// fields (JSON arrays) give one FieldValue per value.
type FieldValue struct {
	// Path is the dotted field path ("title", "title.keyword").
	Path string
	Type Type
	// Tokens are the analysed terms of a text value (positions continue
	// across the values of one field with a gap of 100, as Elasticsearch's
	// position_increment_gap) or the single term of a keyword value.
	Tokens []analysis.Token
	// Surface holds a text value's unstemmed words (analysis.SurfaceForms)
	// for suggestions.
	Surface []string
	// Int is the value of integer, date (epoch milliseconds) and boolean
	// (0/1) fields; Float of float fields; Keyword of keyword fields.
	Int     int64
	Float   float64
	Keyword string
	// Indexed and DocValues copy the field's settings.
	Indexed, DocValues bool
}

// Document is a parsed document, ready for the index.
type Document struct {
	ID     string
	Source []byte
	Fields []FieldValue
}

// PositionIncrementGap is the position gap between the values of a
// multi-valued text field, so that phrases do not match across values.
const PositionIncrementGap = 100

// metadataFields are Elasticsearch's metadata fields, which a document may
// not contain at its top level.
var metadataFields = map[string]bool{
	"_id": true, "_index": true, "_source": true, "_routing": true, "_seq_no": true,
	"_primary_term": true, "_version": true, "_type": true, "_field_names": true,
	"_ignored": true, "_doc_count": true, "_tier": true, "_nested_path": true,
}

// ParseDocument parses a JSON object against m. It returns the document
// and, when dynamic mapping added fields, the mapping to merge (nil
// otherwise): the caller must make that mapping durable before the
// document. Errors (ErrParse, ErrStrict, ErrType, ErrLimit, and ErrInvalid
// for a field naming an analyzer or normalizer reg lacks) name the field
// and the value's problem. reg may be nil (built-in analyzers only).
// Document.Source is source itself (the caller must not modify it
// afterwards); tokens and strings share one private copy of it. Safe for
// concurrent use (m is not modified).
//
// Values: arrays give one FieldValue per element (nested arrays are
// flattened), nulls are skipped, objects recurse with dotted paths (a
// dotted key "a.b" is the object path a → b). Text is analysed with the
// field's analyzer (a text field with index false is kept in _source
// only). Keyword values longer than ignore_above characters are not
// indexed; the others are normalised by the field's normalizer. Integer
// fields take integral numbers (or numeric strings) in their type's range.
// Dates take strings in the field's format, and numbers in the unit of the
// first epoch format listed (epoch_millis by default). Booleans take
// true/false and "true"/"false" ("" is false). Text and keyword fields
// index numbers and booleans as their JSON text. Every value goes to the
// field's multi-fields too, and to its copy_to fields with their
// multi-fields (copies are not copied further).
func (m *Mapping) ParseDocument(id string, source []byte, reg *analysis.Registry) (*Document, *Mapping, error) {
	p := &docParser{
		m:      m,
		reg:    reg,
		sc:     scanner{s: string(source)},
		limits: m.Limits.orDefault(),
		count:  -1,
		doc:    &Document{ID: id, Source: source, Fields: make([]FieldValue, 0, 16)},
		// About one token per 7 bytes of English: most documents need no
		// second allocation.
		toks: make([]analysis.Token, 0, min(len(source)/7+8, 1<<14)),
	}
	if p.sc.peek() != '{' {
		return nil, nil, p.sc.errorf("a document must be a JSON object")
	}
	root := objCtx{props: m.Properties, dyn: m.dynamic(), depth: 1}
	if err := p.object(root, 0); err != nil {
		return nil, nil, err
	}
	if p.sc.ws(); p.sc.i < len(p.sc.s) {
		return nil, nil, p.sc.errorf("data after the document")
	}
	return p.doc, p.additions(), nil
}

// docParser is the state of one ParseDocument call.
type docParser struct {
	m      *Mapping
	reg    *analysis.Registry
	sc     scanner
	limits Limits
	doc    *Document
	// toks and surf back the Tokens and Surface of the document's values:
	// each value holds a full-capacity slice of them, so appends for later
	// values never write into earlier ones.
	toks []analysis.Token
	surf []string
	// nextPos is the first position of a text field's next value, for
	// fields seen before in this document (nil until then).
	nextPos map[string]int
	// added holds the fields dynamic mapping added, by path; roots lists
	// the paths of those whose parent existed before, in order.
	added map[string]*Field
	roots []string
	// count is the mapping's field count with the additions (-1: not yet
	// counted).
	count int
}

// objCtx is the object being parsed.
type objCtx struct {
	prefix string
	props  map[string]*Field
	dyn    Dynamic
	// depth is the depth of the object's fields: 1 at the root, 2 in an
	// object at the root (as index.mapping.depth.limit counts).
	depth int
	// fresh: the object was added by dynamic mapping in this document, so
	// props may take new fields directly.
	fresh bool
}

func (p *docParser) object(ctx objCtx, nesting int) error {
	if nesting >= maxNesting {
		return fmt.Errorf("%w: JSON nesting depth exceeds %d", ErrLimit, maxNesting)
	}
	p.sc.i++ // '{'
	if p.sc.peek() == '}' {
		p.sc.i++
		return nil
	}
	for {
		if p.sc.peek() != '"' {
			return p.sc.errorf("expected a field name")
		}
		key, err := p.sc.str()
		if err != nil {
			return err
		}
		if err := p.sc.expect(':'); err != nil {
			return err
		}
		if err := p.key(ctx, key, nesting); err != nil {
			return err
		}
		more, err := p.sc.next('}')
		if err != nil || !more {
			return err
		}
	}
}

// lookup returns the field name of ctx (nil when unmapped) and its path.
func (p *docParser) lookup(ctx objCtx, name string) (*Field, string) {
	if f := ctx.props[name]; f != nil {
		if f.path != "" {
			return f, f.path
		}
		return f, join(ctx.prefix, name)
	}
	path := join(ctx.prefix, name)
	if !ctx.fresh && p.added != nil {
		if f := p.added[path]; f != nil {
			return f, path
		}
	}
	return nil, path
}

func (p *docParser) key(ctx objCtx, key string, nesting int) error {
	if ctx.depth == 1 && metadataFields[key] {
		return fmt.Errorf("%w: field [%s] is a metadata field and cannot be added inside a document", ErrType, key)
	}
	if key == "" || strings.TrimSpace(key) == "" {
		return fmt.Errorf("%w: field name cannot be empty or white space (in [%s])", ErrType, ctx.prefix)
	}
	if strings.IndexByte(key, '.') >= 0 {
		return p.dotted(ctx, key, nesting)
	}
	f, path := p.lookup(ctx, key)
	if f == nil {
		switch ctx.dyn {
		case DynamicFalse:
			return p.sc.skip(nesting)
		case DynamicStrict:
			return strictError(ctx, key)
		}
		var err error
		if f, err = p.dynamicField(ctx, key, path, nesting); err != nil || f == nil {
			if err != nil {
				return err
			}
			return p.sc.skip(nesting) // null or empty array: nothing to map yet
		}
	}
	return p.value(f, path, ctx, nesting)
}

func strictError(ctx objCtx, key string) error {
	within := ctx.prefix
	if within == "" {
		within = "_doc"
	}
	return fmt.Errorf("%w: mapping set to strict, dynamic introduction of [%s] within [%s] is not allowed", ErrStrict, key, within)
}

// dotted handles a key "a.b.c" as objects a and b holding c.
func (p *docParser) dotted(ctx objCtx, key string, nesting int) error {
	parts := strings.Split(key, ".")
	for _, part := range parts {
		if strings.TrimSpace(part) == "" {
			return fmt.Errorf("%w: field name [%s] has an empty part", ErrType, join(ctx.prefix, key))
		}
	}
	for _, part := range parts[:len(parts)-1] {
		f, path := p.lookup(ctx, part)
		if f == nil {
			switch ctx.dyn {
			case DynamicFalse:
				return p.sc.skip(nesting)
			case DynamicStrict:
				return strictError(ctx, part)
			}
			f = &Field{Type: Object, Index: true, Properties: map[string]*Field{}, path: path}
			if err := p.add(ctx, part, path, f); err != nil {
				return err
			}
		}
		if f.Type != Object {
			return fmt.Errorf("%w: field [%s] of type [%s] cannot hold sub-field [%s]", ErrType, path, f.Type, join(ctx.prefix, key))
		}
		var err error
		if ctx, err = p.enter(ctx, f, path); err != nil {
			return err
		}
	}
	return p.key(ctx, parts[len(parts)-1], nesting)
}

// enter returns the context of object field f (at path) within ctx.
func (p *docParser) enter(ctx objCtx, f *Field, path string) (objCtx, error) {
	if ctx.depth+1 > p.limits.Depth {
		return objCtx{}, fmt.Errorf("%w: limit of mapping depth [%d] has been exceeded due to object field [%s]", ErrLimit, p.limits.Depth, path)
	}
	dyn := ctx.dyn
	if f.Dynamic != "" {
		dyn = f.Dynamic
	}
	return objCtx{prefix: path, props: f.Properties, dyn: dyn, depth: ctx.depth + 1, fresh: p.added != nil && p.added[path] == f}, nil
}

// value parses the value of field f (at path, in ctx).
func (p *docParser) value(f *Field, path string, ctx objCtx, nesting int) error {
	sc := &p.sc
	switch sc.peek() {
	case '{':
		if f.Type != Object {
			return fmt.Errorf("%w: field [%s] of type [%s] cannot take an object", ErrType, path, f.Type)
		}
		inner, err := p.enter(ctx, f, path)
		if err != nil {
			return err
		}
		return p.object(inner, nesting+1)
	case '[':
		if nesting >= maxNesting {
			return fmt.Errorf("%w: JSON nesting depth exceeds %d", ErrLimit, maxNesting)
		}
		sc.i++
		if sc.peek() == ']' {
			sc.i++
			return nil
		}
		for {
			if err := p.value(f, path, ctx, nesting+1); err != nil {
				return err
			}
			more, err := sc.next(']')
			if err != nil || !more {
				return err
			}
		}
	case '"':
		s, err := sc.str()
		if err != nil {
			return err
		}
		return p.scalar(f, path, kindString, s)
	case 't':
		if err := sc.literal("true"); err != nil {
			return err
		}
		return p.scalar(f, path, kindBool, "true")
	case 'f':
		if err := sc.literal("false"); err != nil {
			return err
		}
		return p.scalar(f, path, kindBool, "false")
	case 'n':
		if err := sc.literal("null"); err != nil {
			return err
		}
		if f.NullValue == "" || f.Type == Object {
			return nil
		}
		return p.nullValue(f, path)
	case 0:
		return sc.errorf("unexpected end of input")
	}
	lit, err := sc.number()
	if err != nil {
		return err
	}
	return p.scalar(f, path, kindNumber, lit)
}

// nullValue indexes f's null_value in place of a JSON null.
func (p *docParser) nullValue(f *Field, path string) error {
	k, v, ok := literalKind(f.NullValue)
	if !ok {
		return invalidf(path, "null_value %s is not a JSON scalar", f.NullValue)
	}
	return p.scalar(f, path, k, v)
}

// literalKind returns the kind and value of a scalar JSON literal.
func literalKind(lit string) (kind, string, bool) {
	sc := scanner{s: lit}
	var k kind
	var v string
	var err error
	switch sc.peek() {
	case '"':
		k = kindString
		v, err = sc.str()
	case 't':
		k, v, err = kindBool, "true", sc.literal("true")
	case 'f':
		k, v, err = kindBool, "false", sc.literal("false")
	case 0, 'n', '{', '[':
		return kindNone, "", false
	default:
		k = kindNumber
		v, err = sc.number()
	}
	if sc.ws(); err != nil || sc.i != len(lit) {
		return kindNone, "", false
	}
	return k, v, true
}

// kind is a JSON scalar's kind.
type kind uint8

const (
	kindNone kind = iota
	kindString
	kindNumber
	kindBool
	kindObject
)

// scalar indexes one scalar value into f and its multi-fields.
func (p *docParser) scalar(f *Field, path string, k kind, v string) error {
	if f.Type == Object {
		return fmt.Errorf("%w: object field [%s] cannot take the value [%s]", ErrType, path, clip(v))
	}
	if err := p.leaf(f, path, k, v); err != nil {
		return err
	}
	for _, target := range f.CopyTo {
		tf, ok := p.m.Lookup(target)
		if !ok && p.added != nil {
			tf, ok = p.added[target]
		}
		if !ok || tf.Type == Object {
			return fmt.Errorf("%w: field [%s]: copy_to target [%s] is not a mapped leaf field", ErrType, path, target)
		}
		if err := p.leaf(tf, target, k, v); err != nil {
			return err
		}
	}
	return nil
}

// leaf indexes one scalar value into the leaf field f and its multi-fields.
func (p *docParser) leaf(f *Field, path string, k kind, v string) error {
	if err := p.convert(f, path, k, v); err != nil {
		return err
	}
	for _, name := range f.subNames() {
		sub := f.Fields[name]
		subPath := sub.path
		if subPath == "" {
			subPath = path + "." + name
		}
		if err := p.convert(sub, subPath, k, v); err != nil {
			return err
		}
	}
	return nil
}

func clip(v string) string {
	if len(v) <= 64 {
		return v
	}
	cut := 64
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return v[:cut] + "..."
}

func typeError(path string, t Type, v, problem string) error {
	return fmt.Errorf("%w: field [%s] of type [%s]: value [%s] %s", ErrType, path, t, clip(v), problem)
}

// convert appends the FieldValue of v for the leaf field f.
func (p *docParser) convert(f *Field, path string, k kind, v string) error {
	fv := FieldValue{Path: path, Type: f.Type, Indexed: f.Index, DocValues: f.DocValues}
	switch f.Type {
	case Text:
		if !f.Index {
			return nil // neither indexed nor in doc values: _source only
		}
		a, ok := p.reg.Lookup(f.IndexAnalyzer())
		if !ok {
			return invalidf(path, "analyzer [%s] is not defined", f.IndexAnalyzer())
		}
		start := len(p.toks)
		p.toks = a.Analyze(v, p.toks)
		toks := p.toks[start:len(p.toks):len(p.toks)]
		base, seen := 0, false
		if p.nextPos != nil {
			base, seen = p.nextPos[path]
		}
		if base != 0 {
			for i := range toks {
				toks[i].Position += base
			}
		}
		if len(toks) > 0 || seen {
			next := base
			if len(toks) > 0 {
				next = toks[len(toks)-1].Position + 1 + PositionIncrementGap
				for _, t := range toks {
					next = max(next, t.Position+1+PositionIncrementGap)
				}
			}
			if p.nextPos == nil {
				p.nextPos = make(map[string]int)
			}
			p.nextPos[path] = next
		}
		fv.Tokens = toks
		sstart := len(p.surf)
		p.surf = analysis.SurfaceForms(v, p.surf)
		fv.Surface = p.surf[sstart:len(p.surf):len(p.surf)]
	case Keyword:
		if f.IgnoreAbove > 0 && len(v) > f.IgnoreAbove && utf8.RuneCountInString(v) > f.IgnoreAbove {
			return nil // ignore_above: kept in _source only
		}
		if f.Normalizer != "" {
			n, ok := p.reg.Normalizer(f.Normalizer)
			if !ok {
				return invalidf(path, "normalizer [%s] is not defined", f.Normalizer)
			}
			v = n.Normalize(v)
		}
		fv.Keyword = v
		p.toks = append(p.toks, analysis.Token{Term: v, End: len(v)})
		fv.Tokens = p.toks[len(p.toks)-1 : len(p.toks) : len(p.toks)]
	case Long, Integer, Short, Byte:
		if k == kindBool {
			return typeError(path, f.Type, v, "is not a number")
		}
		n, problem := parseInteger(v, f.Type)
		if problem != "" {
			return typeError(path, f.Type, v, problem)
		}
		fv.Int = n
	case Double, Float:
		if k == kindBool {
			return typeError(path, f.Type, v, "is not a number")
		}
		x, problem := parseFloat(v, f.Type)
		if problem != "" {
			return typeError(path, f.Type, v, problem)
		}
		fv.Float = x
	case Date:
		df, err := f.dateFormats()
		if err != nil {
			return invalidf(path, "%v", err)
		}
		var ms int64
		switch k {
		case kindNumber:
			ms, err = df.parseNumber(v)
		case kindString:
			ms, err = df.parse(v)
		default:
			err = fmt.Errorf("a boolean is not a date")
		}
		if err != nil {
			return fmt.Errorf("%w: field [%s] of type [date]: %v", ErrType, path, err)
		}
		fv.Int = ms
	case Boolean:
		switch {
		case k == kindNumber:
			return typeError(path, f.Type, v, "is not a boolean")
		case v == "true":
			fv.Int = 1
		case v == "false" || v == "":
		default:
			return typeError(path, f.Type, v, "is not a boolean (want true or false)")
		}
	default:
		return invalidf(path, "unknown type [%s]", f.Type)
	}
	p.doc.Fields = append(p.doc.Fields, fv)
	return nil
}

// plainNumber reports whether v has only the characters of a decimal
// number (ParseFloat also takes "Inf", "NaN", hex and underscores).
func plainNumber(v string) bool {
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E') {
			return false
		}
	}
	return true
}

// parseInteger parses an integral value in t's range, or says what is
// wrong with it.
func parseInteger(v string, t Type) (int64, string) {
	if !plainNumber(v) {
		return 0, "is not a number"
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(v, 64)
		switch {
		case ferr != nil && !isRange(ferr):
			return 0, "is not a number"
		case math.IsInf(f, 0) || f < -9.223372036854775808e18 || f >= 9.223372036854775808e18:
			return 0, "is out of range for type [" + string(t) + "]"
		case f != math.Trunc(f):
			return 0, "is not an integer"
		}
		n = int64(f)
	}
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	switch t {
	case Integer:
		lo, hi = math.MinInt32, math.MaxInt32
	case Short:
		lo, hi = math.MinInt16, math.MaxInt16
	case Byte:
		lo, hi = math.MinInt8, math.MaxInt8
	}
	if n < lo || n > hi {
		return 0, "is out of range for type [" + string(t) + "]"
	}
	return n, ""
}

func isRange(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// parseFloat parses a finite number in t's range (float: float32, whose
// precision it keeps).
func parseFloat(v string, t Type) (float64, string) {
	if !plainNumber(v) {
		return 0, "is not a number"
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		if isRange(err) {
			return 0, "is out of range for type [" + string(t) + "]"
		}
		return 0, "is not a number"
	}
	if t == Float {
		if math.Abs(f) > math.MaxFloat32 {
			return 0, "is out of range for type [float]"
		}
		f = float64(float32(f))
	}
	return f, ""
}
