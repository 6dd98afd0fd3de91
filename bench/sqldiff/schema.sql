-- The e-commerce schema bench/sqldiff creates on both targets (PostgreSQL
-- and cairn), in this order, one statement per `;`-terminated line group.
-- Only the SQL subset of the cairn SQL plan (types, constraints, indexes).
-- model.go describes the same tables to the data and query generators;
-- TestModelMatchesSchema keeps the two in step.

DROP TABLE IF EXISTS order_items;
DROP TABLE IF EXISTS orders;
DROP TABLE IF EXISTS products;
DROP TABLE IF EXISTS categories;
DROP TABLE IF EXISTS addresses;
DROP TABLE IF EXISTS users;

CREATE TABLE users (
    id SERIAL PRIMARY KEY,
    email VARCHAR(255) NOT NULL UNIQUE,
    name TEXT NOT NULL,
    age INTEGER,
    active BOOLEAN NOT NULL DEFAULT true,
    score DOUBLE PRECISION,
    avatar BYTEA,
    profile JSONB,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE addresses (
    id SERIAL PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    city TEXT NOT NULL,
    zip CHAR(5),
    country VARCHAR(2) NOT NULL DEFAULT 'US',
    is_primary BOOLEAN NOT NULL DEFAULT false
);

CREATE TABLE categories (
    id SERIAL PRIMARY KEY,
    name VARCHAR(100) NOT NULL UNIQUE,
    parent_id INTEGER REFERENCES categories (id) ON DELETE RESTRICT
);

CREATE TABLE products (
    id SERIAL PRIMARY KEY,
    sku VARCHAR(32) NOT NULL UNIQUE,
    name TEXT NOT NULL,
    category_id INTEGER REFERENCES categories (id) ON DELETE RESTRICT,
    price NUMERIC(10,2) NOT NULL CHECK (price > 0),
    stock INTEGER NOT NULL DEFAULT 0 CHECK (stock >= 0),
    weight DOUBLE PRECISION,
    released DATE,
    attrs JSONB
);

CREATE TABLE orders (
    id SERIAL PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status VARCHAR(16) NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'paid', 'shipped', 'cancelled')),
    total NUMERIC(12,2),
    note TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    shipped_at TIMESTAMP
);

CREATE TABLE order_items (
    id BIGSERIAL PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    product_id INTEGER NOT NULL REFERENCES products (id) ON DELETE RESTRICT,
    quantity SMALLINT NOT NULL CHECK (quantity > 0),
    unit_price NUMERIC(10,2) NOT NULL,
    discount NUMERIC(4,2),
    UNIQUE (order_id, product_id)
);

CREATE INDEX users_name_idx ON users (name);
CREATE INDEX orders_user_idx ON orders (user_id);
CREATE INDEX orders_status_created_idx ON orders (status, created_at);
CREATE INDEX products_category_idx ON products (category_id);
CREATE INDEX order_items_product_idx ON order_items (product_id);
