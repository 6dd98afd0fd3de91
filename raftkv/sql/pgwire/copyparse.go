package pgwire

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strconv"

	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

// codeBadCopyFormat is SQLSTATE bad_copy_file_format.
const codeBadCopyFormat = "22P04"

// maxCopyRow bounds one row (line) of a COPY stream.
const maxCopyRow = 64 << 20

var binaryCopySignature = []byte("PGCOPY\n\xff\r\n\x00")

// copyParser turns a COPY data stream into rows of fields (nil = NULL) in
// one of PostgreSQL's three formats. Text and CSV lines end with \n (an
// \r before it is dropped); a line holding only \. ends the data.
type copyParser struct {
	r       *bufio.Reader
	cols    int
	format  CopyFormat
	delim   byte
	line    int // rows (lines) read so far, for error messages
	ended   bool
	started bool // binary: header read
	fields  [][]byte
	buf     []byte
}

func newCopyParser(r *bufio.Reader, cols int, format CopyFormat) (*copyParser, error) {
	p := &copyParser{r: r, cols: cols, format: format, delim: format.Delimiter}
	switch format.Kind {
	case CopyText:
		if p.delim == 0 {
			p.delim = '\t'
		}
	case CopyCSV:
		if p.delim == 0 {
			p.delim = ','
		}
		if p.delim == '"' {
			return nil, sqlerr.New(sqlerr.InvalidParameterValue, "COPY delimiter and quote must be different")
		}
	case CopyBinary:
	default:
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "COPY format %d is not supported", format.Kind)
	}
	if p.delim == '\n' || p.delim == '\r' || (format.Kind == CopyText && p.delim == '\\') {
		return nil, sqlerr.New(sqlerr.InvalidParameterValue, "COPY delimiter cannot be %q", p.delim)
	}
	return p, nil
}

func badCopy(line int, format string, args ...any) error {
	e := sqlerr.New(codeBadCopyFormat, format, args...)
	e.Detail = "COPY line " + strconv.Itoa(line) + "."
	return e
}

// next returns the next row, io.EOF after the last.
func (p *copyParser) next() ([]*string, error) {
	if p.ended {
		return nil, io.EOF
	}
	var row []*string
	var err error
	switch p.format.Kind {
	case CopyBinary:
		row, err = p.nextBinary()
	case CopyCSV:
		row, err = p.nextCSV()
	default:
		row, err = p.nextText()
	}
	if err == io.EOF {
		p.ended = true
	}
	return row, err
}

// readLine reads one line without its terminator; io.EOF when the stream
// ended with no byte of a line.
func (p *copyParser) readLine(keepNewline bool) ([]byte, error) {
	p.buf = p.buf[:0]
	for {
		chunk, err := p.r.ReadSlice('\n')
		p.buf = append(p.buf, chunk...)
		if len(p.buf) > maxCopyRow {
			return nil, badCopy(p.line+1, "a COPY line is longer than %d bytes", maxCopyRow)
		}
		switch {
		case err == nil:
			if !keepNewline {
				p.buf = trimEOL(p.buf)
			}
			return p.buf, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == io.EOF:
			if len(p.buf) == 0 {
				return nil, io.EOF
			}
			return p.buf, nil
		default:
			return nil, err
		}
	}
}

func trimEOL(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte{'\n'})
	return bytes.TrimSuffix(b, []byte{'\r'})
}

// nextText parses one line of PostgreSQL's text COPY format.
func (p *copyParser) nextText() ([]*string, error) {
	for {
		line, err := p.readLine(false)
		if err != nil {
			return nil, err
		}
		p.line++
		if p.format.Header && p.line == 1 {
			continue
		}
		if string(line) == `\.` {
			return nil, io.EOF
		}
		p.fields = p.fields[:0]
		if !(p.cols == 0 && len(line) == 0) {
			start := 0
			for i := 0; i < len(line); i++ {
				switch line[i] {
				case '\\':
					i++
				case p.delim:
					p.fields = append(p.fields, line[start:i])
					start = i + 1
				}
			}
			p.fields = append(p.fields, line[start:])
		}
		if err := p.checkCount(len(p.fields)); err != nil {
			return nil, err
		}
		row := make([]*string, len(p.fields))
		for i, raw := range p.fields {
			if string(raw) == `\N` {
				continue
			}
			s, err := unescapeText(raw)
			if err != nil {
				return nil, badCopy(p.line, "%v", err)
			}
			row[i] = &s
		}
		return row, nil
	}
}

func (p *copyParser) checkCount(n int) error {
	switch {
	case n < p.cols:
		return badCopy(p.line, "missing data for column %d", n+1)
	case n > p.cols:
		return badCopy(p.line, "extra data after last expected column")
	}
	return nil
}

// unescapeText decodes the backslash escapes of a text-format field.
func unescapeText(raw []byte) (string, error) {
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw), nil
	}
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		ch := raw[i]
		if ch != '\\' {
			out = append(out, ch)
			continue
		}
		i++
		if i >= len(raw) {
			return "", errors.New("unterminated backslash escape at the end of a field")
		}
		ch = raw[i]
		switch ch {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'v':
			out = append(out, '\v')
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v := int(ch - '0')
			for k := 0; k < 2 && i+1 < len(raw) && raw[i+1] >= '0' && raw[i+1] <= '7'; k++ {
				i++
				v = v*8 + int(raw[i]-'0')
			}
			out = append(out, byte(v))
		case 'x':
			v, n := 0, 0
			for n < 2 && i+1 < len(raw) && isHex(raw[i+1]) {
				i++
				v = v*16 + hexVal(raw[i])
				n++
			}
			if n == 0 {
				out = append(out, 'x')
			} else {
				out = append(out, byte(v))
			}
		default:
			out = append(out, ch)
		}
	}
	return string(out), nil
}

