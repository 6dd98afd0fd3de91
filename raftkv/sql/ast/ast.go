// Package ast is the tree of a SQL statement as cairn's parser produces it
// and its engine consumes it: statements (DDL, DML, queries, transaction
// control, session settings) and expressions. Names are folded as PostgreSQL
// folds them (unquoted identifiers to lower case) by the parser, so the
// engine compares names with ==. Pos fields are 1-based character offsets in
// the query string (0 when unknown), for error positions.
package ast

// Node is any tree node.
type Node interface{ node() }

// Statement is a top-level SQL statement.
type Statement interface {
	Node
	statement()
}

// Expr is a scalar expression.
type Expr interface {
	Node
	expr()
}

// TableExpr is an item of a FROM clause.
type TableExpr interface {
	Node
	tableExpr()
}

// ---- expressions ----

// Literal kinds.
type LiteralKind uint8

const (
	LitNull    LiteralKind = iota
	LitBool                // Bool
	LitInteger             // Text holds the digits (may overflow int64: then numeric)
	LitNumeric             // Text holds the decimal text as written (1.5, 1e3)
	LitString              // Text holds the unescaped string ('…', E'…', $$…$$)
	LitBytes               // Text holds the bytes of a '\x…' bytea literal only when cast; plain strings stay LitString
)

// Literal is a constant as written.
type Literal struct {
	Kind LiteralKind
	Text string
	Bool bool
	Pos  int
}

// Param is a positional parameter $N (N ≥ 1).
type Param struct {
	N   int
	Pos int
}

// ColumnRef is [table.]column, or [table.]* when Star is set (only in select lists and count(*)).
type ColumnRef struct {
	Table  string // "" when unqualified
	Column string // "" when Star
	Star   bool
	Pos    int
}

// BinaryExpr is Left Op Right. Op is one of:
// + - * / % ^ || = <> < <= > >= AND OR LIKE ILIKE NOT LIKE NOT ILIKE
// -> ->> (jsonb), IS DISTINCT FROM, IS NOT DISTINCT FROM. (!= is folded to <>.)
type BinaryExpr struct {
	Op          string
	Left, Right Expr
	Pos         int
}

// UnaryExpr is Op Operand: "-", "+" or "NOT".
type UnaryExpr struct {
	Op      string
	Operand Expr
	Pos     int
}

// IsNullExpr is Expr IS [NOT] NULL (also ISNULL/NOTNULL).
type IsNullExpr struct {
	Expr Expr
	Not  bool
	Pos  int
}

// IsBoolExpr is Expr IS [NOT] TRUE|FALSE.
type IsBoolExpr struct {
	Expr  Expr
	Not   bool
	Value bool
	Pos   int
}

// BetweenExpr is Expr [NOT] BETWEEN Low AND High.
type BetweenExpr struct {
	Expr, Low, High Expr
	Not             bool
	Pos             int
}

// InExpr is Expr [NOT] IN (List…) or Expr [NOT] IN (Subquery).
type InExpr struct {
	Expr     Expr
	List     []Expr // nil when Subquery is set
	Subquery *Select
	Not      bool
	Pos      int
}

// ExistsExpr is [NOT] EXISTS (Subquery).
type ExistsExpr struct {
	Subquery *Select
	Not      bool
	Pos      int
}

// SubqueryExpr is a scalar subquery (SELECT …) used as a value.
type SubqueryExpr struct {
	Subquery *Select
	Pos      int
}

// CompareSubquery is Left Op ANY|ALL (Subquery) (Op is a comparison operator).
type CompareSubquery struct {
	Op       string
	All      bool // ALL; false = ANY/SOME
	Left     Expr
	Subquery *Select
	Pos      int
}

// FuncCall is Name(Args) with optional DISTINCT, *, FILTER and OVER (OVER is
// not supported by the engine; the parser reports it as FeatureNotSupported).
type FuncCall struct {
	Name     string // lower case; schema-qualified names keep their dots (pg_catalog.now)
	Args     []Expr
	Star     bool // count(*)
	Distinct bool
	Filter   Expr // FILTER (WHERE …); nil when absent
	Pos      int
}

// CaseExpr is CASE [Operand] WHEN … THEN … [ELSE …] END.
type CaseExpr struct {
	Operand Expr // nil for the searched form
	Whens   []When
	Else    Expr // nil when absent
	Pos     int
}

// When is one WHEN Cond THEN Result arm.
type When struct {
	Cond, Result Expr
}

