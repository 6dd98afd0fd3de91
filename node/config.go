package node

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

// ServerConfig configures the gRPC and admin HTTP servers of one node.
// Daemons embed it in their own Config, usually as
//
//	Server node.ServerConfig `yaml:"server" flag:",inline"`
type ServerConfig struct {
	// GRPCAddr is the gRPC listen address, e.g. "127.0.0.1:7000" or ":0".
	GRPCAddr string `yaml:"grpc_addr" flag:"grpc-addr" usage:"gRPC listen address (host:port; port 0 picks a free port)"`
	// AdminAddr is the admin HTTP listen address; "" disables the admin server.
	AdminAddr string `yaml:"admin_addr" flag:"admin-addr" usage:"admin HTTP listen address for /metrics, /healthz, /readyz, /debug/pprof; empty disables it"`
	// TLS configures gRPC server TLS; the zero value means plaintext. The
	// admin server is always plaintext. A node dials its peers with the same
	// files: its certificate is its client certificate, the CA its roots.
	TLS TLSFiles `yaml:"tls" flag:",inline"`
	// Insecure says plaintext gRPC was asked for. Libraries serve plaintext
	// whenever TLS is unset; daemon binaries refuse to unless Insecure is
	// set (see RequireMutualTLS). It cannot be combined with TLS files.
	Insecure bool `yaml:"insecure" flag:"insecure" usage:"serve gRPC in plaintext, without TLS (only when asked: tests, trusted networks)"`
	// MaxRecvMsgBytes is the largest gRPC message the server accepts.
	MaxRecvMsgBytes int `yaml:"max_recv_msg_bytes" flag:"max-recv-msg-bytes" usage:"largest gRPC message the server receives, in bytes"`
	// MaxSendMsgBytes is the largest gRPC message the server sends.
	MaxSendMsgBytes int `yaml:"max_send_msg_bytes" flag:"max-send-msg-bytes" usage:"largest gRPC message the server sends, in bytes"`
	// ShutdownTimeout bounds the graceful stop; after it in-flight RPCs are
	// cancelled.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout" flag:"shutdown-timeout" usage:"how long a graceful stop waits for in-flight RPCs"`
}

// DefaultMaxMsgBytes is the default gRPC message size limit, both directions.
const DefaultMaxMsgBytes = 16 << 20

// DefaultServerConfig returns the defaults: gRPC on 127.0.0.1:7000, admin on
// 127.0.0.1:7100, plaintext, 16 MiB messages and a 10s shutdown deadline.
func DefaultServerConfig() ServerConfig {
	return ServerConfig{
		GRPCAddr:        "127.0.0.1:7000",
		AdminAddr:       "127.0.0.1:7100",
		MaxRecvMsgBytes: DefaultMaxMsgBytes,
		MaxSendMsgBytes: DefaultMaxMsgBytes,
		ShutdownTimeout: 10 * time.Second,
	}
}

// Validate reports the first invalid setting, naming its field.
func (c ServerConfig) Validate() error {
	if c.GRPCAddr == "" {
		return errors.New("node: grpc_addr must not be empty")
	}
	if _, _, err := net.SplitHostPort(c.GRPCAddr); err != nil {
		return fmt.Errorf("node: grpc_addr %q: %w", c.GRPCAddr, err)
	}
	if c.AdminAddr != "" {
		if _, _, err := net.SplitHostPort(c.AdminAddr); err != nil {
			return fmt.Errorf("node: admin_addr %q: %w", c.AdminAddr, err)
		}
	}
	if c.MaxRecvMsgBytes <= 0 {
		return errors.New("node: max_recv_msg_bytes must be > 0")
	}
	if c.MaxSendMsgBytes <= 0 {
		return errors.New("node: max_send_msg_bytes must be > 0")
	}
	if c.ShutdownTimeout <= 0 {
		return errors.New("node: shutdown_timeout must be > 0")
	}
	if c.Insecure && c.TLS.Enabled() {
		return errors.New("node: insecure cannot be combined with tls.cert, tls.key or tls.ca")
	}
	return c.TLS.validate(true)
}

// RequireMutualTLS returns an error unless the server runs mutual TLS
// (tls.cert, tls.key and tls.ca all set) or plaintext was asked for with
// Insecure. Daemon binaries call it so that a node never serves plaintext,
// or TLS without client certificates, by accident.
func (c ServerConfig) RequireMutualTLS() error {
	if c.Insecure {
		return nil
	}
	if c.TLS.CertFile == "" || c.TLS.KeyFile == "" || c.TLS.CAFile == "" {
		return errors.New("node: tls.cert, tls.key and tls.ca (--tls-cert, --tls-key, --tls-ca) must all be set for mutual TLS; " +
			"set insecure (--insecure) to serve plaintext")
	}
	return nil
}

