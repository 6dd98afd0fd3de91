package parser

import "cairn.dev/cairn/raftkv/sql/ast"

// parseTypeName parses a type as written: multi-word names, modifiers and [].
func (p *parser) parseTypeName() ast.TypeName {
	t := p.peek()
	typ := ast.TypeName{Pos: t.pos}
	name := p.label()
	special := name
	if t.kind == tQIdent {
		special = "" // "double" is a name, not the start of double precision
	}
	switch special {
	case "double":
		p.expectKw("precision")
		name = "double precision"
	case "character", "char", "nchar", "national":
		if name == "national" {
			p.expectKw("character")
			name = "character"
		}
		if p.acceptKw("varying") {
			name = "character varying"
		}
	case "timestamp", "time":
		if p.isPunct("(") {
			typ.Mods = p.parseTypeMods()
		}
		if p.acceptKw("with", "time", "zone") {
			name += " with time zone"
		} else if p.acceptKw("without", "time", "zone") {
			name += " without time zone"
		}
	case "interval":
		if p.isPunct("(") {
			typ.Mods = p.parseTypeMods()
		}
	default:
		if p.isPunct(".") {
			p.p++
			second := p.label()
			if name == "pg_catalog" {
				name = second
			} else {
				name = name + "." + second
			}
		}
	}
	typ.Name = name
	if typ.Mods == nil && p.isPunct("(") {
		typ.Mods = p.parseTypeMods()
	}
	for {
		if p.isPunct("[") {
			p.p++
			if p.peek().kind == tInt {
				p.p++
			}
			p.expectPunct("]")
			typ.Array = true
			continue
		}
		if p.isKw("array") {
			p.p++
			typ.Array = true
			continue
		}
		return typ
	}
}

// parseTypeMods parses ( n [, n …] ).
func (p *parser) parseTypeMods() []int {
	p.expectPunct("(")
	var mods []int
	for {
		mods = append(mods, p.intValue())
		if !p.acceptPunct(",") {
			break
		}
	}
	p.expectPunct(")")
	return mods
}