// CastExpr is CAST(Expr AS Type) or Expr::Type (also typed literals: DATE '2024-01-01').
type CastExpr struct {
	Expr Expr
	Type TypeName
	Pos  int
}

// TypeName is a type as written: Name lower case with multi-word names joined by
// one space ("double precision", "character varying", "timestamp with time zone"),
// Mods the modifiers (varchar(20) → [20], numeric(10,2) → [10 2]), Array for [].
type TypeName struct {
	Name  string
	Mods  []int
	Array bool
	Pos   int
}

// RowExpr is (a, b, …) used as a value (row comparison, IN lists of rows).
type RowExpr struct {
	Exprs []Expr
	Pos   int
}

// ArrayExpr is ARRAY[…] (parsed; the engine may answer FeatureNotSupported).
type ArrayExpr struct {
	Elems []Expr
	Pos   int
}

// Default is the DEFAULT keyword in an INSERT values list or UPDATE SET.
type Default struct{ Pos int }

// ---- queries ----

// Select is a query: a simple SELECT, a set operation, or VALUES, with the
// clauses that apply to the whole (WITH, ORDER BY, LIMIT, OFFSET, FOR UPDATE).
type Select struct {
	With      *With
	Body      SelectBody
	OrderBy   []OrderItem
	Limit     Expr // nil when absent (LIMIT ALL = nil)
	Offset    Expr
	ForUpdate *Locking // nil when absent
	Pos       int
}

// SelectBody is a SelectCore, a SetOp or a Values list.
type SelectBody interface {
	Node
	selectBody()
}

// SelectCore is SELECT [DISTINCT [ON (…)]] items FROM … WHERE … GROUP BY … HAVING ….
type SelectCore struct {
	Distinct   bool
	DistinctOn []Expr
	Items      []SelectItem
	From       []TableExpr // comma-separated items (a cross join of them)
	Where      Expr
	GroupBy    []Expr
	Having     Expr
	Pos        int
}

// SetOp is Left UNION|INTERSECT|EXCEPT [ALL] Right. Operands are nested
// *Select when parenthesised with their own ORDER BY/LIMIT, else bodies.
type SetOp struct {
	Op          string // "UNION", "INTERSECT", "EXCEPT"
	All         bool
	Left, Right SelectBody
	Pos         int
}

// ParenSelect is a parenthesised query used as a set-operation operand.
type ParenSelect struct {
	Select *Select
}

// Values is VALUES (…), (…) as a query body.
type Values struct {
	Rows [][]Expr
	Pos  int
}

// SelectItem is Expr [AS Alias]; a ColumnRef with Star for * and t.*.
type SelectItem struct {
	Expr  Expr
	Alias string // "" when none
}

// OrderItem is Expr [ASC|DESC] [NULLS FIRST|LAST].
type OrderItem struct {
	Expr       Expr
	Desc       bool
	NullsFirst *bool // nil = default (PostgreSQL: NULLS LAST for ASC, FIRST for DESC)
}

// Locking is FOR UPDATE | FOR SHARE [OF tables] [NOWAIT|SKIP LOCKED].
type Locking struct {
	Strength   string // "UPDATE", "NO KEY UPDATE", "SHARE", "KEY SHARE"
	Of         []string
	NoWait     bool
	SkipLocked bool
}

// With is WITH [RECURSIVE] name [(cols)] AS (query), ….
type With struct {
	Recursive bool
	CTEs      []CTE
}

// CTE is one common table expression.
type CTE struct {
	Name    string
	Columns []string
	Query   *Select
	Pos     int
}

// TableName is a (possibly schema-qualified) table in FROM with an optional alias.
type TableName struct {
	Schema  string // "" or "public"/"pg_catalog"/"information_schema"
	Name    string
	Alias   string
	Columns []string // column aliases: t AS x(a, b)
	Pos     int
}

// SubqueryTable is (SELECT …) AS alias [(cols)] in FROM.
type SubqueryTable struct {
	Subquery *Select
	Alias    string
	Columns  []string
	Pos      int
}

// FuncTable is a set-returning function in FROM (generate_series(1, 10) AS g).
type FuncTable struct {
	Func    *FuncCall
	Alias   string
	Columns []string
	Pos     int
}

// Join is Left [INNER|LEFT|RIGHT|FULL|CROSS] JOIN Right [ON Cond | USING (cols)] or NATURAL JOIN.
type Join struct {
	Kind    string // "INNER", "LEFT", "RIGHT", "FULL", "CROSS"
	Natural bool
	Left    TableExpr
	Right   TableExpr
	On      Expr
	Using   []string
	Pos     int
}

