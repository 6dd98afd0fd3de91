package ast

import (
	"strconv"
	"strings"
)

// Format returns SQL text for n that cairn's parser reads back to an equal
// tree (positions aside): statements through parser.Parse, expressions
// through parser.ParseExpr. It is used to store DEFAULT and CHECK
// expressions in the catalog and to print plans. Identifiers are quoted
// only when they must be; casts are written CAST(x AS t); parentheses are
// added only where precedence needs them. *Unsupported prints its Name.
func Format(n Node) string {
	var f formatter
	f.node(n)
	return f.b.String()
}

type formatter struct{ b strings.Builder }

func (f *formatter) s(parts ...string) {
	for _, p := range parts {
		f.b.WriteString(p)
	}
}

// Binding powers, as the parser's (lowest first).
const (
	precOr    = 10
	precAnd   = 20
	precNot   = 30
	precIs    = 40
	precCmp   = 50
	precLike  = 60
	precOther = 70
	precAdd   = 80
	precMul   = 90
	precExp   = 100
	precUnary = 110
	precAtom  = 1000
)

func binaryPrec(op string) int {
	switch op {
	case "OR":
		return precOr
	case "AND":
		return precAnd
	case "IS DISTINCT FROM", "IS NOT DISTINCT FROM":
		return precIs
	case "=", "<>", "!=", "<", ">", "<=", ">=":
		return precCmp
	case "LIKE", "NOT LIKE", "ILIKE", "NOT ILIKE":
		return precLike
	case "+", "-":
		return precAdd
	case "*", "/", "%":
		return precMul
	case "^":
		return precExp
	}
	return precOther
}

// exprPrec is the binding power of e's outermost operator.
func exprPrec(e Expr) int {
	switch e := e.(type) {
	case *BinaryExpr:
		return binaryPrec(e.Op)
	case *UnaryExpr:
		if e.Op == "NOT" {
			return precNot
		}
		return precUnary
	case *IsNullExpr, *IsBoolExpr:
		return precIs
	case *BetweenExpr, *InExpr:
		return precLike
	case *CompareSubquery:
		return precCmp
	case *ExistsExpr:
		if e.Not {
			return precNot
		}
	case *Literal:
		if (e.Kind == LitInteger || e.Kind == LitNumeric) && strings.HasPrefix(e.Text, "-") {
			return precUnary
		}
	}
	return precAtom
}

// expr writes e, parenthesised when it binds less tightly than min.
func (f *formatter) expr(e Expr, min int) {
	if exprPrec(e) < min {
		f.s("(")
		f.node(e)
		f.s(")")
		return
	}
	f.node(e)
}

func (f *formatter) exprs(list []Expr) {
	for i, e := range list {
		if i > 0 {
			f.s(", ")
		}
		f.expr(e, 0)
	}
}

// ReservedWords are the keywords that cannot be used, unquoted, as a
// column, table or alias name: PostgreSQL's reserved keywords plus its
// type/function-name keywords (join words, LIKE, IS, …), which may only
// name functions. The parser refuses them as names; Format quotes them.
var ReservedWords = []string{
	// reserved
	"all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric",
	"both", "case", "cast", "check", "collate", "column", "constraint", "create",
	"current_catalog", "current_date", "current_role", "current_time",
	"current_timestamp", "current_user", "default", "deferrable", "desc",
	"distinct", "do", "else", "end", "except", "false", "fetch", "for", "foreign",
	"from", "grant", "group", "having", "in", "initially", "intersect", "into",
	"lateral", "leading", "limit", "localtime", "localtimestamp", "not", "null",
	"offset", "on", "only", "or", "order", "placing", "primary", "references",
	"returning", "select", "session_user", "some", "symmetric", "system_user",
	"table", "then", "to", "trailing", "true", "union", "unique", "user", "using",
	"variadic", "when", "where", "window", "with",
	// type and function names
	"authorization", "binary", "collation", "concurrently", "cross",
	"current_schema", "freeze", "full", "ilike", "inner", "is", "isnull", "join",
	"left", "like", "natural", "notnull", "outer", "overlaps", "right", "similar",
	"tablesample", "verbose",
}

// quoteWords must be quoted when used as identifiers: the reserved words and
// the words the parser reads as special forms.
var quoteWords = wordSet(append([]string{
	"row", "exists", "extract", "position", "substring", "trim", "overlay",
	"between", "escape", "filter", "over", "within", "at", "set", "nulls",
	"ignore", "respect",
}, ReservedWords...)...)