func isHex(b byte) bool {
	return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F')
}

func hexVal(b byte) int {
	switch {
	case b >= '0' && b <= '9':
		return int(b - '0')
	case b >= 'a' && b <= 'f':
		return int(b-'a') + 10
	default:
		return int(b-'A') + 10
	}
}

// nextCSV parses one record of the CSV format: fields separated by the
// delimiter, "quoted" with "" for a quote (quoted fields may span lines),
// an empty unquoted field is NULL.
func (p *copyParser) nextCSV() ([]*string, error) {
	for {
		rec, err := p.readCSVRecord()
		if err != nil {
			return nil, err
		}
		p.line++
		if p.format.Header && p.line == 1 {
			continue
		}
		if string(rec) == `\.` {
			return nil, io.EOF
		}
		if p.cols == 0 && len(rec) == 0 {
			return []*string{}, nil
		}
		var row []*string
		var field []byte
		sawQuote, inQuote := false, false
		endField := func() {
			if !sawQuote && len(field) == 0 {
				row = append(row, nil)
			} else {
				s := string(field)
				row = append(row, &s)
			}
			field, sawQuote = field[:0], false
		}
		for i := 0; i < len(rec); i++ {
			ch := rec[i]
			switch {
			case inQuote && ch == '"':
				if i+1 < len(rec) && rec[i+1] == '"' {
					field = append(field, '"')
					i++
				} else {
					inQuote = false
				}
			case inQuote:
				field = append(field, ch)
			case ch == p.delim:
				endField()
			case ch == '"':
				inQuote, sawQuote = true, true
			default:
				field = append(field, ch)
			}
		}
		if inQuote {
			return nil, badCopy(p.line, "unterminated CSV quoted field")
		}
		endField()
		if err := p.checkCount(len(row)); err != nil {
			return nil, err
		}
		return row, nil
	}
}

// readCSVRecord reads lines until the quotes balance; it returns the record
// without its final line terminator.
func (p *copyParser) readCSVRecord() ([]byte, error) {
	var rec []byte
	inQuote := false
	for {
		line, err := p.readLine(true)
		if err == io.EOF {
			if rec == nil {
				return nil, io.EOF
			}
			return rec, nil // unterminated quote: reported by the caller
		}
		if err != nil {
			return nil, err
		}
		for _, ch := range line {
			if ch == '"' {
				inQuote = !inQuote
			}
		}
		rec = append(rec, line...)
		if len(rec) > maxCopyRow {
			return nil, badCopy(p.line+1, "a COPY record is longer than %d bytes", maxCopyRow)
		}
		if !inQuote {
			return trimEOL(rec), nil
		}
	}
}

// nextBinary parses one tuple of the binary format (after its header).
func (p *copyParser) nextBinary() ([]*string, error) {
	if !p.started {
		if err := p.binaryHeader(); err != nil {
			return nil, err
		}
		p.started = true
	}
	var b [4]byte
	if _, err := io.ReadFull(p.r, b[:2]); err != nil {
		if err == io.EOF {
			return nil, io.EOF // the stream may end without the trailer
		}
		return nil, p.binaryErr(err)
	}
	p.line++
	n := int16(binary.BigEndian.Uint16(b[:2]))
	if n == -1 {
		return nil, io.EOF
	}
	if int(n) != p.cols {
		return nil, badCopy(p.line, "row field count is %d, expected %d", n, p.cols)
	}
	row := make([]*string, n)
	for i := range row {
		if _, err := io.ReadFull(p.r, b[:4]); err != nil {
			return nil, p.binaryErr(err)
		}
		l := int32(binary.BigEndian.Uint32(b[:4]))
		if l == -1 {
			continue
		}
		if l < 0 || l > maxCopyRow {
			return nil, badCopy(p.line, "invalid field size %d", l)
		}
		field := make([]byte, l)
		if _, err := io.ReadFull(p.r, field); err != nil {
			return nil, p.binaryErr(err)
		}
		s := string(field)
		row[i] = &s
	}
	return row, nil
}

func (p *copyParser) binaryHeader() error {
	var h [19]byte
	if _, err := io.ReadFull(p.r, h[:]); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return badCopy(0, "COPY file signature not recognized")
		}
		return err
	}
	if !bytes.Equal(h[:11], binaryCopySignature) {
		return badCopy(0, "COPY file signature not recognized")
	}
	flags := binary.BigEndian.Uint32(h[11:15])
	if flags&(1<<16) != 0 {
		return badCopy(0, "COPY binary data with OIDs is not supported")
	}
	if flags&^uint32(0xffff) != 0 {
		return badCopy(0, "unrecognized critical flags in COPY file header")
	}
	ext := int32(binary.BigEndian.Uint32(h[15:19]))
	if ext < 0 || ext > maxCopyRow {
		return badCopy(0, "invalid COPY file header (extension length %d)", ext)
	}
	if _, err := io.CopyN(io.Discard, p.r, int64(ext)); err != nil {
		return p.binaryErr(err)
	}
	return nil
}

// binaryErr reports a stream that ended inside a tuple; errors from the
// stream itself (CopyFail, the connection) pass through.
func (p *copyParser) binaryErr(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return badCopy(p.line, "unexpected EOF in COPY data")
	}
	return err
}