// ParenTable is a parenthesised FROM item ((a JOIN b) AS x is not supported).
type ParenTable struct {
	Table TableExpr
}

// ---- DML ----

// Insert is [WITH …] INSERT INTO t [AS alias] [(cols)] {VALUES … | query | DEFAULT VALUES} [ON CONFLICT …] [RETURNING …].
type Insert struct {
	With          *With
	Table         TableName
	Columns       []string
	Rows          *Select // a Values body or any query; nil with DefaultValues
	DefaultValues bool
	OnConflict    *OnConflict
	Returning     []SelectItem
	Pos           int
}

// OnConflict is ON CONFLICT [(cols) | ON CONSTRAINT name] DO NOTHING | DO UPDATE SET … [WHERE …].
type OnConflict struct {
	Columns    []string
	Constraint string
	DoNothing  bool
	Set        []SetClause
	Where      Expr
}

// SetClause is col = expr, or (a, b) = (…) when Columns has several names.
type SetClause struct {
	Columns []string
	Value   Expr // a RowExpr or a SubqueryExpr when several columns
}

// Update is [WITH …] UPDATE t [AS alias] SET … [FROM …] [WHERE …] [RETURNING …].
type Update struct {
	With      *With
	Table     TableName
	Set       []SetClause
	From      []TableExpr
	Where     Expr
	Returning []SelectItem
	Pos       int
}

// Delete is [WITH …] DELETE FROM t [AS alias] [USING …] [WHERE …] [RETURNING …].
type Delete struct {
	With      *With
	Table     TableName
	Using     []TableExpr
	Where     Expr
	Returning []SelectItem
	Pos       int
}

// Copy is COPY t [(cols)] FROM STDIN [[WITH] (FORMAT text|csv|binary, HEADER, DELIMITER 'c', NULL 's')]
// (COPY … TO STDOUT is parsed with To set).
type Copy struct {
	Table     TableName
	Columns   []string
	To        bool
	Format    string // "text", "csv", "binary"
	Header    bool
	Delimiter string // "" = the format's default
	NullStr   *string
	Pos       int
}

// ---- DDL ----

// CreateTable is CREATE TABLE [IF NOT EXISTS] name (columns and table constraints).
type CreateTable struct {
	Name        TableName
	IfNotExists bool
	Columns     []ColumnDef
	Constraints []Constraint
	Pos         int
}

// ColumnDef is one column definition with its inline constraints.
type ColumnDef struct {
	Name        string
	Type        TypeName
	Constraints []Constraint // NOT NULL, NULL, DEFAULT, PRIMARY KEY, UNIQUE, CHECK, REFERENCES, GENERATED … AS IDENTITY
	Pos         int
}

// ConstraintKind names a constraint.
type ConstraintKind uint8

const (
	ConstrNotNull ConstraintKind = iota
	ConstrNull
	ConstrDefault
	ConstrPrimaryKey
	ConstrUnique
	ConstrCheck
	ConstrForeignKey
	ConstrIdentity // GENERATED {ALWAYS|BY DEFAULT} AS IDENTITY
)

// Constraint is a column or table constraint. Columns is empty for column
// constraints (the column is implied); for table constraints it lists the columns.
type Constraint struct {
	Kind       ConstraintKind
	Name       string // CONSTRAINT name; "" when unnamed
	Columns    []string
	Expr       Expr // CHECK expression or DEFAULT value
	RefTable   TableName
	RefColumns []string // empty = the referenced table's primary key
	OnDelete   string   // "", "NO ACTION", "RESTRICT", "CASCADE", "SET NULL", "SET DEFAULT"
	OnUpdate   string
	Always     bool // identity: GENERATED ALWAYS
	Pos        int
}

// DropTable is DROP TABLE [IF EXISTS] names [CASCADE|RESTRICT].
type DropTable struct {
	Names    []TableName
	IfExists bool
	Cascade  bool
	Pos      int
}

// AlterTable is ALTER TABLE [IF EXISTS] name action, ….
type AlterTable struct {
	Name     TableName
	IfExists bool
	Actions  []AlterAction
	Pos      int
}

