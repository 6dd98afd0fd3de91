package pgwire

import (
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"
)

// simpleQuery runs a Query message: every statement of the string in order,
// each answered with RowDescription, DataRows and CommandComplete (or a COPY
// exchange), stopping at the first error; ReadyForQuery ends it. Only fatal
// errors are returned; the others are sent here.
func (c *conn) simpleQuery(f frame) error {
	var q pgproto3.Query
	if err := decode(f, &q); err != nil {
		return err
	}
	// A simple query drops the unnamed statement and portal, as in PostgreSQL.
	c.dropStatement("")
	delete(c.portals, "")
	defer c.sync()
	if strings.TrimSpace(q.String) == "" {
		c.send(&pgproto3.EmptyQueryResponse{})
		return nil
	}
	ctx, done := c.stmtContext()
	defer done()
	stmts, err := c.sess.PrepareAll(ctx, q.String)
	if err != nil {
		c.sendError(err)
		return nil
	}
	if len(stmts) == 0 {
		c.send(&pgproto3.EmptyQueryResponse{})
		return nil
	}
	for _, st := range stmts {
		var tag string
		if cols, format, ok := st.CopyIn(); ok {
			tag, err = c.copyIn(ctx, st, cols, format)
		} else {
			// Columns is asked only now: the statements before may have changed the schema.
			columns := st.Columns()
			formats := make([]int16, len(columns))
			if columns != nil {
				c.send(rowDescription(columns, formats))
			}
			tag, err = st.Execute(ctx, nil, formats, c.sendRow)
		}
		if err != nil {
			c.reportParams()
			c.sendError(err)
			return nil
		}
		c.complete(tag)
		c.reportParams()
		if c.werr != nil {
			return nil
		}
	}
	return nil
}

// complete sends CommandComplete for tag, or EmptyQueryResponse for "".
func (c *conn) complete(tag string) {
	if tag == "" {
		c.send(&pgproto3.EmptyQueryResponse{})
		return
	}
	c.send(&pgproto3.CommandComplete{CommandTag: []byte(tag)})
}

// sendRow sends one DataRow; it fails once the connection failed.
func (c *conn) sendRow(values [][]byte) error {
	c.dataRow.Values = values
	c.send(&c.dataRow)
	c.dataRow.Values = nil
	return c.werr
}

// rowDescription describes columns sent in formats.
func rowDescription(cols []Column, formats []int16) *pgproto3.RowDescription {
	fields := make([]pgproto3.FieldDescription, len(cols))
	for i, col := range cols {
		fields[i] = pgproto3.FieldDescription{
			Name:                 []byte(col.Name),
			TableOID:             col.TableOID,
			TableAttributeNumber: uint16(col.Attr),
			DataTypeOID:          col.TypeOID,
			DataTypeSize:         col.TypeSize,
			TypeModifier:         col.TypeMod,
			Format:               formats[i],
		}
	}
	return &pgproto3.RowDescription{Fields: fields}
}
