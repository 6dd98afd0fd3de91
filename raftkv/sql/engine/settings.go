package engine

import (
	"sort"
	"strconv"
	"strings"

	"cairn.dev/cairn/raftkv/sql/ast"
	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

// paramDef is a session parameter: its default and whether the client is
// told about changes (ParameterStatus).
type paramDef struct {
	value  string
	report bool
	check  func(string) (string, error) // normalises a new value; nil accepts any
}

var paramDefaults = map[string]paramDef{
	"application_name":                    {value: "", report: true},
	"client_encoding":                     {value: "UTF8", report: true, check: checkEncoding},
	"datestyle":                           {value: "ISO, MDY", report: true},
	"timezone":                            {value: "UTC", report: true, check: checkTimeZone},
	"integer_datetimes":                   {value: "on", report: true},
	"intervalstyle":                       {value: "postgres", report: true},
	"is_superuser":                        {value: "off", report: true},
	"server_encoding":                     {value: "UTF8", report: true},
	"server_version":                      {value: "15.0", report: true},
	"standard_conforming_strings":         {value: "on", report: true},
	"session_authorization":               {value: "", report: true},
	"search_path":                         {value: `"$user", public`},
	"statement_timeout":                   {value: "0", check: checkTimeout},
	"extra_float_digits":                  {value: "1", check: checkInt},
	"transaction_isolation":               {value: "serializable"},
	"default_transaction_isolation":       {value: "serializable", check: checkIsolation},
	"transaction_read_only":               {value: "off"},
	"default_transaction_read_only":       {value: "off"},
	"lock_timeout":                        {value: "0"},
	"idle_in_transaction_session_timeout": {value: "0"},
	"max_identifier_length":               {value: "63"},
}

// canonical names of parameters spelled in mixed case.
var paramSpelling = map[string]string{"datestyle": "DateStyle", "timezone": "TimeZone", "intervalstyle": "IntervalStyle"}

func checkEncoding(v string) (string, error) {
	switch strings.ToUpper(strings.ReplaceAll(v, "-", "")) {
	case "UTF8", "UNICODE":
		return "UTF8", nil
	}
	return "", sqlerr.New(sqlerr.FeatureNotSupported, "client_encoding %q is not supported (only UTF8)", v)
}

func checkTimeZone(v string) (string, error) {
	switch strings.ToUpper(v) {
	case "UTC", "GMT", "ETC/UTC", "Z", "+00", "+00:00", "0", "LOCAL", "DEFAULT":
		return "UTC", nil
	}
	return "", sqlerr.New(sqlerr.InvalidParameterValue, "invalid value for parameter \"TimeZone\": %q", v).WithDetail("cairn only supports the time zone UTC.")
}

func checkTimeout(v string) (string, error) {
	if _, err := parseDurationMS(v); err != nil {
		return "", err
	}
	return v, nil
}

func checkInt(v string) (string, error) {
	if _, err := strconv.Atoi(v); err != nil {
		return "", sqlerr.New(sqlerr.InvalidParameterValue, "invalid value for parameter: %q", v)
	}
	return v, nil
}

func checkIsolation(v string) (string, error) {
	switch strings.ToLower(v) {
	case "serializable", "repeatable read", "read committed", "read uncommitted":
		return strings.ToLower(v), nil
	}
	return "", sqlerr.New(sqlerr.InvalidParameterValue, "invalid value for parameter \"default_transaction_isolation\": %q", v)
}

// execSet runs SET / RESET.
func (s *Session) execSet(x *ast.Set) error {
	name := strings.ToLower(x.Name)
	if name == "time zone" {
		name = "timezone"
	}
	if name == "all" && x.Reset {
		for k, d := range paramDefaults {
			s.setParam(k, d.value)
		}
		return nil
	}
	def, ok := paramDefaults[name]
	if !ok {
		return sqlerr.New(sqlerr.UndefinedObject, "unrecognized configuration parameter %q", x.Name).At(int32(x.Pos))
	}
	switch name {
	case "transaction_isolation":
		if s.tx != nil && !x.Reset && !x.Default {
			return sqlerr.New(sqlerr.FeatureNotSupported, "use SET TRANSACTION ISOLATION LEVEL to change the isolation of a transaction")
		}
		return nil
	case "is_superuser", "server_version", "server_encoding", "integer_datetimes", "session_authorization", "max_identifier_length":
		return sqlerr.New("55P02", "parameter %q cannot be changed", name)
	}
	val := def.value
	if !x.Reset && !x.Default {
		parts := make([]string, len(x.Values))
		for i, v := range x.Values {
			switch v := v.(type) {
			case *ast.Literal:
				parts[i] = v.Text
				if v.Kind == ast.LitBool {
					parts[i] = map[bool]string{true: "on", false: "off"}[v.Bool]
				}
			case *ast.ColumnRef:
				parts[i] = v.Column
			case *ast.UnaryExpr:
				if l, ok := v.Operand.(*ast.Literal); ok && v.Op == "-" {
					parts[i] = "-" + l.Text
				}
			default:
				parts[i] = formatExpr(v)
			}
		}
		val = strings.Join(parts, ", ")
	}
	if def.check != nil {
		var err error
		if val, err = def.check(val); err != nil {
			return err
		}
	}
	s.setParam(name, val)
	return nil
}

func (s *Session) setParam(name, val string) {
	if s.settings[name] == val {
		return
	}
	s.settings[name] = val
	if paramDefaults[name].report {
		if sp, ok := paramSpelling[name]; ok {
			name = sp
		}
		s.changed[name] = val
	}
}

// showAll lists every parameter (SHOW ALL): name, setting, description.
func (s *Session) showAll() [][]string {
	keys := make([]string, 0, len(s.settings))
	for k := range s.settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([][]string, len(keys))
	for i, k := range keys {
		out[i] = []string{showName(k), s.settings[k], ""}
	}
	return out
}

// show returns a parameter's value.
func (s *Session) show(name string) (string, error) {
	name = strings.ToLower(name)
	switch name {
	case "transaction_isolation", "transaction isolation level":
		if s.tx != nil {
			return s.tx.iso.String(), nil
		}
		return s.isolation("").String(), nil
	case "transaction_read_only":
		if s.tx != nil && s.tx.readOnly {
			return "on", nil
		}
		return "off", nil
	}
	v, ok := s.settings[name]
	if !ok {
		return "", sqlerr.New(sqlerr.UndefinedObject, "unrecognized configuration parameter %q", name)
	}
	return v, nil
}