// AlterAction is one action of ALTER TABLE.
type AlterAction struct {
	Kind        string      // "ADD COLUMN", "DROP COLUMN", "ADD CONSTRAINT", "DROP CONSTRAINT", "RENAME COLUMN", "RENAME TO", "ALTER COLUMN SET DEFAULT", "ALTER COLUMN DROP DEFAULT", "ALTER COLUMN SET NOT NULL", "ALTER COLUMN DROP NOT NULL"
	Column      *ColumnDef  // ADD COLUMN
	Constraint  *Constraint // ADD CONSTRAINT
	Name        string      // the column/constraint named by DROP/RENAME/ALTER COLUMN
	NewName     string      // RENAME
	Default     Expr        // SET DEFAULT
	IfExists    bool        // DROP COLUMN IF EXISTS / DROP CONSTRAINT IF EXISTS
	IfNotExists bool        // ADD COLUMN IF NOT EXISTS
	Cascade     bool
}

// CreateIndex is CREATE [UNIQUE] INDEX [IF NOT EXISTS] [name] ON table (cols) [WHERE …].
type CreateIndex struct {
	Name        string // "" = generated as PostgreSQL does (table_col_idx / table_col_key)
	Table       TableName
	Unique      bool
	IfNotExists bool
	Columns     []IndexColumn
	Where       Expr // partial index (the engine may answer FeatureNotSupported)
	Pos         int
}

// IndexColumn is one indexed column (expressions are not supported).
type IndexColumn struct {
	Column string
	Desc   bool
}

// DropIndex is DROP INDEX [IF EXISTS] names [CASCADE].
type DropIndex struct {
	Names    []string
	IfExists bool
	Cascade  bool
	Pos      int
}

// Truncate is TRUNCATE [TABLE] names [RESTART IDENTITY] [CASCADE].
type Truncate struct {
	Names           []TableName
	RestartIdentity bool
	Cascade         bool
	Pos             int
}

// CreateRole is CREATE ROLE|USER name [[WITH] LOGIN|NOLOGIN|SUPERUSER|PASSWORD '…'|PASSWORD NULL …].
type CreateRole struct {
	Name        string
	User        bool // spelled CREATE USER (LOGIN by default)
	IfNotExists bool
	Options     RoleOptions
	Pos         int
}

// RoleOptions are the options of CREATE/ALTER ROLE; nil pointers were not given.
type RoleOptions struct {
	Login        *bool
	Superuser    *bool
	Password     *string // set to "" ... use PasswordNull for PASSWORD NULL
	PasswordNull bool
}

// AlterRole is ALTER ROLE|USER name [WITH] options.
type AlterRole struct {
	Name    string
	Options RoleOptions
	Pos     int
}

// DropRole is DROP ROLE|USER [IF EXISTS] names.
type DropRole struct {
	Names    []string
	IfExists bool
	Pos      int
}

// ---- transactions and session ----

// Begin is BEGIN | START TRANSACTION [ISOLATION LEVEL …] [READ ONLY|READ WRITE].
type Begin struct {
	Isolation string // "", "SERIALIZABLE", "REPEATABLE READ", "READ COMMITTED", "READ UNCOMMITTED"
	ReadOnly  *bool
	Start     bool // spelled START TRANSACTION (its command tag says so)
	Pos       int
}

// Commit is COMMIT | END [TRANSACTION|WORK].
type Commit struct{ Pos int }

// Rollback is ROLLBACK | ABORT [TRANSACTION|WORK], or ROLLBACK TO SAVEPOINT name when Savepoint is set.
type Rollback struct {
	Savepoint string
	Pos       int
}

// Savepoint is SAVEPOINT name or RELEASE [SAVEPOINT] name.
type Savepoint struct {
	Name    string
	Release bool
	Pos     int
}

// SetTransaction is SET TRANSACTION ISOLATION LEVEL … / SET SESSION CHARACTERISTICS AS TRANSACTION ….
type SetTransaction struct {
	Isolation string
	ReadOnly  *bool
	Session   bool
	Pos       int
}

// Set is SET [SESSION|LOCAL] name {TO|=} value[, …] | SET TIME ZONE value; RESET name; RESET ALL (Name "all", Reset).
type Set struct {
	Name    string // lower case; "timezone" for SET TIME ZONE
	Values  []Expr // literals or identifiers (as ColumnRef) as written; DEFAULT → nil Values with Default set
	Local   bool
	Reset   bool
	Default bool
	Pos     int
}

// Show is SHOW name | SHOW ALL | SHOW TRANSACTION ISOLATION LEVEL ("transaction_isolation").
type Show struct {
	Name string
	Pos  int
}

