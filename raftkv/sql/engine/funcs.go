package engine

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"strings"
	"time"
	"unicode/utf8"

	"cairn.dev/cairn/raftkv/sql/ast"
	"cairn.dev/cairn/raftkv/sql/schema"
	"cairn.dev/cairn/raftkv/sql/sqlerr"
	"cairn.dev/cairn/raftkv/sql/value"
	"github.com/cockroachdb/apd/v3"
)

type fnImpl = func(ec *execCtx, args []value.Value) (value.Value, error)

// strict wraps a function so that any NULL argument gives NULL.
func strict(f fnImpl) fnImpl {
	return func(ec *execCtx, args []value.Value) (value.Value, error) {
		for _, a := range args {
			if a.Null {
				return value.Null, nil
			}
		}
		return f(ec, args)
	}
}

func errInvalidParam(format string, args ...any) error {
	return sqlerr.New(sqlerr.InvalidParameterValue, format, args...)
}

func errInvalidRowCount(what string) error {
	return sqlerr.New("2201W", "%s must not be negative", what)
}

// bindFunc binds a scalar function call.
func (b *binder) bindFunc(sc *scope, e *ast.FuncCall) (expr, error) {
	name := trimCatalog(e.Name)
	if aggNames[name] {
		return nil, sqlerr.New(sqlerr.GroupingError, "aggregate functions are not allowed here").At(int32(e.Pos))
	}
	if e.Star || e.Distinct || e.Filter != nil {
		return nil, sqlerr.New(sqlerr.SyntaxError, "%s(*)/DISTINCT/FILTER specified, but %s is not an aggregate function", name, name).At(int32(e.Pos))
	}
	args := make([]expr, len(e.Args))
	for i, a := range e.Args {
		x, err := b.bindExpr(sc, a)
		if err != nil {
			return nil, err
		}
		args[i] = x
	}
	f := &funcExpr{name: name, args: args}
	nargs := func(lo, hi int) error {
		if len(args) < lo || len(args) > hi {
			return undefinedFunction(name, args, e.Pos)
		}
		return nil
	}
	coerceAll := func(t value.Type) error {
		for i := range args {
			var err error
			if args[i], err = b.coerce(args[i], t); err != nil {
				return err
			}
		}
		return nil
	}
	textArgs := func(lo, hi int, kinds ...value.Type) error {
		if err := nargs(lo, hi); err != nil {
			return err
		}
		for i := range args {
			t := value.Text
			if i < len(kinds) {
				t = kinds[i]
			}
			var err error
			if args[i], err = b.coerce(args[i], t); err != nil {
				return err
			}
			if t.Kind == value.KindInt && args[i].typ().Kind != value.KindInt {
				return undefinedFunction(name, args, e.Pos)
			}
		}
		return nil
	}
	var err error
	switch name {
	case "coalesce", "greatest", "least", "nullif":
		if name == "nullif" {
			err = nargs(2, 2)
		} else {
			err = nargs(1, 100)
		}
		if err != nil {
			return nil, err
		}
		t, err := commonType(args, strings.ToUpper(name), e.Pos)
		if err != nil {
			return nil, err
		}
		if name == "nullif" {
			t = finalType(args[0].typ())
			if args[0].typ().Kind == value.KindUnknown {
				t = finalType(args[1].typ())
			}
		}
		if err := coerceAll(t); err != nil {
			return nil, err
		}
		f.t = t
		switch name {
		case "coalesce":
			f.lazy = func(ec *execCtx, r row, as []expr) (value.Value, error) {
				for _, a := range as {
					v, err := a.eval(ec, r)
					if err != nil || !v.Null {
						if err == nil {
							return castValue(v, t)
						}
						return v, err
					}
				}
				return value.NullOf(t), nil
			}
		case "nullif":
			f.fn = func(ec *execCtx, a []value.Value) (value.Value, error) {
				if a[0].Null || a[1].Null {
					return a[0], nil
				}
				n, err := compareValues(a[0], a[1])
				if err != nil || n == 0 {
					return value.NullOf(t), err
				}
				return a[0], nil
			}
		default:
			f.fn = func(ec *execCtx, a []value.Value) (value.Value, error) {
				best := value.NullOf(t)
				for _, v := range a {
					if v.Null {
						continue
					}
					if best.Null {
						best = v
						continue
					}
					n, err := compareValues(v, best)
					if err != nil {
						return v, err
					}
					if (name == "greatest" && n > 0) || (name == "least" && n < 0) {
						best = v
					}
				}
				return best, nil
			}
		}
		return f, nil
	case "lower", "upper":
		if err := textArgs(1, 1); err != nil {
			return nil, err
		}
		f.t = value.Text
		f.fn = strict(func(_ *execCtx, a []value.Value) (value.Value, error) {
			s, _ := textOf(a[0])
			if name == "lower" {
				return value.NewText(strings.ToLower(s)), nil
			}
			return value.NewText(strings.ToUpper(s)), nil
		})
	case "length", "char_length", "character_length", "octet_length":
		if err := nargs(1, 1); err != nil {
			return nil, err
		}
		if args[0], err = b.coerce(args[0], value.Text); err != nil {
			return nil, err
		}
		f.t = value.Int4
		f.fn = strict(func(_ *execCtx, a []value.Value) (value.Value, error) {
			if a[0].Type.Kind == value.KindBytes {
				return int4(int64(len(a[0].Bytes))), nil
			}
			if name == "octet_length" && a[0].Type.Kind == value.KindText {
				return int4(int64(len(a[0].Str))), nil // char(n) counts its padding here
			}
			s, _ := textOf(a[0]) // char(n): trailing blanks do not count
			if name == "octet_length" {
				return int4(int64(len(s))), nil
			}
			return int4(int64(utf8.RuneCountInString(s))), nil
		})
	case "substring", "substr":
		if err := textArgs(2, 3, value.Text, value.Int4, value.Int4); err != nil {
			return nil, err
		}
		f.t = value.Text
		f.fn = strict(func(_ *execCtx, a []value.Value) (value.Value, error) {
			rs := []rune(str(a[0]))
			start := a[1].Int
			end := int64(len(rs)) + 1
			if len(a) == 3 {
				if a[2].Int < 0 {
					return value.Null, sqlerr.New("22011", "negative substring length not allowed")
				}
				end = start + a[2].Int
			}
			if start < 1 {
				start = 1
			}
			if end > int64(len(rs))+1 {
				end = int64(len(rs)) + 1
			}
			if start >= end {
				return value.NewText(""), nil
			}
			return value.NewText(string(rs[start-1 : end-1])), nil
		})
	case "position", "strpos":
		if err := textArgs(2, 2); err != nil {
			return nil, err
		}
		f.t = value.Int4
		f.fn = strict(func(_ *execCtx, a []value.Value) (value.Value, error) {
			// position(sub IN s) is parsed as position(sub, s); strpos(s, sub)
			s, sub := str(a[1]), str(a[0])
			if name == "strpos" {
				s, sub = str(a[0]), str(a[1])
			}
			i := strings.Index(s, sub)
			if i < 0 {
				return int4(0), nil
			}
			return int4(int64(utf8.RuneCountInString(s[:i]) + 1)), nil
		})
	case "trim", "btrim", "ltrim", "rtrim":
		if err := textArgs(1, 2); err != nil {
			return nil, err
		}
		f.t = value.Text
		f.fn = strict(func(_ *execCtx, a []value.Value) (value.Value, error) {
			cut := " "
			if len(a) == 2 {
				cut = str(a[1])
			}
			switch name {
			case "ltrim":
				return value.NewText(strings.TrimLeft(str(a[0]), cut)), nil
			case "rtrim":
				return value.NewText(strings.TrimRight(str(a[0]), cut)), nil
			}
			return value.NewText(strings.Trim(str(a[0]), cut)), nil
		})
	case "replace":
		if err := textArgs(3, 3); err != nil {
			return nil, err
		}
		f.t = value.Text
		f.fn = strict(func(_ *execCtx, a []value.Value) (value.Value, error) {
			return value.NewText(strings.ReplaceAll(str(a[0]), str(a[1]), str(a[2]))), nil
		})
	case "concat", "concat_ws":
		if err := coerceAll(value.Text); err != nil {
			return nil, err
		}
		if name == "concat_ws" && len(args) < 1 {
			return nil, undefinedFunction(name, args, e.Pos)
		}
		f.t = value.Text
		f.fn = func(_ *execCtx, a []value.Value) (value.Value, error) {
			var parts []string
			sep := ""
			if name == "concat_ws" {
				if a[0].Null {
					return value.Null, nil
				}
				sep, a = str(a[0]), a[1:]
			}
			for _, v := range a {
				if v.Null {
					continue
				}
				s, err := textOf(v)
				if err != nil {
					return v, err
				}
				parts = append(parts, s)
			}
			return value.NewText(strings.Join(parts, sep)), nil
		}
	case "abs", "ceil", "ceiling", "floor", "sign":
		if err := nargs(1, 1); err != nil {
			return nil, err
		}
		if args[0], err = b.coerce(args[0], value.Numeric); err != nil {
			return nil, err
		}
		f.t = args[0].typ()
		if !isNumber(f.t) {
			return nil, undefinedFunction(name, args, e.Pos)
		}
		if name != "abs" && f.t.Kind == value.KindInt {
			f.t = value.Numeric
			if name == "sign" {
				f.t = args[0].typ()
			}
		}
		if f.t.Kind == value.KindNumeric {
			f.t = value.Numeric
		}
		f.fn = strict(func(_ *execCtx, a []value.Value) (value.Value, error) { return mathFn(name, a[0]) })
	case "round", "trunc":
		if err := nargs(1, 2); err != nil {
			return nil, err
		}
		if args[0], err = b.coerce(args[0], value.Numeric); err != nil {
			return nil, err
		}
		if !isNumber(args[0].typ()) {
			return nil, undefinedFunction(name, args, e.Pos)
		}
		if len(args) == 2 {
			if args[1], err = b.coerce(args[1], value.Int4); err != nil {
				return nil, err
			}
		}
		f.t = value.Numeric
		if args[0].typ().Kind == value.KindFloat && len(args) == 1 {
			f.t = value.Float8
		}
		f.fn = strict(func(_ *execCtx, a []value.Value) (value.Value, error) {
			places := int64(0)
			if len(a) == 2 {
				c, err := castValue(a[1], value.Int8)
				if err != nil {
					return c, err
				}
				places = c.Int
			}
			return roundValue(a[0], places, name == "trunc")
		})
	case "mod":
		if err := nargs(2, 2); err != nil {
			return nil, err
		}
		return b.bindBinary(sc, &ast.BinaryExpr{Op: "%", Left: e.Args[0], Right: e.Args[1], Pos: e.Pos})
	case "power", "pow", "sqrt":
		if err := coerceAll(value.Float8); err != nil {
			return nil, err
		}
		f.t = value.Float8
		f.fn = strict(func(_ *execCtx, a []value.Value) (value.Value, error) {
			x, err := castValue(a[0], value.Float8)
			if err != nil {
				return x, err
			}
			if name == "sqrt" {
				return value.NewFloat(math.Sqrt(x.Float)), nil
			}
			y, err := castValue(a[1], value.Float8)
			if err != nil {
				return y, err
			}
			return value.NewFloat(math.Pow(x.Float, y.Float)), nil
		})
	case "now", "current_timestamp", "transaction_timestamp", "statement_timestamp", "localtimestamp":
		if err := nargs(0, 1); err != nil {
			return nil, err
		}
		f.t = value.TimestampTZ
		if name == "localtimestamp" {
			f.t = value.Timestamp
		}
		f.fn = func(ec *execCtx, _ []value.Value) (value.Value, error) {
			return castValue(value.NewTimestampTZ(ec.tx.now), f.t)
		}
	case "clock_timestamp":
		f.t = value.TimestampTZ
		f.fn = func(*execCtx, []value.Value) (value.Value, error) {
			return value.NewTimestampTZ(time.Now().UTC()), nil
		}
	case "current_date":
		f.t = value.Date
		f.fn = func(ec *execCtx, _ []value.Value) (value.Value, error) {
			y, m, d := ec.tx.now.Date()
			return value.NewDate(time.Date(y, m, d, 0, 0, 0, 0, time.UTC)), nil
		}
	case "extract", "date_part":
		if err := textArgs(2, 2, value.Text, value.TimestampTZ); err != nil {
			return nil, err
		}
		f.t = value.Numeric
		if name == "date_part" {
			f.t = value.Float8
		}
		f.fn = strict(func(_ *execCtx, a []value.Value) (value.Value, error) { return extract(a[0].Str, a[1]) })
	case "date_trunc":
		if err := nargs(2, 2); err != nil {
			return nil, err
		}
		if args[0], err = b.coerce(args[0], value.Text); err != nil {
			return nil, err
		}
		if args[1], err = b.coerce(args[1], value.TimestampTZ); err != nil {
			return nil, err
		}
		f.t = args[1].typ()
		if f.t.Kind == value.KindDate {
			f.t = value.TimestampTZ
		}
		f.fn = strict(func(_ *execCtx, a []value.Value) (value.Value, error) { return dateTrunc(a[0].Str, a[1]) })
	case "version":
		f.t = value.Text
		f.fn = func(*execCtx, []value.Value) (value.Value, error) {
			return value.NewText("PostgreSQL 15.0 (cairn SQL on raftkv), 64-bit"), nil
		}
	case "current_database":
		f.t = value.Text
		f.fn = func(ec *execCtx, _ []value.Value) (value.Value, error) { return value.NewText(ec.sess.database), nil }
	case "current_user", "session_user", "user":
		f.t = value.Text
		f.fn = func(ec *execCtx, _ []value.Value) (value.Value, error) { return value.NewText(ec.sess.user), nil }
	case "current_schema":
		f.t = value.Text
		f.fn = func(*execCtx, []value.Value) (value.Value, error) { return value.NewText("public"), nil }
	case "jsonb_typeof", "json_typeof":
		if err := nargs(1, 1); err != nil {
			return nil, err
		}
		if args[0], err = b.coerce(args[0], value.JSONB); err != nil {
			return nil, err
		}
		f.t = value.Text
		f.fn = strict(func(_ *execCtx, a []value.Value) (value.Value, error) {
			var x any
			if err := json.Unmarshal([]byte(a[0].Str), &x); err != nil {
				return value.Null, err
			}
			switch x.(type) {
			case map[string]any:
				return value.NewText("object"), nil
			case []any:
				return value.NewText("array"), nil
			case string:
				return value.NewText("string"), nil
			case float64:
				return value.NewText("number"), nil
			case bool:
				return value.NewText("boolean"), nil
			}
			return value.NewText("null"), nil
		})
	case "jsonb_build_object", "json_build_object":
		if len(args)%2 != 0 {
			return nil, sqlerr.New(sqlerr.InvalidParameterValue, "argument list must have even number of elements").At(int32(e.Pos))
		}
		if err := coerceAll(value.Text); err != nil {
			return nil, err
		}
		f.t = value.JSONB
		f.fn = func(_ *execCtx, a []value.Value) (value.Value, error) {
			var sb strings.Builder
			sb.WriteByte('{')
			for i := 0; i < len(a); i += 2 {
				if a[i].Null {
					return value.Null, errInvalidParam("argument %d: key must not be null", i+1)
				}
				k, _ := textOf(a[i])
				kb, _ := json.Marshal(k)
				if i > 0 {
					sb.WriteString(", ")
				}
				sb.Write(kb)
				sb.WriteString(": ")
				sb.WriteString(jsonOf(a[i+1]))
			}
			sb.WriteByte('}')
			return value.NewJSON([]byte(sb.String()))
		}
	case "gen_random_uuid":
		f.t = value.Text
		f.fn = func(*execCtx, []value.Value) (value.Value, error) {
			var u [16]byte
			_, _ = rand.Read(u[:])
			u[6] = u[6]&0x0f | 0x40
			u[8] = u[8]&0x3f | 0x80
			return value.NewText(fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:])), nil
		}
	case "random":
		f.t = value.Float8
		f.fn = func(*execCtx, []value.Value) (value.Value, error) { return value.NewFloat(mrand.Float64()), nil }
	case "nextval":
		if err := textArgs(1, 1); err != nil {
			return nil, err
		}
		f.t = value.Int8
		f.fn = strict(func(ec *execCtx, a []value.Value) (value.Value, error) {
			cat := ec.catalog()
			if cat == nil {
				return value.Null, sqlerr.New(sqlerr.Internal, "nextval: the catalog could not be loaded")
			}
			n, err := schema.NextVal(ec.ctx, ec.sess.e.db, cat, a[0].Str)
			if err != nil {
				return value.Null, err
			}
			return value.NewInt(n), nil
		})
	case "pg_backend_pid":
		f.t = value.Int4
		f.fn = func(*execCtx, []value.Value) (value.Value, error) { return int4(1), nil }
	default:
		return nil, undefinedFunction(e.Name, args, e.Pos)
	}
	if err := nargsCheck(f, e); err != nil {
		return nil, err
	}
	return f, nil
}

