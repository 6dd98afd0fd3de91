package parser

import "cairn.dev/cairn/raftkv/sql/ast"

// reserved are the keywords that cannot be used, unquoted, as a column,
// table or alias name (ast.ReservedWords, which Format quotes).
var reserved = setOf(ast.ReservedWords...)

// funcNameKeywords are reserved keywords that may still name a function
// when followed by '(' (left(s, 2), right(s, 2)).
var funcNameKeywords = setOf(
	"authorization", "binary", "collation", "concurrently", "cross",
	"current_schema", "freeze", "full", "ilike", "inner", "is", "isnull", "join",
	"left", "like", "natural", "notnull", "outer", "overlaps", "right", "similar",
	"tablesample", "verbose",
)

// noBareAlias are words that end an expression, so they are never taken as
// an alias written without AS even though PostgreSQL does not reserve them.
var noBareAlias = setOf(
	"between", "escape", "filter", "over", "within", "at", "set", "nulls",
	"collate", "returning", "ignore", "respect",
)

// specialFuncs are the keyword forms that PostgreSQL turns into function
// calls without parentheses; the parser returns FuncCall{Name: kw}.
var specialFuncs = setOf(
	"current_timestamp", "current_date", "current_time", "current_user",
	"session_user", "localtimestamp", "localtime", "current_role",
	"current_catalog", "current_schema", "user",
)

// typeWords start a type name that may prefix a string constant (DATE '…').
var typeWords = setOf(
	"date", "timestamp", "timestamptz", "time", "timetz", "interval", "int",
	"integer", "int2", "int4", "int8", "bigint", "smallint", "numeric", "decimal",
	"dec", "text", "varchar", "char", "character", "boolean", "bool", "bytea",
	"jsonb", "json", "double", "real", "float", "float4", "float8", "uuid",
	"bpchar", "name", "oid", "regclass", "inet",
)

func setOf(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}