// A configField is one flag-tagged leaf field of a config struct.
type configField struct {
	flag  string        // flag name, e.g. "data-dir"
	usage string        // flag usage text
	path  string        // Go field path for messages, e.g. "Server.GRPCAddr"
	v     reflect.Value // settable field value
}

var (
	durationType = reflect.TypeFor[time.Duration]()
	stringsType  = reflect.TypeFor[[]string]()
)

// configFields walks cfg, which must be a non-nil pointer to a struct, and
// returns its flag-tagged leaf fields. A struct field tagged `flag:",inline"`
// contributes its own fields under their names; a struct field tagged
// `flag:"name"` contributes them prefixed "name-". Untagged and unexported
// fields, and fields tagged `flag:"-"`, are skipped.
func configFields(cfg any) ([]configField, error) {
	rv := reflect.ValueOf(cfg)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("node: config must be a non-nil pointer to a struct, got %T", cfg)
	}
	var out []configField
	seen := make(map[string]string)
	var walk func(v reflect.Value, prefix, path string) error
	walk = func(v reflect.Value, prefix, path string) error {
		t := v.Type()
		for i := range t.NumField() {
			sf := t.Field(i)
			tag, ok := sf.Tag.Lookup("flag")
			if !ok || tag == "-" || !sf.IsExported() {
				continue
			}
			name, opt, _ := strings.Cut(tag, ",")
			fv := v.Field(i)
			fpath := path + sf.Name
			if sf.Type.Kind() == reflect.Struct {
				switch {
				case opt == "inline":
					if err := walk(fv, prefix, fpath+"."); err != nil {
						return err
					}
				case name != "":
					if err := walk(fv, prefix+name+"-", fpath+"."); err != nil {
						return err
					}
				default:
					return fmt.Errorf("node: config field %s: struct needs a flag name or \",inline\"", fpath)
				}
				continue
			}
			if name == "" {
				return fmt.Errorf("node: config field %s: empty flag name", fpath)
			}
			if !supportedKind(sf.Type) {
				return fmt.Errorf("node: config field %s: unsupported type %s", fpath, sf.Type)
			}
			full := prefix + name
			if other, dup := seen[full]; dup {
				return fmt.Errorf("node: config fields %s and %s both use flag %q", other, fpath, full)
			}
			seen[full] = fpath
			out = append(out, configField{flag: full, usage: sf.Tag.Get("usage"), path: fpath, v: fv})
		}
		return nil
	}
	if err := walk(rv.Elem(), "", ""); err != nil {
		return nil, err
	}
	return out, nil
}

func supportedKind(t reflect.Type) bool {
	if t == durationType {
		return true
	}
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int64, reflect.Uint64, reflect.Float64:
		return true
	case reflect.Slice:
		return t == stringsType
	}
	return false
}

// BindFlags registers one flag on fs per flag-tagged field of cfg, which must
// be a pointer to a struct. Supported field types are string, bool, int,
// int64, uint64, float64, time.Duration, []string and nested structs (see
// Load). The struct's current values become the flag defaults. Flags hold
// their own storage: parsing fs does not modify cfg; Load copies the flags
// that were set.
func BindFlags(fs *pflag.FlagSet, cfg any) error {
	fields, err := configFields(cfg)
	if err != nil {
		return err
	}
	for _, f := range fields {
		if fs.Lookup(f.flag) != nil {
			return fmt.Errorf("node: flag --%s (field %s) is already defined", f.flag, f.path)
		}
	}
	for _, f := range fields {
		switch v := f.v; {
		case v.Type() == durationType:
			fs.Duration(f.flag, time.Duration(v.Int()), f.usage)
		case v.Kind() == reflect.String:
			fs.String(f.flag, v.String(), f.usage)
		case v.Kind() == reflect.Bool:
			fs.Bool(f.flag, v.Bool(), f.usage)
		case v.Kind() == reflect.Int:
			fs.Int(f.flag, int(v.Int()), f.usage)
		case v.Kind() == reflect.Int64:
			fs.Int64(f.flag, v.Int(), f.usage)
		case v.Kind() == reflect.Uint64:
			fs.Uint64(f.flag, v.Uint(), f.usage)
		case v.Kind() == reflect.Float64:
			fs.Float64(f.flag, v.Float(), f.usage)
		case v.Kind() == reflect.Slice:
			fs.StringSlice(f.flag, append([]string(nil), v.Interface().([]string)...), f.usage)
		}
	}
	return nil
}