// nargsCheck rejects arguments to the functions that take none.
func nargsCheck(f *funcExpr, e *ast.FuncCall) error {
	switch f.name {
	case "version", "current_database", "current_user", "session_user", "user", "current_schema", "gen_random_uuid", "random", "clock_timestamp", "current_date", "pg_backend_pid":
		if len(f.args) != 0 {
			return undefinedFunction(f.name, f.args, e.Pos)
		}
	}
	return nil
}

func int4(n int64) value.Value {
	v := value.NewInt(n)
	v.Type = value.Int4
	return v
}

func isNumber(t value.Type) bool {
	return t.Kind == value.KindInt || t.Kind == value.KindFloat || t.Kind == value.KindNumeric
}

// jsonOf renders a value as a JSON value.
func jsonOf(v value.Value) string {
	if v.Null {
		return "null"
	}
	switch v.Type.Kind {
	case value.KindJSON:
		return v.Str
	case value.KindInt, value.KindFloat, value.KindNumeric:
		return string(value.AppendText(nil, v))
	case value.KindBool:
		if v.Bool {
			return "true"
		}
		return "false"
	}
	s, _ := textOf(v)
	b, _ := json.Marshal(s)
	return string(b)
}

// mathFn computes abs/ceil/floor/sign.
func mathFn(name string, v value.Value) (value.Value, error) {
	switch v.Type.Kind {
	case value.KindInt:
		x := v.Int
		switch name {
		case "abs":
			if x < 0 {
				if x == math.MinInt64 {
					return value.Null, sqlerr.New(sqlerr.NumericValueOutOfRange, "integer out of range")
				}
				x = -x
			}
		case "sign":
			switch {
			case x > 0:
				x = 1
			case x < 0:
				x = -1
			}
		}
		out := value.NewInt(x)
		out.Type = v.Type
		return out, nil
	case value.KindFloat:
		f := v.Float
		switch name {
		case "abs":
			f = math.Abs(f)
		case "ceil", "ceiling":
			f = math.Ceil(f)
		case "floor":
			f = math.Floor(f)
		case "sign":
			f = float64(sign(f))
		}
		return value.NewFloat(f), nil
	case value.KindNumeric:
		d := new(apd.Decimal)
		var err error
		switch name {
		case "abs":
			_, err = apd.BaseContext.Abs(d, v.Dec)
		case "ceil", "ceiling":
			_, err = apd.BaseContext.WithPrecision(1000).Ceil(d, v.Dec)
		case "floor":
			_, err = apd.BaseContext.WithPrecision(1000).Floor(d, v.Dec)
		case "sign":
			d.SetInt64(int64(v.Dec.Sign()))
		}
		if err != nil {
			return value.Null, err
		}
		return value.NewNumeric(d), nil
	}
	return value.Null, sqlerr.New(sqlerr.UndefinedFunction, "function %s(%s) does not exist", name, typeName(v.Type))
}

