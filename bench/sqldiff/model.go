package main

// kind is the type class of a column, as the generators see it: which
// constants, operators and aggregates fit it.
type kind uint8

const (
	kInt kind = iota
	kNumeric
	kFloat
	kText
	kBool
	kDate
	kTimestamp   // TIMESTAMP (without time zone)
	kTimestampTZ // TIMESTAMPTZ
	kJSON
	kBytes
)

// column is one column of the model.
type column struct {
	name     string
	kind     kind
	nullable bool
	serial   bool // SERIAL/BIGSERIAL primary key: the load leaves it to the default
}

// fkey is a foreign key of a table: column -> ref table's id.
type fkey struct {
	column string
	ref    string
}

// table is one table of the model; tables are listed parents first.
type table struct {
	name    string
	columns []column
	fkeys   []fkey
}

// col returns the named column, or false.
func (t *table) col(name string) (column, bool) {
	for _, c := range t.columns {
		if c.name == name {
			return c, true
		}
	}
	return column{}, false
}

// model is schema.sql seen by the generators (TestModelMatchesSchema checks
// that every table and column here is in schema.sql).
var model = []*table{
	{name: "users", columns: []column{
		{name: "id", kind: kInt, serial: true},
		{name: "email", kind: kText},
		{name: "name", kind: kText},
		{name: "age", kind: kInt, nullable: true},
		{name: "active", kind: kBool},
		{name: "score", kind: kFloat, nullable: true},
		{name: "avatar", kind: kBytes, nullable: true},
		{name: "profile", kind: kJSON, nullable: true},
		{name: "created_at", kind: kTimestampTZ},
	}},
	{name: "addresses", columns: []column{
		{name: "id", kind: kInt, serial: true},
		{name: "user_id", kind: kInt},
		{name: "city", kind: kText},
		{name: "zip", kind: kText, nullable: true},
		{name: "country", kind: kText},
		{name: "is_primary", kind: kBool},
	}, fkeys: []fkey{{"user_id", "users"}}},
	{name: "categories", columns: []column{
		{name: "id", kind: kInt, serial: true},
		{name: "name", kind: kText},
		{name: "parent_id", kind: kInt, nullable: true},
	}, fkeys: []fkey{{"parent_id", "categories"}}},
	{name: "products", columns: []column{
		{name: "id", kind: kInt, serial: true},
		{name: "sku", kind: kText},
		{name: "name", kind: kText},
		{name: "category_id", kind: kInt, nullable: true},
		{name: "price", kind: kNumeric},
		{name: "stock", kind: kInt},
		{name: "weight", kind: kFloat, nullable: true},
		{name: "released", kind: kDate, nullable: true},
		{name: "attrs", kind: kJSON, nullable: true},
	}, fkeys: []fkey{{"category_id", "categories"}}},
	{name: "orders", columns: []column{
		{name: "id", kind: kInt, serial: true},
		{name: "user_id", kind: kInt},
		{name: "status", kind: kText},
		{name: "total", kind: kNumeric, nullable: true},
		{name: "note", kind: kText, nullable: true},
		{name: "created_at", kind: kTimestampTZ},
		{name: "shipped_at", kind: kTimestamp, nullable: true},
	}, fkeys: []fkey{{"user_id", "users"}}},
	{name: "order_items", columns: []column{
		{name: "id", kind: kInt, serial: true},
		{name: "order_id", kind: kInt},
		{name: "product_id", kind: kInt},
		{name: "quantity", kind: kInt},
		{name: "unit_price", kind: kNumeric},
		{name: "discount", kind: kNumeric, nullable: true},
	}, fkeys: []fkey{{"order_id", "orders"}, {"product_id", "products"}}},
}

// tableByName returns the model's table, or nil.
func tableByName(name string) *table {
	for _, t := range model {
		if t.name == name {
			return t
		}
	}
	return nil
}
