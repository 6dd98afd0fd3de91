package pgwire

import (
	"io"
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"

	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

// SQLSTATEs of the extended protocol's name errors.
const (
	codeDuplicatePreparedStatement = "42P05"
	codeDuplicateCursor            = "42P03"
	codeInvalidStatementName       = "26000"
	codeInvalidCursorName          = "34000"
)

// prepared is a statement made by Parse. stmt is nil for an empty query.
type prepared struct {
	name string
	stmt Statement
}

func (p *prepared) paramOIDs() []uint32 {
	if p.stmt == nil {
		return nil
	}
	return p.stmt.ParamOIDs()
}

func (p *prepared) columns() []Column {
	if p.stmt == nil {
		return nil
	}
	if _, _, ok := p.stmt.CopyIn(); ok {
		return nil
	}
	return p.stmt.Columns()
}

// portalState is how far a portal's execution got.
type portalState uint8

const (
	portalReady     portalState = iota // not executed yet
	portalSuspended                    // executed with a row limit: rows left in the buffer
	portalDone                         // ran to completion: tag is its CommandComplete
)

// portal is a statement bound to parameters by Bind.
type portal struct {
	ps      *prepared
	params  []Param
	formats []int16 // one per column
	cols    []Column
	state   portalState
	rows    [][][]byte // portalSuspended: the rows not sent yet
	tag     string
}

// parse handles Parse: prepare and name a statement.
func (c *conn) parse(f frame) error {
	var m pgproto3.Parse
	if err := decode(f, &m); err != nil {
		return err
	}
	if m.Name != "" {
		if _, ok := c.stmts[m.Name]; ok {
			return sqlerr.New(codeDuplicatePreparedStatement, "prepared statement %q already exists", m.Name)
		}
	}
	if m.Name == "" {
		c.dropStatement("") // even when the new one fails, as PostgreSQL does
	}
	ps := &prepared{name: m.Name}
	if strings.TrimSpace(m.Query) != "" {
		ctx, done := c.stmtContext()
		st, err := c.sess.Prepare(ctx, m.Query, m.ParameterOIDs)
		done()
		if err != nil {
			return err
		}
		ps.stmt = st
	}
	c.dropStatement(m.Name)
	c.stmts[m.Name] = ps
	c.send(&pgproto3.ParseComplete{})
	return nil
}

// dropStatement deallocates a prepared statement (closing it when its
// Statement is an io.Closer).
func (c *conn) dropStatement(name string) {
	ps, ok := c.stmts[name]
	if !ok {
		return
	}
	delete(c.stmts, name)
	if cl, ok := ps.stmt.(io.Closer); ok {
		_ = cl.Close()
	}
}

// bind handles Bind: make a portal from a statement and parameters.
func (c *conn) bind(f frame) error {
	var m pgproto3.Bind
	if err := decode(f, &m); err != nil {
		return err
	}
	ps, ok := c.stmts[m.PreparedStatement]
	if !ok {
		return sqlerr.New(codeInvalidStatementName, "prepared statement %q does not exist", m.PreparedStatement)
	}
	if m.DestinationPortal != "" {
		if _, ok := c.portals[m.DestinationPortal]; ok {
			return sqlerr.New(codeDuplicateCursor, "portal %q already exists", m.DestinationPortal)
		}
	}
	want := len(ps.paramOIDs())
	if len(m.Parameters) != want {
		return sqlerr.New(sqlerr.ProtocolViolation, "bind message supplies %d parameters, but prepared statement %q requires %d", len(m.Parameters), m.PreparedStatement, want)
	}
	pf, err := expandFormats(m.ParameterFormatCodes, len(m.Parameters), "parameter formats", "parameters")
	if err != nil {
		return err
	}
	params := make([]Param, len(m.Parameters))
	for i, d := range m.Parameters {
		params[i] = Param{Format: pf[i], Data: d, Null: d == nil}
	}
	cols := ps.columns()
	rf, err := expandFormats(m.ResultFormatCodes, len(cols), "result formats", "columns")
	if err != nil {
		return err
	}
	c.portals[m.DestinationPortal] = &portal{ps: ps, params: params, formats: rf, cols: cols}
	c.send(&pgproto3.BindComplete{})
	return nil
}

// expandFormats turns the protocol's format codes (none = all text, one =
// all alike, or one each) into one code per item.
func expandFormats(codes []int16, n int, what, items string) ([]int16, error) {
	out := make([]int16, n)
	switch len(codes) {
	case 0:
	case 1:
		for i := range out {
			out[i] = codes[0]
		}
	case n:
		copy(out, codes)
	default:
		return nil, sqlerr.New(sqlerr.ProtocolViolation, "bind message has %d %s but %d %s", len(codes), what, n, items)
	}
	for _, f := range out {
		if f != 0 && f != 1 {
			return nil, sqlerr.New(sqlerr.InvalidParameterValue, "unsupported format code: %d", f)
		}
	}
	return out, nil
}

// describe handles Describe of a statement or a portal.
func (c *conn) describe(f frame) error {
	var m pgproto3.Describe
	if err := decode(f, &m); err != nil {
		return err
	}
	switch m.ObjectType {
	case 'S':
		ps, ok := c.stmts[m.Name]
		if !ok {
			return sqlerr.New(codeInvalidStatementName, "prepared statement %q does not exist", m.Name)
		}
		c.send(&pgproto3.ParameterDescription{ParameterOIDs: ps.paramOIDs()})
		cols := ps.columns()
		c.describeRows(cols, make([]int16, len(cols)))
	case 'P':
		p, ok := c.portals[m.Name]
		if !ok {
			return sqlerr.New(codeInvalidCursorName, "portal %q does not exist", m.Name)
		}
		c.describeRows(p.cols, p.formats)
	default:
		return fatal(sqlerr.ProtocolViolation, "invalid DESCRIBE message subtype %d", m.ObjectType)
	}
	return nil
}

func (c *conn) describeRows(cols []Column, formats []int16) {
	if cols == nil {
		c.send(&pgproto3.NoData{})
		return
	}
	c.send(rowDescription(cols, formats))
}

// closeMsg handles Close of a statement or a portal; closing what does not
// exist is not an error.
func (c *conn) closeMsg(f frame) error {
	var m pgproto3.Close
	if err := decode(f, &m); err != nil {
		return err
	}
	switch m.ObjectType {
	case 'S':
		c.dropStatement(m.Name)
	case 'P':
		delete(c.portals, m.Name)
	default:
		return fatal(sqlerr.ProtocolViolation, "invalid CLOSE message subtype %d", m.ObjectType)
	}
	c.send(&pgproto3.CloseComplete{})
	return nil
}

// execute handles Execute: run a portal, or resume a suspended one.
func (c *conn) execute(f frame) error {
	var m pgproto3.Execute
	if err := decode(f, &m); err != nil {
		return err
	}
	p, ok := c.portals[m.Portal]
	if !ok {
		return sqlerr.New(codeInvalidCursorName, "portal %q does not exist", m.Portal)
	}
	switch p.state {
	case portalSuspended:
		c.emitBuffered(p, m.MaxRows)
		return nil
	case portalDone:
		// A finished portal is not run again.
		c.complete(p.tag)
		return nil
	}
	st := p.ps.stmt
	if st == nil {
		p.state = portalDone
		c.send(&pgproto3.EmptyQueryResponse{})
		return nil
	}
	ctx, done := c.stmtContext()
	defer done()
	var tag string
	var err error
	if cols, format, ok := st.CopyIn(); ok {
		tag, err = c.copyIn(ctx, st, cols, format)
	} else if m.MaxRows == 0 {
		tag, err = st.Execute(ctx, p.params, p.formats, c.sendRow)
	} else {
		buf := &rowBuffer{limit: c.srv.cfg.MaxPortalBytes}
		tag, err = st.Execute(ctx, p.params, p.formats, buf.add)
		if err == nil {
			p.rows, p.tag, p.state = buf.rows, tag, portalSuspended
			c.reportParams()
			c.emitBuffered(p, m.MaxRows)
			return nil
		}
	}
	c.reportParams()
	if err != nil {
		p.state = portalDone
		return err
	}
	p.state, p.tag = portalDone, tag
	c.complete(tag)
	return nil
}

// emitBuffered sends up to max rows of a suspended portal: PortalSuspended
// when rows remain, CommandComplete when it sent the last.
func (c *conn) emitBuffered(p *portal, max uint32) {
	n := len(p.rows)
	if max > 0 && int(max) < n {
		n = int(max)
	}
	for _, r := range p.rows[:n] {
		if c.sendRow(r) != nil {
			return
		}
	}
	p.rows = p.rows[n:]
	if len(p.rows) > 0 {
		c.send(&pgproto3.PortalSuspended{})
		return
	}
	p.rows, p.state = nil, portalDone
	c.complete(p.tag)
}

// rowBuffer keeps a portal's rows for Execute with a row limit.
type rowBuffer struct {
	rows  [][][]byte
	size  int
	limit int
}

func (b *rowBuffer) add(values [][]byte) error {
	n := 0
	for _, v := range values {
		n += len(v)
	}
	b.size += n + 24*len(values)
	if b.size > b.limit {
		return sqlerr.New(sqlerr.ProgramLimitExceeded, "the rows of a portal executed with a row limit exceed %d bytes (max_portal_bytes)", b.limit)
	}
	data := make([]byte, 0, n)
	row := make([][]byte, len(values))
	for i, v := range values {
		if v == nil {
			continue
		}
		start := len(data)
		data = append(data, v...)
		row[i] = data[start:len(data):len(data)]
	}
	b.rows = append(b.rows, row)
	return nil
}