// Explain is EXPLAIN [ANALYZE] [VERBOSE] statement.
type Explain struct {
	Analyze   bool
	Verbose   bool
	Statement Statement
	Pos       int
}

// Unsupported is a statement the parser recognised by its leading keywords
// but cairn does not support (GRANT, CREATE VIEW, VACUUM, LISTEN, …); the
// engine answers FeatureNotSupported (0A000) naming Name ("CREATE VIEW").
type Unsupported struct {
	Name string
	Pos  int
}

// ---- interface assertions ----

func (*Literal) node()         {}
func (*Param) node()           {}
func (*ColumnRef) node()       {}
func (*BinaryExpr) node()      {}
func (*UnaryExpr) node()       {}
func (*IsNullExpr) node()      {}
func (*IsBoolExpr) node()      {}
func (*BetweenExpr) node()     {}
func (*InExpr) node()          {}
func (*ExistsExpr) node()      {}
func (*SubqueryExpr) node()    {}
func (*CompareSubquery) node() {}
func (*FuncCall) node()        {}
func (*CaseExpr) node()        {}
func (*CastExpr) node()        {}
func (*RowExpr) node()         {}
func (*ArrayExpr) node()       {}
func (*Default) node()         {}
func (*Select) node()          {}
func (*SelectCore) node()      {}
func (*SetOp) node()           {}
func (*ParenSelect) node()     {}
func (*Values) node()          {}
func (*TableName) node()       {}
func (*SubqueryTable) node()   {}
func (*FuncTable) node()       {}
func (*Join) node()            {}
func (*ParenTable) node()      {}
func (*Insert) node()          {}
func (*Update) node()          {}
func (*Delete) node()          {}
func (*Copy) node()            {}
func (*CreateTable) node()     {}
func (*DropTable) node()       {}
func (*AlterTable) node()      {}
func (*CreateIndex) node()     {}
func (*DropIndex) node()       {}
func (*Truncate) node()        {}
func (*CreateRole) node()      {}
func (*AlterRole) node()       {}
func (*DropRole) node()        {}
func (*Begin) node()           {}
func (*Commit) node()          {}
func (*Rollback) node()        {}
func (*Savepoint) node()       {}
func (*SetTransaction) node()  {}
func (*Set) node()             {}
func (*Show) node()            {}
func (*Explain) node()         {}
func (*Unsupported) node()     {}

func (*Literal) expr()         {}
func (*Param) expr()           {}
func (*ColumnRef) expr()       {}
func (*BinaryExpr) expr()      {}
func (*UnaryExpr) expr()       {}
func (*IsNullExpr) expr()      {}
func (*IsBoolExpr) expr()      {}
func (*BetweenExpr) expr()     {}
func (*InExpr) expr()          {}
func (*ExistsExpr) expr()      {}
func (*SubqueryExpr) expr()    {}
func (*CompareSubquery) expr() {}
func (*FuncCall) expr()        {}
func (*CaseExpr) expr()        {}
func (*CastExpr) expr()        {}
func (*RowExpr) expr()         {}
func (*ArrayExpr) expr()       {}
func (*Default) expr()         {}

func (*SelectCore) selectBody()  {}
func (*SetOp) selectBody()       {}
func (*ParenSelect) selectBody() {}
func (*Values) selectBody()      {}

func (*TableName) tableExpr()     {}
func (*SubqueryTable) tableExpr() {}
func (*FuncTable) tableExpr()     {}
func (*Join) tableExpr()          {}
func (*ParenTable) tableExpr()    {}

func (*Select) statement()         {}
func (*Insert) statement()         {}
func (*Update) statement()         {}
func (*Delete) statement()         {}
func (*Copy) statement()           {}
func (*CreateTable) statement()    {}
func (*DropTable) statement()      {}
func (*AlterTable) statement()     {}
func (*CreateIndex) statement()    {}
func (*DropIndex) statement()      {}
func (*Truncate) statement()       {}
func (*CreateRole) statement()     {}
func (*AlterRole) statement()      {}
func (*DropRole) statement()       {}
func (*Begin) statement()          {}
func (*Commit) statement()         {}
func (*Rollback) statement()       {}
func (*Savepoint) statement()      {}
func (*SetTransaction) statement() {}
func (*Set) statement()            {}
func (*Show) statement()           {}
func (*Explain) statement()        {}
func (*Unsupported) statement()    {}