func sign(f float64) int {
	switch {
	case f > 0:
		return 1
	case f < 0:
		return -1
	}
	return 0
}

// roundValue rounds (or truncates) to places decimal digits.
func roundValue(v value.Value, places int64, trunc bool) (value.Value, error) {
	if v.Type.Kind == value.KindFloat {
		p := math.Pow(10, float64(places))
		if trunc {
			return value.NewFloat(math.Trunc(v.Float*p) / p), nil
		}
		return value.NewFloat(math.RoundToEven(v.Float*p) / p), nil
	}
	n, err := castValue(v, value.Numeric)
	if err != nil {
		return n, err
	}
	ctx := apd.BaseContext.WithPrecision(1000)
	ctx.Rounding = apd.RoundHalfUp
	if trunc {
		ctx.Rounding = apd.RoundDown
	}
	d := new(apd.Decimal)
	if _, err := ctx.Quantize(d, n.Dec, int32(-places)); err != nil {
		return value.Null, err
	}
	return value.NewNumeric(d), nil
}

// extract returns a date/time field (EXTRACT, date_part).
func extract(field string, v value.Value) (value.Value, error) {
	t := v.Time
	var f float64
	switch strings.ToLower(field) {
	case "year":
		f = float64(t.Year())
	case "month":
		f = float64(t.Month())
	case "day":
		f = float64(t.Day())
	case "hour":
		f = float64(t.Hour())
	case "minute":
		f = float64(t.Minute())
	case "second":
		f = float64(t.Second()) + float64(t.Nanosecond())/1e9
	case "epoch":
		f = float64(t.UnixMicro()) / 1e6
	case "dow":
		f = float64(t.Weekday())
	case "doy":
		f = float64(t.YearDay())
	case "quarter":
		f = float64((int(t.Month())-1)/3 + 1)
	case "microseconds":
		f = float64(t.Second()*1e6 + t.Nanosecond()/1e3)
	case "milliseconds":
		f = float64(t.Second())*1e3 + float64(t.Nanosecond())/1e6
	default:
		return value.Null, errInvalidParam("unit %q not recognized for type timestamp", field)
	}
	return value.NumericFromString(fmt.Sprint(f))
}