// funcKeywords are reserved words the parser still accepts as function names.
var funcKeywords = wordSet(
	"authorization", "binary", "collation", "concurrently", "cross",
	"current_schema", "freeze", "full", "ilike", "inner", "is", "isnull", "join",
	"left", "like", "natural", "notnull", "outer", "overlaps", "right", "similar",
	"tablesample", "verbose",
)

// bareFuncs are the keyword forms written without parentheses.
var bareFuncs = wordSet(
	"current_timestamp", "current_date", "current_time", "current_user",
	"session_user", "localtimestamp", "localtime", "current_role",
	"current_catalog", "current_schema", "user",
)

func wordSet(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// simpleIdent reports whether s reads back unchanged without quotes.
func simpleIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c == '_':
		case (c >= '0' && c <= '9') || c == '$':
			if i == 0 {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// Ident returns name as an SQL identifier, double-quoted when needed.
func Ident(name string) string {
	if simpleIdent(name) && !quoteWords[name] {
		return name
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// QuoteString returns s as a standard SQL string constant, each quote doubled.
func QuoteString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

func (f *formatter) ident(name string) { f.s(Ident(name)) }

func (f *formatter) idents(names []string) {
	for i, n := range names {
		if i > 0 {
			f.s(", ")
		}
		f.ident(n)
	}
}

func (f *formatter) node(n Node) {
	switch n := n.(type) {
	case nil:
	// expressions
	case *Literal:
		switch n.Kind {
		case LitNull:
			f.s("NULL")
		case LitBool:
			if n.Bool {
				f.s("TRUE")
			} else {
				f.s("FALSE")
			}
		case LitInteger, LitNumeric:
			f.s(n.Text)
		default:
			f.s(QuoteString(n.Text))
		}
	case *Param:
		f.s("$", strconv.Itoa(n.N))
	case *ColumnRef:
		if n.Table != "" {
			f.ident(n.Table)
			f.s(".")
		}
		if n.Star {
			f.s("*")
		} else {
			f.ident(n.Column)
		}
	case *BinaryExpr:
		p := binaryPrec(n.Op)
		f.expr(n.Left, p)
		f.s(" ", n.Op, " ")
		f.expr(n.Right, p+1)
	case *UnaryExpr:
		if n.Op == "NOT" {
			f.s("NOT ")
			f.expr(n.Operand, precNot)
			return
		}
		f.s(n.Op)
		f.expr(n.Operand, precUnary+1)
	case *IsNullExpr:
		f.expr(n.Expr, precIs)
		f.s(" IS ", not(n.Not), "NULL")
	case *IsBoolExpr:
		f.expr(n.Expr, precIs)
		f.s(" IS ", not(n.Not))
		if n.Value {
			f.s("TRUE")
		} else {
			f.s("FALSE")
		}
	case *BetweenExpr:
		f.expr(n.Expr, precLike)
		f.s(" ", not(n.Not), "BETWEEN ")
		f.expr(n.Low, precLike+1)
		f.s(" AND ")
		f.expr(n.High, precLike+1)
	case *InExpr:
		f.expr(n.Expr, precLike)
		f.s(" ", not(n.Not), "IN (")
		if n.Subquery != nil {
			f.node(n.Subquery)
		} else {
			f.exprs(n.List)
		}
		f.s(")")
	case *ExistsExpr:
		f.s(not(n.Not), "EXISTS (")
		f.node(n.Subquery)
		f.s(")")
	case *SubqueryExpr:
		f.s("(")
		f.node(n.Subquery)
		f.s(")")
	case *CompareSubquery:
		f.expr(n.Left, precCmp)
		f.s(" ", n.Op, " ")
		if n.All {
			f.s("ALL (")
		} else {
			f.s("ANY (")
		}
		f.node(n.Subquery)
		f.s(")")
	case *FuncCall:
		f.funcCall(n)
	case *CaseExpr:
		f.s("CASE")
		if n.Operand != nil {
			f.s(" ")
			f.expr(n.Operand, 0)
		}
		for _, w := range n.Whens {
			f.s(" WHEN ")
			f.expr(w.Cond, 0)
			f.s(" THEN ")
			f.expr(w.Result, 0)
		}
		if n.Else != nil {
			f.s(" ELSE ")
			f.expr(n.Else, 0)
		}
		f.s(" END")
	case *CastExpr:
		f.s("CAST(")
		f.expr(n.Expr, 0)
		f.s(" AS ")
		f.typeName(n.Type)
		f.s(")")
	case *RowExpr:
		if len(n.Exprs) < 2 {
			f.s("ROW(")
		} else {
			f.s("(")
		}
		f.exprs(n.Exprs)
		f.s(")")
	case *ArrayExpr:
		f.s("ARRAY[")
		f.exprs(n.Elems)
		f.s("]")
	case *Default:
		f.s("DEFAULT")
	// queries
	case *Select:
		f.selectStmt(n)
	case *SelectCore, *SetOp, *ParenSelect, *Values:
		f.selectBody(n.(SelectBody))
	case *TableName, *SubqueryTable, *FuncTable, *Join, *ParenTable:
		f.tableExpr(n.(TableExpr))
	default:
		f.statement(n)
	}
}

func not(b bool) string {
	if b {
		return "NOT "
	}
	return ""
}

// funcCall writes a call, using the keyword syntax for the special forms.
func (f *formatter) funcCall(n *FuncCall) {
	plain := len(n.Args) == 0 && !n.Star && !n.Distinct && n.Filter == nil
	switch {
	case bareFuncs[n.Name] && plain:
		f.s(n.Name)
		return
	case bareFuncs[n.Name] && len(n.Args) == 1 && !n.Star && !n.Distinct && n.Filter == nil:
		// current_timestamp(3): the precision form.
		if lit, ok := n.Args[0].(*Literal); ok && lit.Kind == LitInteger && !strings.HasPrefix(lit.Text, "-") {
			f.s(n.Name, "(", lit.Text, ")")
			return
		}
	case n.Name == "extract" && len(n.Args) == 2 && !n.Star && !n.Distinct && n.Filter == nil:
		if lit, ok := n.Args[0].(*Literal); ok && lit.Kind == LitString {
			f.s("extract(", QuoteString(lit.Text), " FROM ")
			f.expr(n.Args[1], 0)
			f.s(")")
			return
		}
	case n.Name == "position" && len(n.Args) == 2 && !n.Star && !n.Distinct && n.Filter == nil:
		f.s("position(")
		f.expr(n.Args[0], precLike+1)
		f.s(" IN ")
		f.expr(n.Args[1], precLike+1)
		f.s(")")
		return
	}
	for i, part := range strings.Split(n.Name, ".") {
		if i > 0 {
			f.s(".")
		}
		switch {
		case funcKeywords[part] || (part == "substring" && len(n.Args) > 0 && !n.Distinct && !n.Star && n.Filter == nil):
			f.s(part)
		case bareFuncs[part] && part != "current_schema":
			f.s(`"`, part, `"`)
		default:
			f.ident(part)
		}
	}
	f.s("(")
	switch {
	case n.Star:
		f.s("*")
	default:
		if n.Distinct {
			f.s("DISTINCT ")
		}
		f.exprs(n.Args)
	}
	f.s(")")
	if n.Filter != nil {
		f.s(" FILTER (WHERE ")
		f.expr(n.Filter, 0)
		f.s(")")
	}
}

// multiWordTypes are the type names the parser reads from several words.
var multiWordTypes = wordSet(
	"double precision", "character varying", "timestamp with time zone",
	"timestamp without time zone", "time with time zone", "time without time zone",
)

// typeName writes t with its modifiers and [].
func (f *formatter) typeName(t TypeName) {
	name, rest := t.Name, ""
	switch {
	case multiWordTypes[name]:
		if i := strings.IndexByte(name, ' '); strings.HasPrefix(name, "time") {
			name, rest = name[:i], name[i:] // timestamp(3) with time zone
		}
	case simpleIdent(name) && name != "double" && name != "national":
	default:
		// A quoted name as written ("MyType", "a.b"), read back as one name.
		name = `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
	}
	f.s(name)
	if len(t.Mods) > 0 {
		f.s("(")
		for i, m := range t.Mods {
			if i > 0 {
				f.s(", ")
			}
			f.s(strconv.Itoa(m))
		}
		f.s(")")
	}
	f.s(rest)
	if t.Array {
		f.s("[]")
	}
}