// Load fills cfg, a pointer to a struct holding defaults, from three sources
// applied in order so that later ones win:
//
//  1. the YAML file at yamlPath, if yamlPath is not empty; keys follow the
//     `yaml` tags, and an unknown key is an error naming it;
//  2. environment variables named envPrefix followed by the flag name in
//     upper snake case (prefix "CAIRN_RAFTKV_" and flag "data-dir" give
//     CAIRN_RAFTKV_DATA_DIR); a variable that is set, even empty, is applied,
//     []string values are comma separated, and an unparsable value is an
//     error naming the variable;
//  3. the flags of fs (registered by BindFlags) that were set on the command
//     line; fs may be nil.
//
// Load does not call Validate.
func Load(fs *pflag.FlagSet, cfg any, envPrefix, yamlPath string) error {
	fields, err := configFields(cfg)
	if err != nil {
		return err
	}
	if yamlPath != "" {
		if err := loadYAML(cfg, yamlPath); err != nil {
			return err
		}
	}
	for _, f := range fields {
		name := EnvName(envPrefix, f.flag)
		s, ok := os.LookupEnv(name)
		if !ok {
			continue
		}
		if err := setFromString(f.v, s); err != nil {
			return fmt.Errorf("node: environment variable %s: %w", name, err)
		}
	}
	if fs == nil {
		return nil
	}
	for _, f := range fields {
		fl := fs.Lookup(f.flag)
		if fl == nil || !fl.Changed {
			continue
		}
		if err := setFromFlag(fs, f); err != nil {
			return fmt.Errorf("node: flag --%s: %w", f.flag, err)
		}
	}
	return nil
}

// EnvName returns the environment variable Load reads for flag: prefix
// followed by the flag name upper-cased with '-' and '.' turned into '_'.
func EnvName(prefix, flag string) string {
	return prefix + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(flag))
}

func loadYAML(cfg any, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("node: config file: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("node: config file %s: %w", path, err)
	}
	return nil
}

func setFromString(v reflect.Value, s string) error {
	switch {
	case v.Type() == durationType:
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("invalid duration %q", s)
		}
		v.SetInt(int64(d))
	case v.Kind() == reflect.String:
		v.SetString(s)
	case v.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("invalid bool %q", s)
		}
		v.SetBool(b)
	case v.Kind() == reflect.Int, v.Kind() == reflect.Int64:
		n, err := strconv.ParseInt(s, 0, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("invalid integer %q", s)
		}
		v.SetInt(n)
	case v.Kind() == reflect.Uint64:
		n, err := strconv.ParseUint(s, 0, 64)
		if err != nil {
			return fmt.Errorf("invalid unsigned integer %q", s)
		}
		v.SetUint(n)
	case v.Kind() == reflect.Float64:
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("invalid number %q", s)
		}
		v.SetFloat(x)
	case v.Kind() == reflect.Slice:
		var list []string
		for part := range strings.SplitSeq(s, ",") {
			if part = strings.TrimSpace(part); part != "" {
				list = append(list, part)
			}
		}
		v.Set(reflect.ValueOf(list))
	default:
		return fmt.Errorf("unsupported type %s", v.Type())
	}
	return nil
}

func setFromFlag(fs *pflag.FlagSet, f configField) error {
	v := f.v
	switch {
	case v.Type() == durationType:
		d, err := fs.GetDuration(f.flag)
		if err != nil {
			return err
		}
		v.SetInt(int64(d))
	case v.Kind() == reflect.String:
		s, err := fs.GetString(f.flag)
		if err != nil {
			return err
		}
		v.SetString(s)
	case v.Kind() == reflect.Bool:
		b, err := fs.GetBool(f.flag)
		if err != nil {
			return err
		}
		v.SetBool(b)
	case v.Kind() == reflect.Int:
		n, err := fs.GetInt(f.flag)
		if err != nil {
			return err
		}
		v.SetInt(int64(n))
	case v.Kind() == reflect.Int64:
		n, err := fs.GetInt64(f.flag)
		if err != nil {
			return err
		}
		v.SetInt(n)
	case v.Kind() == reflect.Uint64:
		n, err := fs.GetUint64(f.flag)
		if err != nil {
			return err
		}
		v.SetUint(n)
	case v.Kind() == reflect.Float64:
		x, err := fs.GetFloat64(f.flag)
		if err != nil {
			return err
		}
		v.SetFloat(x)
	case v.Kind() == reflect.Slice:
		list, err := fs.GetStringSlice(f.flag)
		if err != nil {
			return err
		}
		v.Set(reflect.ValueOf(append([]string(nil), list...)))
	default:
		return fmt.Errorf("unsupported type %s", v.Type())
	}
	return nil
}