// dateTrunc truncates a timestamp to a unit.
func dateTrunc(unit string, v value.Value) (value.Value, error) {
	t := v.Time
	y, mo, d := t.Date()
	switch strings.ToLower(unit) {
	case "year":
		t = time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
	case "quarter":
		t = time.Date(y, (mo-1)/3*3+1, 1, 0, 0, 0, 0, time.UTC)
	case "month":
		t = time.Date(y, mo, 1, 0, 0, 0, 0, time.UTC)
	case "week":
		t = time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)
		t = t.AddDate(0, 0, -((int(t.Weekday()) + 6) % 7))
	case "day":
		t = time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)
	case "hour":
		t = t.Truncate(time.Hour)
	case "minute":
		t = t.Truncate(time.Minute)
	case "second":
		t = t.Truncate(time.Second)
	default:
		return value.Null, errInvalidParam("unit %q not recognized for type timestamp", unit)
	}
	out := v
	out.Time = t
	return out, nil
}

// powValues computes a ^ b.
func powValues(a, b value.Value) (value.Value, error) {
	x, err := castValue(a, value.Float8)
	if err != nil {
		return x, err
	}
	y, err := castValue(b, value.Float8)
	if err != nil {
		return y, err
	}
	return value.NewFloat(math.Pow(x.Float, y.Float)), nil
}

// str is a text argument's string: char(n) without its padding, as
// PostgreSQL's cast to text gives it (see textOf).
func str(v value.Value) string {
	s, _ := textOf(v)
	return s
}
